"""The dask side of bench/dot.bench.ts: (a.dot(b)).sum() on random arrays, one numpy block product,
and (x + x.T).mean(axis=0).

usage: python3 dot_bench.py [--reps N] [--warmup N] [name ...]

Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version"}.
When dask cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, even under PYTHONSAFEPATH
import benchlib  # noqa: E402

with benchlib.needs("dask"):
    import dask.array as da

N = 4000
CHUNK = 1000


def dot_sum():
    a = da.random.random((N, N), chunks=CHUNK)
    b = da.random.random((N, N), chunks=CHUNK)
    total = a.dot(b).sum()
    return lambda: float(total.compute())


def gemm_1000():
    import numpy as np

    a = np.random.random((1000, 1000))
    b = np.random.random((1000, 1000))
    return lambda: float((a @ b)[3, 5])


def add_transpose_mean():
    x = da.random.random((10_000, 10_000), chunks=CHUNK)
    m = (x + x.T).mean(axis=0)
    return lambda: m.compute()


BENCHES = {"dot-sum-4000": dot_sum, "gemm-1000": gemm_1000, "add-transpose-mean": add_transpose_mean}
HEAVY = {"dot-sum-4000", "add-transpose-mean"}


def check(name, result):
    if name == "gemm-1000":
        return  # a product entry of random data: ~250, nothing exact to compare
    if name == "add-transpose-mean":
        if result.shape != (10_000,) or abs(result[17] - 1) > 0.05:
            raise AssertionError("%s computed %r at 17, expected about 1" % (name, result[17]))
        return
    expected = N ** 3 / 4
    if abs(result - expected) > 0.01 * expected:
        raise AssertionError("%s computed %r, expected about %r" % (name, result, expected))


def measure(name, reps, warmup):
    return benchlib.measure(name, BENCHES[name](), reps, warmup, check=lambda result: check(name, result))


def main():
    a = benchlib.parse_args(BENCHES, reps=3, warmup=1)
    # A dot-sum run takes seconds: at most 3 timed runs and 1 warm-up, as on our side.
    for name in a.names:
        reps, warmup = (min(a.reps, 3), min(a.warmup, 1)) if name in HEAVY else (a.reps, a.warmup)
        benchlib.report(name, lambda: measure(name, reps, warmup))


if __name__ == "__main__":
    main()
