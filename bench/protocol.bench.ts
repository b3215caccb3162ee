/**
 * npx tsx bench/protocol.bench.ts [--quick]
 *
 * The distributed protocol on our own message mix, and the library choices behind it:
 *
 * 1. msgpack: msgpackr (ours) vs msgpack-lite (the design card's) on the bodies we send most: a
 *    small scheduler message (`task-finished`) and a `compute-task` with a ~200-byte serialized
 *    function reference and a few arguments; encode + decode per second.
 * 2. lz4: `lz4` (C, node-gyp) vs `lz4-napi` (Rust, prebuilt) vs `lz4js` (pure JS), compress +
 *    decompress of an 8 MB Float64Array of zeros and of small integers (compressible), GB/s.
 * 3. The whole protocol: toFrames + fromFrames of those messages, and of an 8 MB Float64Array of
 *    random numbers (incompressible: no copy at all) and of zeros (compressed), with each lz4.
 *
 * Alternatives not installed in this project are looked up in $PROTOCOL_BENCH_ALT (a directory
 * with its own node_modules, e.g. `mkdir /tmp/alt && cd /tmp/alt && npm i msgpack-lite lz4js`),
 * and skipped when absent. No dask side: dask.distributed's protocol is not timed here.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { lz4Implementations, useLz4 } from '../src/distributed/protocol/compression.js';
import { fromFrames, Serialize, toFrames } from '../src/distributed/protocol/index.js';
import { pack, unpack } from '../src/distributed/protocol/msgpack.js';

const quick = process.argv.includes('--quick');
const ROUND_MS = quick ? 150 : 400;
const ROUNDS = quick ? 3 : 5;

const requireHere = createRequire(import.meta.url);
function optional<T>(name: string): T | undefined {
  try {
    return requireHere(name) as T;
  } catch {
    /* not installed here */
  }
  const alt = process.env.PROTOCOL_BENCH_ALT;
  if (alt) {
    try {
      return createRequire(join(alt, 'noop.js'))(name) as T;
    } catch {
      /* not there either */
    }
  }
  return undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Operations per second of one function over ~ROUND_MS. */
function round(fn: () => unknown): number {
  let n = 0;
  const t0 = performance.now();
  let t: number;
  do {
    fn();
    n++;
  } while ((t = performance.now() - t0) < ROUND_MS);
  return n / (t / 1000);
}

/**
 * Operations per second of each function: after a warm-up, ROUNDS rounds in which every function
 * runs ~ROUND_MS in turn (so a load change on this shared machine hits all alike); the median.
 */
function opsPerSec(...fns: (() => unknown)[]): number[] {
  for (const fn of fns) round(fn);
  const rates = fns.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) fns.forEach((fn, i) => rates[i].push(round(fn)));
  return rates.map(median);
}

const fmtOps = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${Math.round(x / 1000)} k/s`);
const fmtGBs = (bytesPerOp: number, ops: number) => `${((bytesPerOp * ops) / 1e9).toFixed(2)} GB/s`;

function row(cells: string[]): void {
  console.log(`| ${cells.join(' | ')} |`);
}

// ---------------------------------------------------------------------------------------------
// The message mix

const taskFinished = {
  op: 'task-finished',
  key: "('x', 3)",
  nbytes: 8000000,
  type: 'ndarray',
  status: 'OK',
  thread: 140234,
  startstops: [{ action: 'compute', start: 1700000000.123456, stop: 1700000000.456789 }],
  metadata: {},
};

const fnRef = {
  kind: 'source',
  id: '3f2a9c1be07d4e55a1c0f00d2b6e9a71',
  source: '(x, y, axis) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * y; return axis === 0 ? s : -s; }',
};
const runSpec = { fn: fnRef, args: ["('x', 1)", 2, { axis: 0 }] };
/** The serialized run spec as the scheduler relays it: ~200 bytes of msgpack. */
const runSpecBytes = pack(runSpec);

function computeTask(spec: unknown) {
  return {
    op: 'compute-task',
    key: "('sum-aggregate-8e1f0c', 7)",
    priority: [0, 1, 7],
    duration: 0.5,
    who_has: { "('x', 1)": ['tcp://127.0.0.1:40001'] },
    nbytes: { "('x', 1)": 8000000 },
    resource_restrictions: {},
    run_spec: spec,
  };
}

const MB8 = 1_000_000; // Float64 elements in 8 MB
const random8 = new Float64Array(MB8).map(() => Math.random());
const zeros8 = new Float64Array(MB8);
const ints8 = new Float64Array(MB8).map(() => Math.round(Math.random() * 100));

// ---------------------------------------------------------------------------------------------

function benchMsgpack(): void {
  console.log(`\n## 1. msgpack on our bodies (encode + decode)\n`);
  console.log(`run-spec bytes: ${runSpecBytes.byteLength}\n`);
  row(['message', 'msgpackr (ours)', 'msgpack-lite']);
  row(['---', '---', '---']);
  const lite = optional<{ encode(x: unknown): Uint8Array; decode(b: Uint8Array): unknown }>('msgpack-lite');
  const mixes: [string, unknown][] = [
    ['task-finished', taskFinished],
    ['compute-task (200-byte run spec as bytes)', computeTask(runSpecBytes)],
  ];
  for (const [name, msg] of mixes) {
    const [ours, alt] = opsPerSec(() => unpack(pack(msg), 'bench'), lite ? () => lite.decode(lite.encode(msg)) : () => 0);
    row([name, fmtOps(ours), lite ? `${fmtOps(alt)} (${(ours / alt).toFixed(1)}x slower)` : 'not installed']);
  }
}

interface Lz4C {
  encodeBound(n: number): number;
  encodeBlock(i: Uint8Array, o: Uint8Array): number;
  decodeBlock(i: Uint8Array, o: Uint8Array): number;
}

function benchLz4(): void {
  console.log(`\n## 2. lz4: compress + decompress, 8 MB Float64Array\n`);
  row(['data', 'lz4 (C, node-gyp)', 'lz4-napi (Rust, prebuilt)', 'lz4js (pure JS)', 'ratio']);
  row(['---', '---', '---', '---', '---']);
  const impls = lz4Implementations();
  const lz4js = optional<{
    compressBound(n: number): number;
    compressBlock(s: Uint8Array, d: Uint8Array, si: number, sl: number, ht: Uint32Array): number;
    decompressBlock(s: Uint8Array, d: Uint8Array, si: number, sl: number, di: number): number;
  }>('lz4js');
  for (const [name, arr] of [
    ['zeros', zeros8],
    ['integers 0..100', ints8],
  ] as const) {
    const bytes = new Uint8Array(arr.buffer);
    const cells: string[] = [name];
    const fns: (() => unknown)[] = [];
    const labels: string[] = [];
    let ratio = '';
    for (const want of ['lz4', 'lz4-napi'] as const) {
      const impl = impls.find((i) => i.name === want);
      if (!impl) {
        labels.push('not available');
        continue;
      }
      ratio = (impl.compress(bytes)!.byteLength / bytes.byteLength).toFixed(3);
      labels.push('');
      fns.push(() => impl.decompress(impl.compress(bytes)!, bytes.byteLength));
    }
    if (lz4js) {
      const ht = new Uint32Array(1 << 16);
      const out = new Uint8Array(lz4js.compressBound(bytes.byteLength));
      labels.push('');
      fns.push(() => {
        ht.fill(0);
        const n = lz4js.compressBlock(bytes, out, 0, bytes.byteLength, ht);
        lz4js.decompressBlock(out, new Uint8Array(bytes.byteLength), 0, n, 0);
      });
    } else labels.push('not installed');
    const rates = opsPerSec(...fns);
    let k = 0;
    for (const l of labels) cells.push(l === '' ? fmtGBs(bytes.byteLength, rates[k++]) : l);
    cells.push(ratio);
    row(cells);
  }
}

function benchProtocol(): void {
  console.log(`\n## 3. toFrames + fromFrames (the whole protocol)\n`);
  const impls = lz4Implementations().map((i) => i.name);
  row(['message', ...impls.map((n) => `with ${n}`), 'compression: none']);
  row(['---', ...impls.map(() => '---'), '---']);
  const cases: [string, unknown, number][] = [
    ['task-finished (msgs/s)', taskFinished, 0],
    ['compute-task, Serialize(run spec) (msgs/s)', computeTask(new Serialize(runSpec)), 0],
    ['8 MB Float64Array, random (GB/s)', { op: 'get-data-response', data: { "('x', 1)": random8 } }, 8e6],
    ['8 MB Float64Array, zeros (GB/s)', { op: 'get-data-response', data: { "('x', 1)": zeros8 } }, 8e6],
    ['8 MB Float64Array, integers 0..100 (GB/s)', { op: 'get-data-response', data: { "('x', 1)": ints8 } }, 8e6],
  ];
  for (const [name, msg, bytes] of cases) {
    const fns = [...impls, 'none' as const].map((impl) => () => {
      if (impl !== 'none') useLz4(impl);
      return fromFrames(toFrames(msg, { compression: impl === 'none' ? 'none' : 'lz4' }));
    });
    const rates = opsPerSec(...fns);
    useLz4(undefined);
    row([name, ...rates.map((ops) => (bytes ? fmtGBs(bytes, ops) : fmtOps(ops)))]);
  }
  const f = toFrames({ data: random8 });
  const z = toFrames({ data: zeros8 });
  console.log(
    `\nframe sizes: random ${f.map((x) => x.byteLength).join(' + ')} bytes (data frame is the array's own memory: ` +
      `${f[1].buffer === random8.buffer}); zeros ${z.map((x) => x.byteLength).join(' + ')} bytes`,
  );
}

console.log(`# protocol bench (node ${process.version}; median of ${ROUNDS} rounds of ${ROUND_MS} ms)`);
benchMsgpack();
benchLz4();
benchProtocol();
