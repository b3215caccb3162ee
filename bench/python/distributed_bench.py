"""The dask side of bench/distributed.bench.ts: the same work on dask.distributed.

usage: python3 distributed_bench.py [--reps N] [--warmup N] [name ...]

One LocalCluster(n_workers=2, threads_per_worker=1, processes=True) and its Client are started
once, before the first benchmark (not timed), and closed after the last. Every run uses fresh keys.
Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version"}.
When dask or distributed cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import argparse
import itertools
import json
import logging
import statistics
import sys
import time

try:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster
except Exception as e:  # noqa: BLE001 - any import failure means "no dask here"
    print(json.dumps({"absent": "dask.distributed not importable by %s: %s" % (sys.executable, e)}), flush=True)
    sys.exit(0)

N = 10_000
ROUNDTRIP_SAMPLES = 200
ROUNDTRIP_WARMUP = 20
MAX_REPS = 3
RANDOM_N = 10**8
RANDOM_MAX_REPS = 3

_fresh = itertools.count(1_000_000)


def fresh(n=1):
    """The first of n unused integers."""
    lo = next(_fresh)
    for _ in range(n - 1):
        next(_fresh)
    return lo


def inc(x):
    return x + 1


def sum_range(lo, n):
    return n * lo + n * (n + 1) // 2


def check(name, got, expected):
    if got != expected:
        raise AssertionError("%s computed %r, expected %r" % (name, got, expected))


def result(name, times, n_tasks):
    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "n_tasks": n_tasks,
        "reps": len(times),
        "dask_version": dask.__version__,
    }


def repeat(name, run, reps, warmup, n_tasks, warm=None):
    """warm (default run) untimed `warmup` times, then run timed `reps` times; run checks itself."""
    for _ in range(warmup):
        (warm or run)()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return result(name, times, n_tasks)


def roundtrip(client, reps, warmup):
    times = []
    for s in range(ROUNDTRIP_WARMUP + ROUNDTRIP_SAMPLES):
        i = fresh()
        t0 = time.perf_counter()
        r = client.submit(inc, i).result()
        dt = time.perf_counter() - t0
        check("dist-roundtrip", r, i + 1)
        if s >= ROUNDTRIP_WARMUP:
            times.append(dt)
    return result("dist-roundtrip", times, 1)


def map_gather(client, reps, warmup):
    def run(n=N):
        lo = fresh(n)
        futures = client.map(inc, range(lo, lo + n))
        check("dist-map-gather", sum(client.gather(futures)), sum_range(lo, n))
        del futures

    # dask takes ~20 s per 10,000 here: warm up on 1,000.
    return repeat("dist-map-gather", run, min(reps, MAX_REPS), min(warmup, 1), N, warm=lambda: run(1000))


def get(client, reps, warmup):
    def run(n=N):
        lo = fresh(n)
        g = {}
        keys = []
        for i in range(n):
            k = "g%d-x_%d" % (lo, i)
            g[k] = (inc, lo + i)
            keys.append(k)
        g["g%d-total" % lo] = (sum, keys)
        check("dist-get", client.get(g, "g%d-total" % lo), sum_range(lo, n))

    return repeat("dist-get", run, min(reps, MAX_REPS), min(warmup, 1), N + 1, warm=lambda: run(1000))


def random_sum(client, reps, warmup):
    def run():
        mean = float(da.random.random(RANDOM_N, chunks=10**6).sum().compute()) / RANDOM_N
        if abs(mean - 0.5) > 1e-3:
            raise AssertionError("dist-random-sum: mean %r, expected about 0.5" % mean)

    return repeat("dist-random-sum", run, min(reps, RANDOM_MAX_REPS), min(warmup, 1), 1)


BENCHES = {
    "dist-roundtrip": roundtrip,
    "dist-map-gather": map_gather,
    "dist-get": get,
    "dist-random-sum": random_sum,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    names = a.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        p.error("unknown benchmark(s) %s; known: %s" % (", ".join(unknown), ", ".join(BENCHES)))
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)  # the default scheduler for .compute() from here on
    try:
        for name in names:
            print("  dask: %s ..." % name, file=sys.stderr, flush=True)
            print(json.dumps(BENCHES[name](client, a.reps, a.warmup)), flush=True)
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
