"""What the dask-side benchmark scripts share: the import guard, the command line, the timing
loop and the JSON line per benchmark that bench/lib/dask.ts parses.

A script imports this module by name: Python puts the running script's directory first on
sys.path, and each script also inserts it itself in case PYTHONSAFEPATH (or -P) is set.
"""
import argparse
import contextlib
import json
import statistics
import sys
import time


@contextlib.contextmanager
def needs(what):
    """Wrap a script's imports: if any fails, print {"absent": reason} and exit 0, because a
    machine without dask is a normal case for the runner, not an error."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - any import failure means "no dask here"
        print(json.dumps({"absent": "%s not importable by %s: %s" % (what, sys.executable, e)}), flush=True)
        sys.exit(0)


def parse_args(benches, reps, warmup, add_arguments=None):
    """--reps, --warmup and benchmark names (default: all of `benches`, in its order); unknown
    names are a usage error. add_arguments(parser) adds a script's own options."""
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=reps)
    p.add_argument("--warmup", type=int, default=warmup)
    if add_arguments:
        add_arguments(p)
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    a.names = a.names or list(benches)
    unknown = [n for n in a.names if n not in benches]
    if unknown:
        p.error("unknown benchmark(s) %s; known: %s" % (", ".join(unknown), ", ".join(benches)))
    return a


def report(name, measure, skip=None):
    """Print measure()'s figures as one JSON line. skip=(exception types, what): such an exception
    means this benchmark cannot run here, so say what on stderr and carry on with the next."""
    skippable = skip[0] if skip else ()
    print("  dask: %s ..." % name, file=sys.stderr, flush=True)
    try:
        print(json.dumps(measure()), flush=True)
    except skippable as e:
        print("  dask: %s %s: %s" % (name, skip[1], e), file=sys.stderr, flush=True)


def time_runs(run, reps, warmup, warm=None, check=None, progress=None):
    """Call warm (default: run) `warmup` times untimed, then run `reps` times timed; check(result)
    after every call, outside the timing. progress=name prints each timed run on stderr.
    Returns (the timed runs' seconds, the last result)."""
    result = None
    for _ in range(warmup):
        result = (warm or run)()
        if check:
            check(result)
    times = []
    for i in range(reps):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
        if progress:
            print("  dask: %s run %d: %.3f s" % (progress, i + 1, times[-1]), file=sys.stderr, flush=True)
        if check:
            check(result)
    return times, result


def result(name, times, n_tasks=1, **extra):
    """The JSON object of one benchmark; `extra` adds a script's own fields."""
    import dask  # already imported by the script (under needs), so this is a lookup

    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "n_tasks": n_tasks,
        "reps": len(times),
        "dask_version": dask.__version__,
        **extra,
    }


def measure(name, run, reps, warmup, n_tasks=1, warm=None, check=None):
    """time_runs, then result."""
    return result(name, time_runs(run, reps, warmup, warm=warm, check=check)[0], n_tasks)
