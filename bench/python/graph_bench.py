"""The dask side of bench/graph.bench.ts: the same graphs, run by real dask.

usage: python3 graph_bench.py [--reps N] [--warmup N] [name ...]

Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version"}.
When dask cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import dask
    import dask.local
    import dask.threaded
except Exception as e:  # noqa: BLE001 - any import failure means "no dask here"
    print(json.dumps({"absent": "dask not importable by %s: %s" % (sys.executable, e)}), flush=True)
    sys.exit(0)

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
    for _ in range(warmup):
        check(name, fn(), expected)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        check(name, result, expected)
    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "n_tasks": n_tasks,
        "reps": reps,
        "dask_version": dask.__version__,
    }


def check(name, result, expected):
    if result != expected:
        raise AssertionError("%s computed %r, expected %r" % (name, result, expected))


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
    for name in names:
        print("  dask: %s ..." % name, file=sys.stderr, flush=True)
        try:
            print(json.dumps(measure(name, a.reps, a.warmup)), flush=True)
        except RecursionError as e:
            print("  dask: %s hit Python's recursion limit: %s" % (name, e), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
