"""The dask side of bench/bag.bench.ts: word count with dask.bag on the same files.

usage: python3 bag_bench.py [--reps N] [--warmup N] [--data DIR] [name ...]

The files are the ones bench/bag.bench.ts generated into bench/.data/words/ (listed in its
manifest.json); run the TypeScript side first (npm run bench -- word-count) to make them.

Prints one JSON line per benchmark: {"name", "median_s", "min_s", "n_tasks", "reps",
"dask_version"} plus, for word-count, the figure of each scheduler ("processes_median_s",
"threads_median_s", ...), which one was best ("best"), and the top ten ("top10"). median_s and
min_s are those of the best scheduler (lowest median). When dask cannot be imported, prints
{"absent": "<reason>"} and exits 0.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import dask
    import dask.bag as db
except Exception as e:  # noqa: BLE001 - any import failure means "no dask here"
    print(json.dumps({"absent": "dask not importable by %s: %s" % (sys.executable, e)}), flush=True)
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", ".data", "words")
# This workload takes seconds per run: at most this many timed runs and warm-ups per scheduler.
MAX_REPS = 3
MAX_WARMUP = 1


def data_files(data_dir):
    manifest = os.path.join(data_dir, "manifest.json")
    if not os.path.exists(manifest):
        raise FileNotFoundError(
            "%s is missing: run the TypeScript side first (npm run bench -- word-count)" % manifest
        )
    with open(manifest) as f:
        m = json.load(f)
    files = [os.path.join(data_dir, x["name"]) for x in m["files"]]
    for x, path in zip(m["files"], files):
        if os.path.getsize(path) != x["size"]:
            raise RuntimeError("%s does not have the size in the manifest; regenerate the data" % path)
    return files


def word_count(files, scheduler):
    b = db.read_text(files).str.split().flatten().frequencies().topk(10, key=1)
    return [list(t) for t in b.compute(scheduler=scheduler)]


def time_runs(fn, reps, warmup):
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def measure_word_count(reps, warmup, data_dir):
    files = data_files(data_dir)
    reps = max(1, min(reps, MAX_REPS))
    warmup = min(warmup, MAX_WARMUP)
    out = {"name": "word-count", "n_tasks": 1, "reps": reps, "dask_version": dask.__version__, "files": len(files)}
    tops = {}
    for scheduler in ("processes", "threads"):
        print("  dask: word-count, %s scheduler ..." % scheduler, file=sys.stderr, flush=True)
        times, top = time_runs(lambda: word_count(files, scheduler), reps, warmup)
        out["%s_median_s" % scheduler] = statistics.median(times)
        out["%s_min_s" % scheduler] = min(times)
        tops[scheduler] = top
    if tops["processes"] != tops["threads"]:
        raise AssertionError("dask's schedulers disagree: %r vs %r" % (tops["processes"], tops["threads"]))
    best = min(("processes", "threads"), key=lambda s: out["%s_median_s" % s])
    out["best"] = best
    out["median_s"] = out["%s_median_s" % best]
    out["min_s"] = out["%s_min_s" % best]
    out["top10"] = tops["processes"]
    return out


BENCHES = {"word-count": measure_word_count}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=MAX_REPS)
    p.add_argument("--warmup", type=int, default=MAX_WARMUP)
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    names = a.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        p.error("unknown benchmark(s) %s; known: %s" % (", ".join(unknown), ", ".join(BENCHES)))
    for name in names:
        print("  dask: %s ..." % name, file=sys.stderr, flush=True)
        try:
            print(json.dumps(BENCHES[name](a.reps, a.warmup, a.data)), flush=True)
        except (FileNotFoundError, RuntimeError) as e:
            print("  dask: %s skipped: %s" % (name, e), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
