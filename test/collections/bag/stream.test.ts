/**
 * Partition streams (chunk/stream.ts): element-wise steps add stages to a stream instead of
 * building arrays, consumers run the stream through a sink, and whatever is stored is an array.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { compute, getSync, getThreads, shutdownThreadPools, TaskError } from '../../../src/index.js';
import { MATERIALIZE, settle } from '../../../src/graph/lazy.js';
import { threadsTuning } from '../../../src/schedulers/threads.js';
import * as db from '../../../src/collections/bag/index.js';
import * as mk from '../../../src/collections/bag/chunk/map.js';
import * as pk from '../../../src/collections/bag/chunk/partitions.js';
import * as rk from '../../../src/collections/bag/chunk/reduction.js';
import * as sk from '../../../src/collections/bag/chunk/shuffle.js';
import * as tk from '../../../src/collections/bag/chunk/string.js';
import { each, isPartitionStream, PartitionStream, streamOf, toArray, type Part } from '../../../src/collections/bag/chunk/stream.js';
import { readTextPartition, readTextRange, writeTextPartition, type ReadSpec } from '../../../src/collections/bag/chunk/text.js';
import { failOn13 } from '../../fixtures/bag-module.js';
import { NUMBERS, SCHEDULERS, sorted } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'dask-ts-stream-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await shutdownThreadPools();
});

/** Counts materialisations of streams on this thread (the sync scheduler runs every task here). */
function countMaterializations(): { readonly count: number; restore(): void } {
  const proto = PartitionStream.prototype;
  const original = proto[MATERIALIZE];
  const state = {
    count: 0,
    restore: () => {
      proto[MATERIALIZE] = original;
    },
  };
  proto[MATERIALIZE] = function (this: PartitionStream) {
    state.count++;
    return original.call(this);
  };
  return state;
}

let spy: { readonly count: number; restore(): void } | undefined;
afterEach(() => {
  spy?.restore();
  spy = undefined;
});

const SENTENCES = [
  'the quick brown fox',
  'jumps over the lazy dog',
  '',
  'the dog sleeps',
  '  leading and trailing  ',
  'fox and dog and fox',
  'é accented é words',
];

function expectedFrequencies(words: readonly string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const w of words) m.set(w, (m.get(w) ?? 0) + 1);
  return [...m];
}

const wordsOf = (s: string) => s.split(' ').filter(Boolean);
const longWord = (w: string) => w.length > 3;

describe('element-wise steps stream', () => {
  it('a fused map → filter → flatten → frequencies chain never materialises a partition', async () => {
    const bag = db.fromSequence(SENTENCES, { npartitions: 3 });
    const counts = db.frequencies(db.flatten(db.filter(db.map(bag, wordsOf), (ws: string[]) => ws.length > 0)));
    spy = countMaterializations();
    const finished: string[] = [];
    const got = await counts.compute({ scheduler: 'sync', onTaskFinished: (k) => finished.push(k) });
    expect(spy.count).toBe(0);
    // One fused task per partition, and the aggregation.
    expect(finished).toHaveLength(4);
    expect(got).toEqual(expectedFrequencies(SENTENCES.flatMap(wordsOf)));
  });

  it('every element-wise stage and consumer runs without materialising (sync)', async () => {
    const bag = db.fromSequence(SENTENCES, { npartitions: 3 });
    const words = db.filter(db.flatten(db.map(bag, wordsOf)), longWord);
    const upper = words.str.upper().str.strip().str.replace('O', '0').str.match('*0*');
    const pairs = db.map(words, (w: string): [string, number] => [w, w.length]);
    const all = SENTENCES.flatMap(wordsOf).filter(longWord);
    // Each computed alone: a step shared by two consumers is stored, and so materialised.
    const consumers = [
      db.count(words),
      db.frequencies(upper),
      db.sum(db.pluck(pairs, 1) as db.Bag<number>),
      db.max(db.starmap(pairs, (w: string, n: number) => n * 10)),
      db.min(db.remove(db.pluck(pairs, 1), (n: number) => n < 5)),
      db.distinct(words.str.lower()),
      db.topk(pairs, 2, 1),
      db.foldby(pairs, 1, (acc: number, p: [string, number]) => acc + p[1], 0, (a: number, b: number) => a + b),
      db.fold(db.pluck(pairs, 1) as db.Bag<number>, (a: number, b: number) => a + b),
      db.any(db.map(words, (w: string) => w === 'lazy')),
      db.all(db.map(words, (w: string) => w.length > 3)),
      db.groupby(words, (w: string) => w.length),
    ];
    spy = countMaterializations();
    const results: unknown[] = [];
    for (const c of consumers) results.push(await c.compute({ scheduler: 'sync' }));
    expect(spy.count).toBe(0);
    const [grouped] = results.splice(11, 1);
    const lens = all.map((w) => w.length);
    const matched = all.map((w) => w.toUpperCase().trim().replace('O', '0')).filter((w) => w.includes('0'));
    expect(results).toEqual([
      all.length,
      expectedFrequencies(matched),
      lens.reduce((a, b) => a + b, 0),
      Math.max(...lens) * 10,
      Math.min(...lens.filter((n) => n >= 5)),
      [...new Set(all.map((w) => w.toLowerCase()))],
      [...all.map((w) => [w, w.length])].sort((a, b) => (b[1] as number) - (a[1] as number)).slice(0, 2),
      [...new Set(lens)].map((n) => [n, lens.filter((m) => m === n).length * n]),
      lens.reduce((a, b) => a + b, 0),
      true,
      true,
    ]);
    expect(sorted(grouped as unknown[])).toEqual(sorted([...new Set(lens)].map((n) => [n, all.filter((w) => w.length === n)])));
  });

  it('an unfused stream comes back as arrays: stored results are materialised', async () => {
    const bag = db.map(db.fromSequence(NUMBERS, { npartitions: 4 }), (x: number) => x + 1);
    for (const get of [getSync, getThreads]) {
      const parts = (await get(bag.daskGraph(), bag.daskKeys())) as unknown[];
      expect(parts.every((p) => Array.isArray(p))).toBe(true);
      expect((parts as number[][]).flat()).toEqual(NUMBERS.map((x) => x + 1));
    }
    spy = countMaterializations();
    expect(await bag.compute({ scheduler: 'sync' })).toEqual(NUMBERS.map((x) => x + 1));
    expect(spy.count).toBe(4); // the last step of each partition, stored
    const persisted = await db.flatten(db.map(bag, (x: number) => [x, x])).persist({ scheduler: 'sync' });
    expect(spy.count).toBe(8);
    expect(await persisted.compute({ scheduler: 'sync' })).toEqual(NUMBERS.flatMap((x) => [x + 1, x + 1]));
    expect(spy.count).toBe(8); // the persisted partitions are arrays
    // Without optimisation every step is stored, so every step materialises.
    spy.restore();
    spy = countMaterializations();
    const steps = db.filter(db.map(db.fromSequence(NUMBERS, { npartitions: 2 }), (x: number) => x * 2), (x: number) => x > 4);
    expect(await steps.compute({ scheduler: 'sync', optimize: false })).toEqual(NUMBERS.map((x) => x * 2).filter((x) => x > 4));
    expect(spy.count).toBe(4);
  });

  it('a stream materialised on the main thread of the threads scheduler reports its error', async () => {
    const saved = threadsTuning.inlineBelowMs;
    try {
      const ok = db.map(db.range(12, { npartitions: 2 }), failOn13);
      expect(await ok.compute({ scheduler: 'threads', numWorkers: 2 })).toHaveLength(12);
      threadsTuning.inlineBelowMs = Infinity; // measured now: runs on the main thread
      const bad = db.map(db.range(20, { npartitions: 2 }), failOn13);
      const err = await bad.compute({ scheduler: 'threads', numWorkers: 2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskError);
      expect((err as Error).message).toMatch(/map: the function 'failOn13' threw on partition 1, element 3 \(value: 13\)/);
    } finally {
      threadsTuning.inlineBelowMs = saved;
    }
  });
});

describe.each(SCHEDULERS)('streamed pipelines on $name', ({ name, opts }) => {
  it('give the same results as plain arrays', async () => {
    const bag = db.fromSequence(SENTENCES, { npartitions: 3 });
    const words = db.flatten(db.map(bag, (s: string) => s.split(' ').filter(Boolean)));
    const all = SENTENCES.flatMap(wordsOf);
    const [freq, top, n, distinct, grouped, taken, acc, zipped, joined, lens, prod] = await compute(
      db.frequencies(words, { sort: true }),
      db.topk(db.frequencies(words), 3, 1),
      db.count(db.filter(words, (w: string) => w.includes('o'))),
      db.distinct(db.map(words, (w: string) => w.length)),
      db.groupby(words, (w: string) => w[0]),
      db.take(words, 5, { compute: false }),
      db.accumulate(db.map(words, (w: string) => w.length), (a: number, b: number) => a + b),
      db.zip(words, db.map(words, (w: string) => w.length)),
      db.join(words, ['fox', 'dog'], (w: string) => w),
      db.mapPartitions(words, (ws: string[]) => [ws.length]),
      db.product(db.fromSequence(['a', 'b'], { npartitions: 1 }), db.filter(db.fromSequence([1, 2, 3], { npartitions: 1 }), (x: number) => x > 1)),
      opts,
    );
    const lengths = all.map((w) => w.length);
    expect(sorted(freq as unknown[])).toEqual(sorted(expectedFrequencies(all)));
    expect((freq as [string, number][])[0]).toEqual(['the', 3]);
    expect(top).toEqual([...expectedFrequencies(all)].sort((a, b) => b[1] - a[1]).slice(0, 3));
    expect(n).toBe(all.filter((w) => w.includes('o')).length);
    expect(distinct).toEqual([...new Set(lengths)]);
    const groups = new Map<string, string[]>();
    for (const w of all) groups.set(w[0], [...(groups.get(w[0]) ?? []), w]);
    expect(sorted(grouped as unknown[])).toEqual(sorted([...groups]));
    expect(taken).toEqual(['the', 'quick', 'brown', 'fox', 'jumps']);
    expect(acc).toEqual(lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b, 0)));
    expect(zipped).toEqual(all.map((w) => [w, w.length]));
    expect(joined).toEqual(all.filter((w) => w === 'fox' || w === 'dog').map((w) => [w, w]));
    expect((lens as number[]).reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(prod).toEqual([['a', 2], ['a', 3], ['b', 2], ['b', 3]]);
  });

  it('are equal on both schedulers, through readText, str.split and toTextFiles', async () => {
    const dir = mkdtempSync(join(root, `rt-${name}-`));
    const text = SENTENCES.join('\n') + '\n';
    writeFileSync(join(dir, 'a.txt'), text);
    writeFileSync(join(dir, 'b.txt'), text.toUpperCase());
    const lines = db.readText(join(dir, '*.txt'), { blocksize: 16 });
    const words = lines.str.split().flatten();
    const expectedWords = [...SENTENCES, ...SENTENCES.map((s) => s.toUpperCase())].flatMap((s) => s.split(/\s+/).filter(Boolean));
    const [freq, top] = await compute(db.frequencies(words), db.topk(db.frequencies(words), 2, 1), opts);
    expect(freq).toEqual(expectedFrequencies(expectedWords));
    expect(top).toEqual(expectedFrequencies(expectedWords).sort((a, b) => b[1] - a[1]).slice(0, 2));
    const outDir = join(dir, 'out');
    const files = await db.toTextFiles(db.map(db.filter(lines, (l: string) => l.trim() !== ''), (l: string) => l.trim()), join(outDir, '*.txt'), opts);
    const written = files.map((f) => readFileSync(f, 'utf8')).join('\n').split('\n').filter(Boolean);
    expect(written).toEqual([...SENTENCES, ...SENTENCES.map((s) => s.toUpperCase())].filter((s) => s.trim() !== '').map((s) => s.trim()));
  });

  it('name the step, the partition and the element when a function throws in a fused chain', async () => {
    // Element indices are those of each step's input: here, of the flattened elements.
    const nested = db.fromSequence([[[1, 2], [3]], [[10, 11], [12, 13, 14]]], { npartitions: 2 });
    const chain = db.count(db.map(db.flatten(db.flatten(nested)), failOn13));
    const err = await chain.compute(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect((err as Error).message).toMatch(/map: the function 'failOn13' threw on partition 1, element 3 \(value: 13\)/);
    if (name === 'sync') {
      const cause = (err as TaskError).cause as db.BagFunctionError;
      expect([cause.op, cause.partition, cause.element]).toEqual(['map', 1, 3]);
    }
    const sevens = db.map(db.fromSequence([1, 2, 3], { npartitions: 1 }), (x: number) => (x === 2 ? 7 : [x])) as db.Bag<number[]>;
    const badFlatten = db.frequencies(db.flatten(sevens));
    await expect(badFlatten.compute(opts)).rejects.toThrow(/flatten: partition 0, element 1 \(value: 7\) is not an array or other iterable/);
    const badStr = db.count(db.map(db.fromSequence(['a', 5, 'b'] as string[], { npartitions: 1 }), (s: string) => s).str.upper());
    await expect(badStr.compute(opts)).rejects.toThrow(/str.upper: partition 0, element 1 \(value: 5\) is not a string/);
    const badFilter = db.sum(db.filter(db.range(10, { npartitions: 2 }), (x: number) => {
      if (x === 7) throw new Error('seven');
      return true;
    }));
    await expect(badFilter.compute(opts)).rejects.toThrow(/filter: the function threw on partition 1, element 2 \(value: 7\): Error: seven/);
  });
});

describe('kernels take arrays and streams alike', () => {
  const data = [5, 3, 8, 1, 9, 2, 8, 3];
  /** The same partition as an array, and as a stream with an identity stage. */
  const both = (xs: readonly unknown[]): Part[] => [xs, mk.map((x: unknown) => x, 0, xs, null)];

  it('consumers', () => {
    for (const part of both(data)) {
      expect(rk.count(part)).toBe(8);
      expect(rk.sumPart(part)).toEqual([39]);
      expect(rk.extremePart(1, part)).toEqual([9]);
      expect(rk.extremePart(-1, part)).toEqual([1]);
      expect(rk.anyPart(part)).toBe(true);
      expect(rk.allPart(part)).toBe(true);
      expect(rk.moments(0, part)[0]).toBe(8);
      expect(rk.distinct(null, 0, part)).toEqual([5, 3, 8, 1, 9, 2]);
      expect(rk.frequencies(part)).toEqual([[5, 3, 8, 1, 9, 2], [1, 2, 2, 1, 1, 1]]);
      expect(rk.topk(3, null, 0, part)).toEqual([9, 8, 8]);
      expect(rk.foldPart((a: number, b: number) => a + b, false, undefined, 0, part)).toEqual([39]);
      expect(rk.reducePart((xs: number[]) => xs.length, 0, part, false)).toEqual([8]);
      expect(rk.foldbyPart((x: number) => x % 2, (a: number, x: number) => a + x, true, 0, 0, part)).toEqual([[1, 21], [0, 18]]);
      expect(sk.groupTag((x: number) => x, 1, 0, part)).toEqual(data.map((x) => [0, x, x]));
      expect(pk.piece(part, 1, 2)).toEqual([9, 2, 8, 3]);
      expect(pk.concatParts([part, part])).toEqual([...data, ...data]);
      expect(pk.take(3, false, [part])).toEqual([5, 3, 8]);
      expect(mk.zip(0, [part, part])).toEqual(data.map((x) => [x, x]));
      expect(mk.product(part, [1])).toEqual(data.map((x) => [x, 1]));
      expect(mk.join((x: number) => x, [8, 9], (x: number) => x, 0, part)).toEqual([[8, 8], [9, 9], [8, 8]]);
      expect(mk.accumulate((a: number, b: number) => a + b, 0, part, [], false)[1]).toEqual([39]);
      expect(mk.mapPartitions((xs: number[]) => [Array.isArray(xs)], 0, part)).toEqual([true]);
    }
    for (const part of both([])) {
      expect(rk.sumPart(part)).toEqual([]);
      expect(rk.extremePart(1, part)).toEqual([]);
      expect(rk.foldPart((a: number, b: number) => a + b, false, undefined, 0, part)).toEqual([]);
      expect(rk.foldPart((a: number, b: number) => a + b, true, 10, 0, part)).toEqual([10]);
      expect(rk.anyPart(part)).toBe(false);
      expect(rk.allPart(part)).toBe(true);
    }
  });

  it('element-wise kernels return new streams and never modify their input', () => {
    const input = [[1, 2], [3]];
    const s1 = mk.flatten(0, input);
    const s2 = mk.map((x: number) => x * 10, 0, s1, null);
    const s3 = mk.filter((x: number) => x > 10, true, 0, s2);
    expect(isPartitionStream(s1) && isPartitionStream(s2) && isPartitionStream(s3)).toBe(true);
    expect(s1.stages.map((s) => s.op)).toEqual(['flatten']);
    expect(s3.stages.map((s) => s.op)).toEqual(['flatten', 'map', 'filter']);
    expect(settle(s3)).toEqual([20, 30]);
    expect(settle(s2)).toEqual([10, 20, 30]); // s2 is unchanged by the stage added after it
    expect(toArray(s3)).toEqual([20, 30]);
    expect(input).toEqual([[1, 2], [3]]);
    const pairs = mk.pluck(1, false, undefined, 0, [['a', 1], ['b', 2]]);
    expect(settle(pairs)).toEqual([1, 2]);
    expect(settle(mk.starmap((a: number, b: number) => a + b, 0, [[1, 2], [3, 4]], null))).toEqual([3, 7]);
    expect(settle(tk.strMethod('split', [null, -1], 0, [' a b ', 'c']))).toEqual([['a', 'b'], ['c']]);
    expect(settle(tk.strMatch('a*', 0, ['ab', 'ba']))).toEqual(['ab']);
    // A stage runs once per run: nothing is computed until a consumer runs the stream.
    let calls = 0;
    const lazy = mk.map((x: number) => (calls++, x), 0, [1, 2, 3], null);
    expect(calls).toBe(0);
    const seen: unknown[] = [];
    each(lazy, (x) => seen.push(x));
    expect([calls, seen]).toEqual([3, [1, 2, 3]]);
    expect(streamOf([1]).stages).toEqual([]);
  });

  it('readText partitions stream their lines; toTextFiles writes a stream', async () => {
    const dir = mkdtempSync(join(root, 'k-'));
    const p = join(dir, 'a.txt');
    writeFileSync(p, 'one two\r\nthree\n\nfour');
    const spec: ReadSpec = { path: p, start: 0, end: null, encoding: 'utf-8', compression: null, includePath: false, byteLines: true };
    const part = readTextPartition(spec);
    expect(isPartitionStream(part)).toBe(true);
    expect(settle(part)).toEqual(readTextRange(spec));
    expect(settle(part)).toEqual(['one two\n', 'three\n', '\n', 'four']);
    const out = join(dir, 'out.txt');
    await writeTextPartition(mk.filter((l: string) => l !== '\n', true, 0, part as Part), { path: out, partition: 0, encoding: 'utf8', compression: null, lastEndline: false });
    expect(readFileSync(out, 'utf8')).toBe('one two\nthree\nfour');
    await writeTextPartition(mk.map((l: string) => l.trim(), 0, part as Part, null), { path: out, partition: 0, encoding: 'utf8', compression: null, lastEndline: true });
    expect(readFileSync(out, 'utf8')).toBe('one two\nthree\n\nfour\n');
    await expect(
      writeTextPartition(mk.map((l: string) => (l === '\n' ? 3 : l), 0, part as Part, null), { path: join(dir, 'bad.txt'), partition: 2, encoding: 'utf8', compression: null, lastEndline: false }),
    ).rejects.toThrow(/element 2 of partition 2 is number, not a string/);
  });
});

describe('str.split', () => {
  it('splits on exactly the whitespace of the regex it replaced, code unit by code unit', () => {
    const ws = /[\s\x1c-\x1f]/;
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      const parts = tk.pySplit(`a${ch}b`, null, -1);
      if ((parts.length === 2) !== ws.test(ch)) throw new Error(`U+${c.toString(16)}: ${JSON.stringify(parts)}`);
    }
    expect(tk.pySplit('  a\tb\u3000c\n', null, 1)).toEqual(['a', 'b\u3000c\n']);
  });
});
