"""The dask side of bench/distributed-data.bench.ts: moving data on dask.distributed.

usage: python3 distributed_data_bench.py [--reps N] [--warmup N] [name ...]

Workers are processes (LocalCluster(processes=True), 1 thread each): a 2-worker cluster for
scatter, gather and the worker-to-worker move, a 4-worker one for the broadcast, each started on
first use (not timed). The data is numpy float64 random numbers. Every run uses fresh keys and
releases the previous run's data first. At most 5 timed runs after at most 1 warm-up.
Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version"}.
When dask or distributed cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, even under PYTHONSAFEPATH
import benchlib  # noqa: E402

with benchlib.needs("dask.distributed"):
    import numpy as np
    from distributed import Client, LocalCluster, wait

MB = 10**6
MAX_REPS = 5

_clusters = {}


def cluster(n):
    """A cluster of n worker processes and its client, started on first use."""
    if n not in _clusters:
        c = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
        _clusters[n] = (c, Client(c, set_as_default=False))
    return _clusters[n]


def close_all():
    for c, client in _clusters.values():
        client.close()
        c.close()


def timed(name, reps, warmup, setup, run, teardown):
    """setup untimed, run timed, teardown untimed; at most 1 warm-up round first."""
    times = []
    w = min(warmup, 1)
    for i in range(w + max(1, min(reps, MAX_REPS))):
        s = setup(i)
        t0 = time.perf_counter()
        run(s)
        dt = time.perf_counter() - t0
        teardown(s)
        if i >= w:
            times.append(dt)
    return benchlib.result(name, times)


_x100 = None


def array100():
    global _x100
    if _x100 is None:
        _x100 = np.random.random(100 * MB // 8)
    return _x100


def check(name, ok, what):
    if not ok:
        raise AssertionError("%s: %s" % (name, what))


def scatter_bench(name, hash_):
    def bench(reps, warmup):
        _, client = cluster(2)
        x = array100()

        def setup(i):
            x[0] = i + np.random.random()  # new content, so that a hashed key is new too
            return {}

        def run(s):
            s["f"] = client.scatter(x, hash=hash_)

        def teardown(s):
            check(name, s["f"].status == "finished", "status %s" % s["f"].status)
            s["f"].release()

        return timed(name, reps, warmup, setup, run, teardown)

    return bench


def gather(reps, warmup):
    _, client = cluster(2)
    x = array100()

    def setup(i):
        return {"f": client.scatter(x, hash=False)}

    def run(s):
        s["got"] = client.gather(s["f"])

    def teardown(s):
        check("data-gather-100mb", s["got"].shape == x.shape and s["got"][7] == x[7], "wrong data")
        s["f"].release()

    return timed("data-gather-100mb", reps, warmup, setup, run, teardown)


def broadcast(reps, warmup):
    _, client = cluster(4)
    x = array100()

    def setup(i):
        return {}

    def run(s):
        s["f"] = client.scatter(x, broadcast=True, hash=False)

    def teardown(s):
        who = client.who_has(s["f"])[s["f"].key]
        check("data-broadcast-100mb", len(who) == 4, "held by %d workers" % len(who))
        s["f"].release()

    return timed("data-broadcast-100mb", reps, warmup, setup, run, teardown)


def move(reps, warmup):
    _, client = cluster(2)
    a, b = list(client.scheduler_info()["workers"])
    x = np.random.random(200 * MB // 8)

    def setup(i):
        return {"d": client.scatter(x, workers=[a], hash=False)}

    def run(s):
        s["n"] = client.submit(len, s["d"], workers=[b], pure=False).result()

    def teardown(s):
        check("data-move-200mb", s["n"] == len(x), "computed %r" % s["n"])
        s["d"].release()

    return timed("data-move-200mb", reps, warmup, setup, run, teardown)


BENCHES = {
    "data-scatter-100mb": scatter_bench("data-scatter-100mb", False),
    "data-scatter-100mb-hashed": scatter_bench("data-scatter-100mb-hashed", True),
    "data-gather-100mb": gather,
    "data-broadcast-100mb": broadcast,
    "data-move-200mb": move,
}


def main():
    a = benchlib.parse_args(BENCHES, reps=15, warmup=3)
    try:
        for name in a.names:
            benchlib.report(name, lambda: BENCHES[name](a.reps, a.warmup))
    finally:
        close_all()


if __name__ == "__main__":
    main()
