/**
 * Runs the dask side: one Python process per script, given every selected benchmark name and the
 * repetition counts; each prints one JSON line per benchmark. When /usr/bin/python3 cannot
 * import dask the scripts say so, and we report dask as absent instead of failing.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PYTHON = process.env.DASK_BENCH_PYTHON ?? '/usr/bin/python3';
const PY_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'python');
const TIMEOUT_MS = 15 * 60 * 1000;

export interface DaskMeasurement {
  readonly name: string;
  readonly median_s: number;
  readonly min_s: number;
  readonly n_tasks: number;
  readonly reps?: number;
  readonly dask_version?: string;
}

export type DaskRun =
  | { readonly ok: true; readonly results: ReadonlyMap<string, DaskMeasurement>; readonly version?: string }
  | { readonly ok: false; readonly reason: string };

/** Runs `bench/python/<script> --reps R --warmup W name...` and parses its JSON lines. */
export function runDask(script: string, names: readonly string[], reps: number, warmup: number): DaskRun {
  const file = path.join(PY_DIR, script);
  const res = spawnSync(PYTHON, [file, '--reps', String(reps), '--warmup', String(warmup), ...names], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'], // progress on stderr goes straight through
    timeout: TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: `${PYTHON} not found` };
    return { ok: false, reason: `${PYTHON} ${script}: ${res.error.message}` };
  }
  const results = new Map<string, DaskMeasurement>();
  let absent: string | undefined;
  for (const line of res.stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(t) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof obj.absent === 'string') absent = obj.absent;
    else if (typeof obj.name === 'string' && typeof obj.median_s === 'number') results.set(obj.name, obj as unknown as DaskMeasurement);
  }
  if (absent !== undefined) return { ok: false, reason: absent };
  if (res.status !== 0 && results.size === 0) {
    return { ok: false, reason: `${script} exited with ${res.status ?? res.signal}` };
  }
  const version = [...results.values()].find((r) => r.dask_version)?.dask_version;
  return { ok: true, results, version };
}
