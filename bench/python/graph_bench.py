"""The dask side of bench/graph.bench.ts: the same graphs, run by real dask.

usage: python3 graph_bench.py [--reps N] [--warmup N] [name ...]

Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version"}.
When dask cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, even under PYTHONSAFEPATH
import benchlib  # noqa: E402

with benchlib.needs("dask"):
    import dask
    import dask.local
    import dask.threaded

N = 10_000
INDEPENDENT_TOTAL = N * (N + 1) // 2


def inc(x):
    return x + 1


def independent_graph(n):
    g = {}
    keys = []
    for i in range(n):
        k = "x_%d" % i
        g[k] = (inc, i)
        keys.append(k)
    g["total"] = (sum, keys)
    return g


def chain_graph(n):
    g = {"x_0": 0}
    for i in range(1, n):
        g["x_%d" % i] = (inc, "x_%d" % (i - 1))
    return g


def independent(get):
    g = independent_graph(N)
    return (lambda: get(g, "total")), N + 1, INDEPENDENT_TOTAL


def chain(get):
    g = chain_graph(N)
    last = "x_%d" % (N - 1)
    return (lambda: get(g, last)), N, N - 1


def delayed_build_compute():
    def run():
        dinc = dask.delayed(inc)
        xs = [dinc(i) for i in range(N)]
        return dask.delayed(sum)(xs).compute()  # default scheduler for delayed: threads

    return run, N + 1, INDEPENDENT_TOTAL


BENCHES = {
    "independent-sync": lambda: independent(dask.local.get_sync),
    "independent-threads": lambda: independent(dask.threaded.get),
    "chain-sync": lambda: chain(dask.local.get_sync),
    "chain-threads": lambda: chain(dask.threaded.get),
    "delayed-build-compute": delayed_build_compute,
}


def measure(name, reps, warmup):
    fn, n_tasks, expected = BENCHES[name]()

    def check(result):
        if result != expected:
            raise AssertionError("%s computed %r, expected %r" % (name, result, expected))

    return benchlib.measure(name, fn, reps, warmup, n_tasks, check=check)


def main():
    a = benchlib.parse_args(BENCHES, reps=15, warmup=3)
    for name in a.names:
        benchlib.report(
            name, lambda: measure(name, a.reps, a.warmup), skip=(RecursionError, "hit Python's recursion limit")
        )


if __name__ == "__main__":
    main()
