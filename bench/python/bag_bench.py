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
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, even under PYTHONSAFEPATH
import benchlib  # noqa: E402

with benchlib.needs("dask"):
    import dask.bag as db

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


def measure_word_count(reps, warmup, data_dir):
    files = data_files(data_dir)
    reps = max(1, min(reps, MAX_REPS))
    warmup = min(warmup, MAX_WARMUP)
    figures = {}
    tops = {}
    for scheduler in ("processes", "threads"):
        print("  dask: word-count, %s scheduler ..." % scheduler, file=sys.stderr, flush=True)
        figures[scheduler], tops[scheduler] = benchlib.time_runs(lambda: word_count(files, scheduler), reps, warmup)
    if tops["processes"] != tops["threads"]:
        raise AssertionError("dask's schedulers disagree: %r vs %r" % (tops["processes"], tops["threads"]))
    per_scheduler = {}
    for scheduler, times in figures.items():
        per_scheduler["%s_median_s" % scheduler] = statistics.median(times)
        per_scheduler["%s_min_s" % scheduler] = min(times)
    best = min(figures, key=lambda s: per_scheduler["%s_median_s" % s])
    return benchlib.result(
        "word-count", figures[best], files=len(files), **per_scheduler, best=best, top10=tops["processes"]
    )


BENCHES = {"word-count": measure_word_count}


def main():
    a = benchlib.parse_args(
        BENCHES, reps=MAX_REPS, warmup=MAX_WARMUP, add_arguments=lambda p: p.add_argument("--data", default=DEFAULT_DATA)
    )
    missing_data = ((FileNotFoundError, RuntimeError), "skipped")
    for name in a.names:
        benchlib.report(name, lambda: BENCHES[name](a.reps, a.warmup, a.data), skip=missing_data)


if __name__ == "__main__":
    main()
