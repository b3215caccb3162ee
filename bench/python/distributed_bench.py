"""The dask side of bench/distributed.bench.ts: the same work on dask.distributed.

usage: python3 distributed_bench.py [--reps N] [--warmup N] [name ...]

One LocalCluster(n_workers=2, threads_per_worker=1, processes=True) and its Client are started
once, before the first benchmark (not timed), and closed after the last. Every run uses fresh keys.
Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version"}.
When dask or distributed cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import contextlib
import itertools
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, even under PYTHONSAFEPATH
import benchlib  # noqa: E402

with benchlib.needs("dask.distributed"):
    import dask.array as da
    from distributed import Client, LocalCluster

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
    return benchlib.result("dist-roundtrip", times, 1)


def map_gather(client, reps, warmup):
    def run(n=N):
        lo = fresh(n)
        futures = client.map(inc, range(lo, lo + n))
        check("dist-map-gather", sum(client.gather(futures)), sum_range(lo, n))
        del futures

    # dask takes ~20 s per 10,000 here: warm up on 1,000.
    return benchlib.measure("dist-map-gather", run, min(reps, MAX_REPS), min(warmup, 1), N, warm=lambda: run(1000))


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

    return benchlib.measure("dist-get", run, min(reps, MAX_REPS), min(warmup, 1), N + 1, warm=lambda: run(1000))


def random_sum(client, reps, warmup):
    def run():
        mean = float(da.random.random(RANDOM_N, chunks=10**6).sum().compute()) / RANDOM_N
        if abs(mean - 0.5) > 1e-3:
            raise AssertionError("dist-random-sum: mean %r, expected about 0.5" % mean)

    return benchlib.measure("dist-random-sum", run, min(reps, RANDOM_MAX_REPS), min(warmup, 1))


BENCHES = {
    "dist-roundtrip": roundtrip,
    "dist-map-gather": map_gather,
    "dist-get": get,
    "dist-random-sum": random_sum,
}


@contextlib.contextmanager
def local_client():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)  # the default scheduler for .compute() from here on
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def main():
    a = benchlib.parse_args(BENCHES, reps=15, warmup=3)
    with local_client() as client:
        for name in a.names:
            benchlib.report(name, lambda: BENCHES[name](client, a.reps, a.warmup))


if __name__ == "__main__":
    main()
