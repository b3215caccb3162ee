/**
 * Moving data on a cluster, against dask.distributed: scatter and gather of 100 MB, a broadcast of
 * 100 MB to 4 workers, and a 200 MB dependency moved from one worker to another. The data is a
 * Float64Array of random numbers (numpy float64 on the dask side), which lz4 cannot shrink, so
 * every byte travels.
 *
 * Both sides run their workers as processes: ours `LocalCluster.start({ processes: true })` (each
 * worker a `dworker` child process), dask `LocalCluster(processes=True)`; 1 thread per worker.
 * A 2-worker cluster serves scatter, gather and the move, a 4-worker one the broadcast; each is
 * started on first use (not timed) and closed after the module's last benchmark.
 *
 * What is timed (each run on fresh keys, the previous run's data released first):
 * - data-scatter-100mb: `scatter([x], { hash: false })` until the scheduler knows the data
 *   (dask: `scatter(x, hash=False)`); -hashed: the same with keys from the content (both sides'
 *   default: md5 of the bytes here, sha1 in dask), which costs about as much as the sending.
 * - data-gather-100mb: `gather(f)` of 100 MB held by a worker.
 * - data-broadcast-100mb: `scatter([x], { broadcast: true, hash: false })` to 4 workers, until all
 *   hold it (dask: `scatter(x, broadcast=True, hash=False)`: through the scheduler, then its
 *   replicate tree).
 * - data-move-200mb: 200 MB scattered to worker A (untimed), then `submit(len, d)` restricted to
 *   worker B until its result is back: B fetches the 200 MB from A.
 *
 * Usage: npm run bench -- data-
 */
import { Client, LocalCluster } from '../src/distributed/index.js';
import type { Bench } from './lib/bench.js';
import type { DaskMeasurement } from './lib/dask.js';
import { fmtNum } from './lib/table.js';
import { median, min, type Measurement } from './lib/timing.js';

const SCRIPT = 'distributed_data_bench.py';
const MB = 1e6;
const MAX_REPS = 5;

interface Handle {
  readonly cluster: LocalCluster;
  readonly client: Client;
}

const clusters = new Map<number, Promise<Handle>>();

/** A cluster of `n` worker processes (1 thread each) and its client, started on first use. */
function cluster(n: number): Promise<Handle> {
  let p = clusters.get(n);
  if (p === undefined) {
    p = (async () => {
      const c = await LocalCluster.start({ nWorkers: n, threadsPerWorker: 1, processes: true });
      return { cluster: c, client: await Client.connect(c) };
    })();
    clusters.set(n, p);
  }
  return p;
}

async function cleanup(): Promise<void> {
  const all = [...clusters.values()];
  clusters.clear();
  for (const p of all) {
    const { cluster: c, client } = await p;
    await client.close();
    await c.close();
  }
}

/** Random float64s: incompressible, as real measurements mostly are. */
function randomArray(bytes: number): Float64Array {
  const a = new Float64Array(bytes / 8);
  for (let i = 0; i < a.length; i++) a[i] = Math.random();
  return a;
}

let data100: Float64Array | undefined;
const array100 = () => (data100 ??= randomArray(100 * MB));

/**
 * `setup` untimed, then `run` timed; `warmup` untimed rounds first. Returns the measurement
 * (seconds per run).
 */
async function timed<S>(
  reps: number,
  warmup: number,
  setup: (i: number) => Promise<S>,
  run: (s: S) => Promise<void>,
  teardown: (s: S) => Promise<void>,
): Promise<Measurement> {
  const times: number[] = [];
  const n = Math.max(1, Math.min(reps, MAX_REPS));
  for (let i = 0; i < Math.min(warmup, 1) + n; i++) {
    const s = await setup(i);
    const t0 = performance.now();
    await run(s);
    const dt = (performance.now() - t0) / 1000;
    await teardown(s);
    if (i >= Math.min(warmup, 1)) times.push(dt);
  }
  return { median_s: median(times), min_s: min(times), n_tasks: 1, reps: times.length };
}

const last: Record<string, Measurement> = {};

function check(name: string, ok: boolean, what: string): void {
  if (!ok) throw new Error(`${name}: ${what}`);
}

function scatterBench(name: string, hash: boolean): Bench {
  return {
    name,
    description: `scatter of 100 MB (Float64Array) to a 2-worker cluster, hash: ${hash}`,
    daskScript: SCRIPT,
    daskName: name,
    cleanup,
    ours: async ({ reps, warmup }) => {
      const { client } = await cluster(2);
      const x = array100();
      const m = await timed(
        reps,
        warmup,
        async (i) => {
          x[0] = i + Math.random(); // new content, so that a hashed key is new too
          return { futures: [] as { release(): void; key: string }[] };
        },
        async (s) => {
          const [f] = await client.scatter([x], { hash });
          s.futures.push(f);
        },
        async (s) => {
          check(name, s.futures.length === 1 && s.futures[0].key.startsWith('float64array-'), 'no Future');
          for (const f of s.futures) f.release();
        },
      );
      return (last[name] = m);
    },
    summary: (d) => [`${name}: ours ${gbps(100 * MB, last[name])} GB/s, dask ${gbps(100 * MB, d)} GB/s${hash ? '' : '; target >= 1 GB/s (dask 0.43 in the issue)'}`],
  };
}

const gather: Bench = {
  name: 'data-gather-100mb',
  description: 'gather of 100 MB held by a worker of a 2-worker cluster',
  daskScript: SCRIPT,
  daskName: 'data-gather-100mb',
  cleanup,
  ours: async ({ reps, warmup }) => {
    const { client } = await cluster(2);
    const x = array100();
    const m = await timed(
      reps,
      warmup,
      async () => {
        const [f] = await client.scatter([x], { hash: false });
        return { f, got: undefined as Float64Array | undefined };
      },
      async (s) => {
        s.got = (await client.gather(s.f)) as Float64Array;
      },
      async (s) => {
        check('data-gather-100mb', s.got?.length === x.length && s.got[7] === x[7], 'wrong data');
        s.f.release();
      },
    );
    return (last['data-gather-100mb'] = m);
  },
  summary: (d) => [`data-gather-100mb: ours ${gbps(100 * MB, last['data-gather-100mb'])} GB/s, dask ${gbps(100 * MB, d)} GB/s; target >= 1.5 GB/s (dask 0.99 in the issue)`],
};

const broadcast: Bench = {
  name: 'data-broadcast-100mb',
  description: 'scatter of 100 MB with broadcast to 4 workers, until all hold it',
  daskScript: SCRIPT,
  daskName: 'data-broadcast-100mb',
  cleanup,
  ours: async ({ reps, warmup }) => {
    const { client, cluster: c } = await cluster(4);
    const x = array100();
    const m = await timed(
      reps,
      warmup,
      async () => ({ futures: [] as { release(): void; key: string }[] }),
      async (s) => {
        s.futures.push(...(await client.scatter([x], { broadcast: true, hash: false })));
      },
      async (s) => {
        const who = await client.whoHas(s.futures);
        check('data-broadcast-100mb', who[s.futures[0].key]?.length === c.workers.length, `held by ${who[s.futures[0].key]?.length} workers`);
        for (const f of s.futures) f.release();
      },
    );
    return (last['data-broadcast-100mb'] = m);
  },
  summary: (d) => {
    const o = last['data-broadcast-100mb'];
    const ratio = o && d ? o.median_s / d.median_s : undefined;
    return [
      `data-broadcast-100mb: ours ${secs(o?.median_s)} s, dask ${secs(d?.median_s)} s, ours/dask ${ratio === undefined ? '-' : fmtNum(ratio)}; ` +
        `target <= 0.5 (dask 0.42 s in the issue)`,
    ];
  },
};

const move: Bench = {
  name: 'data-move-200mb',
  description: '200 MB held by worker A, a task restricted to worker B that reads it (B fetches it from A)',
  daskScript: SCRIPT,
  daskName: 'data-move-200mb',
  cleanup,
  ours: async ({ reps, warmup }) => {
    const { client, cluster: c } = await cluster(2);
    const [a, b] = c.workers.map((w) => w.name);
    const x = randomArray(200 * MB);
    const length = (v: Float64Array) => v.length;
    const m = await timed(
      reps,
      warmup,
      async () => {
        const [d] = await client.scatter([x], { workers: a, hash: false });
        return { d, n: 0 };
      },
      async (s) => {
        s.n = await client.with({ workers: b, pure: false }).submit(length, s.d);
      },
      async (s) => {
        check('data-move-200mb', s.n === x.length, `computed ${s.n}`);
        s.d.release();
      },
    );
    return (last['data-move-200mb'] = m);
  },
  summary: (d) => [
    `data-move-200mb: ours ${gbps(200 * MB, last['data-move-200mb'])} GB/s, dask ${gbps(200 * MB, d)} GB/s; target >= 2 GB/s`,
    'data-*: workers are processes on both sides (ours LocalCluster processes: true, dask LocalCluster processes=True), 1 thread each',
  ],
};

function gbps(bytes: number, m: Pick<DaskMeasurement, 'median_s'> | undefined): string {
  return m === undefined ? '-' : fmtNum(bytes / 1e9 / m.median_s);
}

function secs(s: number | undefined): string {
  return s === undefined ? '-' : fmtNum(s);
}

export const benches: readonly Bench[] = [scatterBench('data-scatter-100mb', false), scatterBench('data-scatter-100mb-hashed', true), gather, broadcast, move];
