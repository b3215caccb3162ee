/**
 * The fused word count (chunk/word-count.ts): `readText → str.split() → flatten → frequencies`
 * counted from the bytes must give exactly what the general path gives (a string per word), for
 * any text, any blocksize, and invalid text alike.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { readText, type Bag } from '../../../src/collections/bag/index.js';
import { readTextPartition, type ReadSpec } from '../../../src/collections/bag/chunk/text.js';
import { flatten, map } from '../../../src/collections/bag/chunk/map.js';
import { strMethod } from '../../../src/collections/bag/chunk/string.js';
import type { Part } from '../../../src/collections/bag/chunk/stream.js';
import { WordCounter, wordsOfUtf8 } from '../../../src/collections/bag/chunk/word-count.js';
import { SCHEDULERS } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'dask-ts-words-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await shutdownThreadPools();
});

let files = 0;
function write(content: string | Uint8Array): string {
  const p = join(root, `f${files++}.txt`);
  writeFileSync(p, content);
  return p;
}

type Prep = 'lower' | 'upper' | 'strip';
/** str steps before the split, which the fused count applies to each distinct word instead. */
const prepare = (lines: Bag<string>, steps: readonly Prep[]): Bag<string> => steps.reduce((b, m) => b.str[m](), lines);
/** The fused pipeline. */
const fused = (lines: Bag<string>, steps: readonly Prep[] = []): Bag<[string, number]> =>
  prepare(lines, steps).str.split().flatten().frequencies();
/** The same count through the general path: a stage between split and flatten defeats the fusion. */
const general = (lines: Bag<string>, steps: readonly Prep[] = []): Bag<[string, number]> =>
  prepare(lines, steps).str.split().map((ws: string[]) => ws).flatten().frequencies();

/** Every character str.split() treats as whitespace, and some it does not (U+0085, U+200B, U+180E). */
const SPACES = [' ', '\t', '\n', '\r', '\r\n', '\v', '\f', '\x1c', '\x1f', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
const LETTERS = ['a', 'B', 'é', 'É', 'ß', 'Σ', 'σ', 'ς', 'İ', '€', '\u{1F600}', '\u0085', '\u200b', '\u180e', '\u00a1', 'x'];

const textArb = fc
  .array(fc.oneof(fc.constantFrom(...SPACES), fc.array(fc.constantFrom(...LETTERS), { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''))), {
    maxLength: 80,
  })
  .map((parts) => parts.join(''));

describe('word count from bytes', () => {
  it('is taken for str.split() then flatten over UTF-8 lines, and only then', () => {
    const spec: ReadSpec = { path: write('a b\n'), start: 0, end: null, encoding: 'utf-8', compression: null, includePath: false, byteLines: true };
    const lines = (s: Partial<ReadSpec> = {}): Part => readTextPartition({ ...spec, ...s }) as Part;
    const split = (part: Part, args: unknown[] = [null, -1]): Part => strMethod('split', args as never, 0, part);
    expect(wordsOfUtf8(flatten(0, split(lines())))).toBeDefined();
    expect(wordsOfUtf8(flatten(0, split(strMethod('lower', [], 0, strMethod('strip', [null], 0, lines())))))?.perWord).toHaveLength(2);
    expect(wordsOfUtf8(flatten(0, split(strMethod('strip', ['x'], 0, lines()))))).toBeUndefined(); // strips more than whitespace
    expect(wordsOfUtf8(flatten(0, split(strMethod('replace', ['a', ' ', -1], 0, lines()))))).toBeUndefined();
    expect(wordsOfUtf8(flatten(0, split(lines(), [' ', -1])))).toBeUndefined(); // a separator
    expect(wordsOfUtf8(flatten(0, split(lines(), [null, 2])))).toBeUndefined(); // maxsplit
    expect(wordsOfUtf8(flatten(0, split(lines({ encoding: 'windows-1252' }))))).toBeUndefined();
    expect(wordsOfUtf8(flatten(0, map((x: string) => x.split(' '), 0, lines(), null)))).toBeUndefined();
    expect(wordsOfUtf8(split(lines()))).toBeUndefined(); // not flattened
    expect(wordsOfUtf8(flatten(0, split(['a b'])))).toBeUndefined(); // not text from a file
  });

  it('counts what the general path counts, for any text and blocksize', async () => {
    await fc.assert(
      fc.asyncProperty(
        textArb,
        fc.option(fc.integer({ min: 1, max: 40 }), { nil: null }),
        fc.array(fc.constantFrom<Prep>('lower', 'upper', 'strip'), { maxLength: 2 }),
        async (text, blocksize, steps) => {
          const p = write(text);
          const opts = { scheduler: 'sync' } as const;
          const want = await general(readText(p, { blocksize }), steps).compute(opts);
          expect(await fused(readText(p, { blocksize }), steps).compute(opts)).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('agrees on many distinct and long words, on both schedulers', async () => {
    // More words than the table's first size, and a word longer than its first arena.
    const words = Array.from({ length: 9000 }, (_, i) => `w${(i * 7919) % 5003}é${i % 3}`);
    const p = write(`${words.join(' ')}\n${'long'.repeat(40_000)} w1é1\r\n\ufeffend`);
    for (const { name, opts } of SCHEDULERS) {
      const got = await fused(readText(p, { blocksize: 20_000 })).compute(opts);
      expect(got, name).toEqual(await general(readText(p, { blocksize: 20_000 })).compute(opts));
      expect(got.reduce((s, [, n]) => s + n, 0), name).toBe(words.length + 3);
    }
  });

  it('merges words that lower-casing makes equal, in order of first appearance', async () => {
    const p = write('The cat\nthe CAT saw THE\n');
    expect(await fused(readText(p), ['lower']).compute({ scheduler: 'sync' })).toEqual([['the', 3], ['cat', 2], ['saw', 1]]);
    // U+FEFF separates words but does not end a final sigma: lower-casing the line keeps 'σ'.
    const q = write('AΣ\ufeffA ΟΔΟΣ\n');
    expect(await fused(readText(q), ['lower']).compute({ scheduler: 'sync' })).toEqual([['aσ', 1], ['a', 1], ['οδος', 1]]);
  });

  it('drops a byte-order mark at the start of a file, as the line reader does', async () => {
    const p = write('\ufeffone two\none\n');
    expect(await fused(readText(p)).compute({ scheduler: 'sync' })).toEqual([['one', 2], ['two', 1]]);
  });

  it('rejects invalid UTF-8 with the line reader’s error, file and offset', async () => {
    const bytes = [...Buffer.from('good words\nmore '), 0x61, 0xe2, 0x28, 0xa1, ...Buffer.from(' tail\n')];
    const p = write(Uint8Array.from(bytes));
    const expected = /is not valid utf-8 text: an invalid byte sequence starting with 0xe2 at byte offset 17$/;
    await expect(readText(p).compute({ scheduler: 'sync' })).rejects.toThrow(expected);
    for (const { name, opts } of SCHEDULERS) {
      await expect(fused(readText(p)).compute(opts), name).rejects.toThrow(expected);
    }
    // Far into the file (past the first pieces the line reader decodes).
    const far = write(Uint8Array.from([...Buffer.from('ab\n'.repeat(40_000)), 0xc3, 0x28, 0x0a]));
    const farError = /starting with 0xc3 at byte offset 120000$/;
    await expect(readText(far).compute({ scheduler: 'sync' })).rejects.toThrow(farError);
    await expect(fused(readText(far)).compute({ scheduler: 'sync' })).rejects.toThrow(farError);
    // Truncated at the end of the file: the offset of the incomplete sequence.
    const q = write(Uint8Array.from([...Buffer.from('ok ok '), 0xf0, 0x9f]));
    await expect(fused(readText(q)).compute({ scheduler: 'sync' })).rejects.toThrow(/starting with 0xf0 at byte offset 6$/);
  });

  it('counts a word met again in a later piece as the same word', () => {
    const c = new WordCounter('mem');
    c.push(Buffer.from('ab cd\n'), 0);
    c.push(Buffer.from('ab\u3000ab\n'), 6);
    expect(c.result()).toEqual([['ab', 'cd'], [3, 1]]);
  });
});
