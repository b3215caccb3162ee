"""The dask side of bench/array.bench.ts: da.random.random(n, chunks=1e6).sum() on threads.

usage: python3 array_bench.py [--reps N] [--warmup N] [name ...]

Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps", "dask_version",
"max_rss_bytes"}. max_rss_bytes is this process's peak resident set size after the benchmark
(VmHWM; benchmarks run smallest first, so each peak is its own or a smaller one's).
When dask cannot be imported, prints {"absent": "<reason>"} and exits 0.
"""
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, even under PYTHONSAFEPATH
import benchlib  # noqa: E402

with benchlib.needs("dask"):
    import dask.array as da

CHUNK = 1_000_000


def random_mean(n):
    return lambda: float(da.random.random(n, chunks=CHUNK).sum().compute()) / n


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

    def check(mean):
        if abs(mean - 0.5) > 1e-3:
            raise AssertionError("%s: mean %r, expected about 0.5" % (name, mean))

    times, _ = benchlib.time_runs(
        random_mean(n), max(1, min(reps, max_reps)), min(warmup, 1), warm=random_mean(warmup_n), check=check, progress=name
    )
    return benchlib.result(name, times, max_rss_bytes=peak_rss_bytes())


def main():
    a = benchlib.parse_args(BENCHES, reps=5, warmup=1)
    for name in sorted(a.names, key=lambda n: BENCHES[n][0]):
        benchlib.report(name, lambda: measure(name, a.reps, a.warmup))


if __name__ == "__main__":
    main()
