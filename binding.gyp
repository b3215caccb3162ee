{
  "targets": [
    {
      "target_name": "block_pool",
      "sources": ["native/block-pool.cc"],
      "cflags_cc": ["-Wno-cast-function-type"]
    }
  ]
}
