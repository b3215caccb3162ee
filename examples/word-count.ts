/**
 * The manual's "Word count in HDFS" example (section 2.6.1 of the distributed manual), on local
 * files and with the bag API: read every line of every file, split lines into words, count each
 * word, and print the ten most frequent. Files are read inside the tasks, on the thread pool, one
 * partition per file, and each file's counts are merged at the end, as the manual's
 * count_words / top_items / Counter steps do by hand.
 *
 *   npx tsx examples/word-count.ts                       # on a small corpus it writes to a temp directory
 *   npx tsx examples/word-count.ts 'enron/**\/*.txt'      # on your own files: a glob, a directory or a file
 *   npx tsx examples/word-count.ts --futures [pattern]   # the manual's futures version, on a cluster
 *
 * The futures version is the manual's code step by step: `client.map(countWords, filenames)` on
 * an in-process cluster (or DASK_SCHEDULER=host:port), `client.map(topItems, counts)` so each
 * file's counts stay on the workers, then only the top tens come back and are merged here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { readText } from '../src/collections/bag/index.js';
import { Client } from '../src/distributed/index.js';
import { shutdownThreadPools } from '../src/index.js';
import { countWords, topItems } from './word-count-tasks.js';

/**
 * The words of a line, as Python's `line.split()`: a line keeps its '\n' (dask's read_text does
 * the same), so `split(/\s+/)` alone would end with an empty string; filter(Boolean) drops it.
 * This is the issue's form, with a function of ours. `lines.str.split().flatten().frequencies()`
 * gives the same counts several times faster: that chain is counted from the file's bytes.
 */
const words = (line: string): string[] => line.split(/\s+/).filter(Boolean);

async function main(): Promise<void> {
  const futures = process.argv[2] === '--futures';
  const given = process.argv[futures ? 3 : 2];
  const corpus = given === undefined ? makeCorpus() : undefined;
  const pattern = given ?? path.join(corpus!, '*.txt');
  try {
    if (futures) return await withFutures(pattern);
    const lines = readText(pattern);
    console.log(`${lines.npartitions} partitions (one per file) from ${pattern}`);
    const t0 = performance.now();
    const top = await lines
      .map(words)
      .flatten()
      .frequencies()
      .topk(10, ([, n]) => n)
      .compute();
    console.log(`the ten most frequent words (${((performance.now() - t0) / 1000).toFixed(2)} s):`);
    for (const [word, n] of top) console.log(`  ${word.padEnd(12)} ${n}`);
  } finally {
    if (corpus) rmSync(corpus, { recursive: true, force: true });
    await shutdownThreadPools();
  }
}

/** The manual's version: futures over file names, counts kept on the workers, top tens merged here. */
async function withFutures(pattern: string): Promise<void> {
  const filenames = await glob(pattern, { absolute: true });
  if (filenames.length === 0) throw new Error(`no files match ${pattern}`);
  const client = await Client.connect(process.env.DASK_SCHEDULER);
  try {
    const t0 = performance.now();
    const counts = client.map(countWords, filenames);
    const tops = client.map(topItems, counts);
    const merged = new Map<string, number>();
    for (const top of await client.gather(tops)) for (const [word, n] of top) merged.set(word, (merged.get(word) ?? 0) + n);
    const best = [...merged].sort((a, b) => b[1] - a[1]).slice(0, 10);
    console.log(`${filenames.length} files; the ten most frequent words of the files' top tens (${((performance.now() - t0) / 1000).toFixed(2)} s):`);
    for (const [word, n] of best) console.log(`  ${word.padEnd(12)} ${n}`);
  } finally {
    await client.close();
  }
}

/** Eight files of made-up text whose word frequencies fall off as in English (Zipf's law). */
function makeCorpus(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'word-count-'));
  const vocab = (
    'the of to and or in a any by is that for be with as on this shall not such other ' +
    'agreement party will from it at have are which all may under any each date notice ' +
    'section company energy gas power contract price market meeting please thanks call ' +
    'email tomorrow attached information report deal trading north america houston'
  ).split(' ');
  let seed = 2016;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const draw = (): string => vocab[Math.min(vocab.length - 1, Math.floor(vocab.length ** rand()) - 1)];
  for (let f = 0; f < 8; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(Array.from({ length: 5 + Math.floor(rand() * 11) }, draw).join(' '));
    writeFileSync(path.join(dir, `mail-${f}.txt`), lines.join('\n') + '\n');
  }
  return dir;
}

await main();
