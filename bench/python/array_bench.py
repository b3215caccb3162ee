"""The dask side of bench/array.bench.ts: da.random.random(n, chunks=1e6).sum() on threads.

usage: python3 array_bench.py [--reps N] [--warmup N] [name ...]

Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version",
"max_rss_bytes"}. max_rss_bytes is this process's peak resident set size after the benchmark
(VmHWM; benchmarks run smallest first, so each peak is its own or a smaller one's).
When dask cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import argparse
import json
import resource
import statistics
import sys
import time

try:
    import dask
    import dask.array as da
except Exception as e:  # noqa: BLE001 - any import failure means "no dask here"
    print(json.dumps({"absent": "dask not importable by %s: %s" % (sys.executable, e)}), flush=True)
    sys.exit(0)

CHUNK = 1_000_000


def random_sum(n):
    return lambda: float(da.random.random(n, chunks=CHUNK).sum().compute())


# name: (size, at most this many timed runs, size of the warm-up run)
BENCHES = {
    "random-sum-1e8": (10**8, 5, 10**8),
    "random-sum-1e9": (10**9, 3, 10**8),
}


def peak_rss_bytes():
    """VmHWM: ru_maxrss is inherited from the parent across fork and exec on Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(name, reps, warmup):
    n, max_reps, warmup_n = BENCHES[name]
    for _ in range(min(warmup, 1)):
        random_sum(warmup_n)()
    times = []
    for i in range(max(1, min(reps, max_reps))):
        t0 = time.perf_counter()
        total = random_sum(n)()
        times.append(time.perf_counter() - t0)
        print("  dask: %s run %d: %.3f s" % (name, i + 1, times[-1]), file=sys.stderr, flush=True)
        if abs(total / n - 0.5) > 1e-3:
            raise AssertionError("%s: mean %r, expected about 0.5" % (name, total / n))
    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "n_tasks": 1,
        "reps": len(times),
        "dask_version": dask.__version__,
        "max_rss_bytes": peak_rss_bytes(),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    names = a.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        p.error("unknown benchmark(s) %s; known: %s" % (", ".join(unknown), ", ".join(BENCHES)))
    for name in sorted(names, key=lambda n: BENCHES[n][0]):
        print("  dask: %s ..." % name, file=sys.stderr, flush=True)
        print(json.dumps(measure(name, a.reps, a.warmup)), flush=True)


if __name__ == "__main__":
    main()
