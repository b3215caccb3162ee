// Large blocks of shared memory that are reused once freed, for the comm's large frames
// (src/schedulers/block-pool.ts).
//
// Why native: a block JavaScript allocates is the allocator's, and glibc maps every block above
// 32 MB afresh and unmaps it on free, so each large frame a process receives lands in pages that
// fault on first touch (~0.45 ms per MB in this VM, about as much as the copy out of the socket).
// Worker processes we start are given allocator settings that keep freed memory; a client process
// is not ours to start. Here the memory is mapped by us, handed to V8 as a SharedArrayBuffer's
// backing store, and V8 calls OnFree when the last SharedArrayBuffer of every thread that held it
// is gone: the block then waits in a free list for the next frame of about its size.
//
// Why V8's API rather than N-API: N-API runs an external buffer's finalizer on a later turn of
// the event loop, and the comm's collection right before the next frame's allocation would not
// get the block back in time; V8 calls a backing store's deleter within the collection's sweep.
//
// OnFree may run on any thread (the main thread, a worker thread's collection, V8's background
// sweeper), so the free list is one per process behind a mutex. It keeps at most max_free bytes
// (least recently freed blocks are unmapped first). A reused block holds old bytes: the comm
// writes a frame's every byte before anyone sees it, so nothing here zeroes it.
#include <node.h>
#include <sys/mman.h>

#include <cstdint>
#include <cmath>
#include <mutex>
#include <vector>

namespace {

constexpr size_t kGranule = size_t{2} << 20;  // capacities in 2 MiB steps, so sizes that differ a little share blocks

struct Block {
  void* data;
  size_t capacity;
};

struct Pool {
  std::mutex mu;
  std::vector<Block> free;  // in the order freed: front = least recently
  size_t free_bytes = 0;
  size_t max_free = size_t{256} << 20;
  double mapped = 0, reused = 0, unmapped = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: a deleter may run while the process exits
  return *p;
}

void UnmapAll(std::vector<Block>& blocks) {
  for (const Block& b : blocks) munmap(b.data, b.capacity);
}

// Called with the lock held: moves blocks past the limit into `out`, to be unmapped unlocked.
void EvictOverLimit(Pool& p, std::vector<Block>& out) {
  size_t drop = 0;
  while (drop < p.free.size() && p.free_bytes > p.max_free) {
    p.free_bytes -= p.free[drop].capacity;
    out.push_back(p.free[drop]);
    drop++;
  }
  p.free.erase(p.free.begin(), p.free.begin() + drop);
  p.unmapped += static_cast<double>(drop);
}

void OnFree(void* data, size_t, void* capacity) {
  Pool& p = pool();
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.free.push_back({data, reinterpret_cast<size_t>(capacity)});
    p.free_bytes += reinterpret_cast<size_t>(capacity);
    EvictOverLimit(p, evicted);
  }
  UnmapAll(evicted);
}

bool ByteCount(v8::Isolate* isolate, v8::Local<v8::Value> v, const char* what, size_t* out) {
  double d = v->IsNumber() ? v.As<v8::Number>()->Value() : NAN;
  if (!(d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d)) {
    isolate->ThrowException(v8::Exception::TypeError(
        v8::String::NewFromUtf8(isolate, what).ToLocalChecked()));
    return false;
  }
  *out = static_cast<size_t>(d);
  return true;
}

// allocate(bytes): a SharedArrayBuffer of `bytes` (>= 1) over a pooled block.
void Allocate(const v8::FunctionCallbackInfo<v8::Value>& args) {
  v8::Isolate* isolate = args.GetIsolate();
  size_t n;
  if (!ByteCount(isolate, args[0], "blockPool.allocate: bytes must be a non-negative integer", &n)) return;
  if (n == 0) {
    isolate->ThrowException(v8::Exception::RangeError(
        v8::String::NewFromUtf8(isolate, "blockPool.allocate: bytes must be at least 1").ToLocalChecked()));
    return;
  }
  size_t capacity = (n + kGranule - 1) / kGranule * kGranule;
  void* data = nullptr;
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    // The smallest free block that fits without wasting more than a quarter; among equals the
    // most recently freed (its pages are the likeliest to be resident still).
    size_t best = p.free.size();
    for (size_t i = 0; i < p.free.size(); i++) {
      size_t c = p.free[i].capacity;
      if (c < capacity || c > capacity + capacity / 4) continue;
      if (best == p.free.size() || c <= p.free[best].capacity) best = i;
    }
    if (best != p.free.size()) {
      data = p.free[best].data;
      capacity = p.free[best].capacity;
      p.free_bytes -= capacity;
      p.free.erase(p.free.begin() + best);
      p.reused++;
    }
  }
  if (data == nullptr) {
    data = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
      isolate->ThrowException(v8::Exception::RangeError(
          v8::String::NewFromUtf8(isolate, "blockPool.allocate: the system refused to map the memory").ToLocalChecked()));
      return;
    }
    std::lock_guard<std::mutex> lock(p.mu);
    p.mapped++;
  }
  std::unique_ptr<v8::BackingStore> store =
      v8::SharedArrayBuffer::NewBackingStore(data, n, OnFree, reinterpret_cast<void*>(capacity));
  args.GetReturnValue().Set(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

void Set(v8::Isolate* isolate, v8::Local<v8::Object> o, const char* key, double value) {
  o->Set(isolate->GetCurrentContext(), v8::String::NewFromUtf8(isolate, key).ToLocalChecked(),
         v8::Number::New(isolate, value))
      .Check();
}

// stats(): counters since the process started, and the free list now.
void Stats(const v8::FunctionCallbackInfo<v8::Value>& args) {
  v8::Isolate* isolate = args.GetIsolate();
  v8::Local<v8::Object> o = v8::Object::New(isolate);
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  Set(isolate, o, "mapped", p.mapped);
  Set(isolate, o, "reused", p.reused);
  Set(isolate, o, "unmapped", p.unmapped);
  Set(isolate, o, "freeBlocks", static_cast<double>(p.free.size()));
  Set(isolate, o, "freeBytes", static_cast<double>(p.free_bytes));
  Set(isolate, o, "maxFreeBytes", static_cast<double>(p.max_free));
  args.GetReturnValue().Set(o);
}

// setMaxFreeBytes(bytes): how much freed memory waits for reuse; blocks past it are unmapped now.
void SetMaxFreeBytes(const v8::FunctionCallbackInfo<v8::Value>& args) {
  v8::Isolate* isolate = args.GetIsolate();
  size_t n;
  if (!ByteCount(isolate, args[0], "blockPool.setMaxFreeBytes: bytes must be a non-negative integer", &n)) return;
  Pool& p = pool();
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.max_free = n;
    EvictOverLimit(p, evicted);
  }
  UnmapAll(evicted);
}

}  // namespace

NODE_MODULE_INIT() {
  NODE_SET_METHOD(exports, "allocate", Allocate);
  NODE_SET_METHOD(exports, "stats", Stats);
  NODE_SET_METHOD(exports, "setMaxFreeBytes", SetMaxFreeBytes);
}
