import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { literal, shutdownThreadPools, tupleKey } from '../../../src/index.js';
import { LayeredGraph } from '../../../src/graph/layers.js';
import { Bag } from '../../../src/collections/bag/core.js';
import { invalidUtf8At, readTextRange, type ReadSpec } from '../../../src/collections/bag/chunk/text.js';
import { outputPaths, parseBytes, readText, toTextFiles } from '../../../src/collections/bag/text.js';

const root = mkdtempSync(join(tmpdir(), 'dask-ts-text-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await shutdownThreadPools();
});

let dirs = 0;
/** A fresh directory under the test's temp root. */
function freshDir(): string {
  const d = join(root, `d${dirs++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function write(dir: string, name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** What the lines of a text should be: universal newlines, each line keeping its '\n'. */
function expectedLines(text: string): string[] {
  const t = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return t.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A bag with the given partitions, without the other bag operations. */
function bagOf<T>(parts: T[][]): Bag<T> {
  const name = `test-bag-${dirs++}`;
  const layer: Record<string, unknown> = {};
  parts.forEach((p, i) => (layer[tupleKey(name, i)] = literal(p)));
  return new Bag<T>(LayeredGraph.of(name, layer), name, parts.length);
}

const sync = { scheduler: 'sync' } as const;

describe('readText: lines', () => {
  it('keeps the newline of each line, as dask; the last line may have none', async () => {
    const d = freshDir();
    write(d, 'a.txt', 'one two\nthree\n\nfour');
    expect(await readText(join(d, 'a.txt')).compute(sync)).toEqual(['one two\n', 'three\n', '\n', 'four']);
  });

  it('translates CRLF and lone CR to LF (universal newlines)', async () => {
    const d = freshDir();
    write(d, 'a.txt', 'a\r\nb\rc\r\n\r\nd\r');
    expect(await readText(join(d, 'a.txt')).compute(sync)).toEqual(['a\n', 'b\n', 'c\n', '\n', 'd\n']);
  });

  it('drops a byte-order mark at the start of a file only', async () => {
    const d = freshDir();
    write(d, 'a.txt', '\uFEFFa\n\uFEFFb\n');
    expect(await readText(join(d, 'a.txt')).compute(sync)).toEqual(['a\n', '\uFEFFb\n']);
    expect(await readText(join(d, 'a.txt'), { blocksize: 2 }).compute(sync)).toEqual(['a\n', '\uFEFFb\n']);
    // A range that starts at byte 1 does not start the file: its first line keeps its U+FEFF.
    write(d, 'b.txt', '\n\uFEFFx\n');
    for (const blocksize of [1, 2, 3]) {
      expect(await readText(join(d, 'b.txt'), { blocksize }).compute(sync)).toEqual(['\n', '\uFEFFx\n']);
    }
  });

  it('gives an empty partition for an empty file', async () => {
    const d = freshDir();
    write(d, 'empty.txt', '');
    const b = readText(join(d, 'empty.txt'), { blocksize: 10 });
    expect(b.npartitions).toBe(1);
    expect(await b.compute(sync)).toEqual([]);
  });

  it('runs on the thread pool by default (the kernel travels by name)', async () => {
    const d = freshDir();
    for (let i = 0; i < 4; i++) write(d, `f${i}.txt`, `file ${i}\nline 2\n`);
    const b = readText(join(d, '*.txt'), { blocksize: 4 });
    expect(await b.compute()).toEqual([0, 1, 2, 3].flatMap((i) => [`file ${i}\n`, 'line 2\n']));
  });

  it('pairs lines with their file with includePath', async () => {
    const d = freshDir();
    const a = write(d, 'a.txt', 'x\ny\n');
    const b = write(d, 'b.txt', 'z');
    expect(await readText(join(d, '*.txt'), { includePath: true }).compute(sync)).toEqual([
      ['x\n', a],
      ['y\n', a],
      ['z', b],
    ]);
  });

  it('reads other encodings: latin1 and utf-16le (whole files)', async () => {
    const d = freshDir();
    write(d, 'l.txt', Buffer.from('caf\xe9\nna\xefve\n', 'latin1'));
    expect(await readText(join(d, 'l.txt'), { encoding: 'latin1', blocksize: 3 }).compute(sync)).toEqual(['café\n', 'naïve\n']);
    write(d, 'u.txt', Buffer.from('\uFEFFh\u0a0ai\n\u{1F600}\nend', 'utf16le'));
    expect(await readText(join(d, 'u.txt'), { encoding: 'utf-16le' }).compute(sync)).toEqual(['h\u0a0ai\n', '\u{1F600}\n', 'end']);
    expect(() => readText(join(d, 'u.txt'), { encoding: 'utf-16le', blocksize: 4 })).toThrow(/utf-16le.*blocksize/);
  });
});

describe('readText: paths and globs', () => {
  it('reads a path, an array of paths, a glob (* ? **) and a directory, one partition per file', async () => {
    const d = freshDir();
    write(d, 'a1.txt', 'a1\n');
    write(d, 'a2.txt', 'a2\n');
    write(d, 'b.log', 'b\n');
    mkdirSync(join(d, 'sub', 'deep'), { recursive: true });
    write(join(d, 'sub', 'deep'), 'c.txt', 'c\n');
    const one = readText(join(d, 'a1.txt'));
    expect(one.npartitions).toBe(1);
    expect(await readText([join(d, 'b.log'), join(d, 'a1.txt')]).compute(sync)).toEqual(['b\n', 'a1\n']);
    const star = readText(join(d, '*.txt'));
    expect(star.npartitions).toBe(2);
    expect(await star.compute(sync)).toEqual(['a1\n', 'a2\n']);
    expect(await readText(join(d, 'a?.txt')).compute(sync)).toEqual(['a1\n', 'a2\n']);
    expect(await readText(join(d, '**', '*.txt')).compute(sync)).toEqual(['a1\n', 'a2\n', 'c\n']);
    expect(await readText(d).compute(sync)).toEqual(['a1\n', 'a2\n', 'b\n']);
  });

  it('names the pattern when a file is missing or a glob matches nothing, when the bag is built', () => {
    const d = freshDir();
    write(d, 'here.txt', 'x\n');
    expect(() => readText(join(d, 'nothere.txt'))).toThrow(/no such file: '.*nothere\.txt'/);
    expect(() => readText([join(d, 'here.txt'), join(d, 'gone.txt')])).toThrow(/gone\.txt/);
    expect(() => readText(join(d, '*.csv'))).toThrow(/no files match '.*\*\.csv'/);
    expect(() => readText([])).toThrow(/no paths/);
    const empty = join(d, 'emptydir');
    mkdirSync(empty);
    expect(() => readText(empty)).toThrow(/has no files/);
  });

  it('rejects unknown options, bad encodings, bad compression and unsupported compressed files', () => {
    const d = freshDir();
    const p = write(d, 'a.txt', 'x\n');
    write(d, 'a.txt.bz2', 'x');
    expect(() => readText(p, { blocksze: 10 } as never)).toThrow(/unknown option 'blocksze'/);
    expect(() => readText(p, { encoding: 'klingon' })).toThrow(/unknown encoding 'klingon'/);
    expect(() => readText(p, { compression: 'zip' as never })).toThrow(/compression/);
    expect(() => readText(p, { blocksize: 0 })).toThrow(/at least 1 byte/);
    expect(() => readText(join(d, 'a.txt.bz2'))).toThrow(/bz2 compression is not supported/);
  });

  it('reads lazily: nothing but the listing happens when the bag is built', async () => {
    const d = freshDir();
    const p = write(d, 'a.txt', 'before\n');
    const b = readText(p);
    writeFileSync(p, 'after\n');
    expect(await b.compute(sync)).toEqual(['after\n']);
    unlinkSync(p);
    await expect(b.compute(sync)).rejects.toThrow(/a\.txt.*no longer exists/);
  });

  it('gives the same name to the same files and options, another to other options', () => {
    const d = freshDir();
    const p = write(d, 'a.txt', 'x\n');
    expect(readText(p).name).toBe(readText(p).name);
    expect(readText(p).name).toMatch(/^read-text-[0-9a-f]{32}$/);
    expect(readText(p, { blocksize: 1 }).name).not.toBe(readText(p).name);
  });
});

describe('readText: blocksize', () => {
  it('parses byte sizes like dask', () => {
    expect(parseBytes(100)).toBe(100);
    expect(parseBytes('64MB')).toBe(64e6);
    expect(parseBytes('64 MiB')).toBe(64 * 2 ** 20);
    expect(parseBytes('5kB')).toBe(5000);
    expect(parseBytes('5k')).toBe(5000);
    expect(parseBytes('2ki')).toBe(2048);
    expect(parseBytes('1e3')).toBe(1000);
    expect(parseBytes('MB')).toBe(1e6);
    expect(parseBytes('1.5 kb')).toBe(1500);
    expect(() => parseBytes('12 parsecs')).toThrow(/byte count/);
  });

  it('cuts a file into about equal ranges, as dask', async () => {
    const d = freshDir();
    const p = write(d, 'a.txt', 'x'.repeat(99) + '\n');
    expect(readText(p, { blocksize: 30 }).npartitions).toBe(4);
    expect(readText(p, { blocksize: '100B' }).npartitions).toBe(1);
    expect(readText(p, { blocksize: 1 }).npartitions).toBe(100);
    expect(await readText(p, { blocksize: 30 }).compute(sync)).toEqual(['x'.repeat(99) + '\n']);
  });

  it('each range owns the lines that start in it: every range of a tricky file, exhaustively', () => {
    const d = freshDir();
    // Lines straddling boundaries, CRLF, lone CR, empty lines, 2/3/4-byte characters, no final newline.
    const text = 'ab\r\ncé€\n\n\u{1F600}x\ry\n€€€€\r\n\n\nlast é';
    const p = write(d, 't.txt', text);
    const size = Buffer.byteLength(text);
    const spec = (start: number, end: number | null): ReadSpec => ({
      path: p, start, end, encoding: 'utf-8', compression: null, includePath: false, byteLines: true,
    });
    const whole = readTextRange(spec(0, null)) as string[];
    expect(whole).toEqual(expectedLines(text));
    for (let a = 0; a <= size; a++) {
      for (let b = a; b <= size; b++) {
        // Three ranges [0, a), [a, b), [b, size) always give the whole file once.
        const got = [...(readTextRange(spec(0, a)) as string[]), ...(readTextRange(spec(a, b)) as string[]), ...(readTextRange(spec(b, size)) as string[])];
        expect(got).toEqual(whole);
      }
    }
  });

  it('gives the same lines as the unsplit read for random texts and blocksizes (property)', async () => {
    const d = freshDir();
    const chars = ['a', 'b', ' ', 'é', '€', '\u{1F600}', '\n', '\n', '\r', '\r\n', '\uFEFF'];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...chars), { maxLength: 200 }).map((cs) => cs.join('')),
        fc.integer({ min: 1, max: 250 }),
        async (text, blocksize) => {
          const p = write(d, `p${n++}.txt`, text);
          const unsplit = await readText(p).compute(sync);
          expect(unsplit).toEqual(expectedLines(text));
          const split = readText(p, { blocksize });
          expect(split.npartitions).toBe(Math.max(1, Math.ceil(Buffer.byteLength(text) / blocksize)));
          expect(await split.compute(sync)).toEqual(unsplit);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('splits long files with long lines across many chunks', async () => {
    const d = freshDir();
    // Lines longer than the reader's read-ahead, so ranges must read on to finish them.
    const lines = Array.from({ length: 14 }, (_, i) => `${i}:` + 'é'.repeat(i * 12_000) + '\n');
    const p = write(d, 'long.txt', lines.join(''));
    for (const bs of [5000, 65536, 100_000, 1 << 20]) {
      expect(await readText(p, { blocksize: bs }).compute(sync)).toEqual(lines);
    }
  });
});

describe('readText: invalid text', () => {
  it('names the file and the byte offset of invalid UTF-8', async () => {
    const d = freshDir();
    const bytes = Buffer.concat([Buffer.from('good line\nbad '), Buffer.from([0xff]), Buffer.from(' here\nmore\n')]);
    const p = write(d, 'bad.txt', bytes);
    await expect(readText(p).compute(sync)).rejects.toThrow(/'.*bad\.txt' is not valid utf-8 text: an invalid byte sequence starting with 0xff at byte offset 14/);
    // With a blocksize the offset is still the file's, whichever range finds it.
    await expect(readText(p, { blocksize: 12 }).compute(sync)).rejects.toThrow(/bad\.txt.*byte offset 14\b/);
    // On the thread pool the task error carries the same message.
    await expect(readText(p, { blocksize: 12 }).compute()).rejects.toThrow(/bad\.txt.*byte offset 14\b/);
  });

  it('reports truncated sequences, overlongs and surrogates at their first byte', async () => {
    const d = freshDir();
    const cases: [number[], number][] = [
      [[0x61, 0x0a, 0xe2, 0x82], 2], // truncated € at the end of the file
      [[0x61, 0xc3, 0x0a], 1], // a lead byte right before a newline
      [[0x61, 0x62, 0xc0, 0xaf], 2], // overlong
      [[0xed, 0xa0, 0x80], 0], // a surrogate
      [[0x61, 0xf4, 0x90, 0x80, 0x80], 1], // above U+10FFFF
    ];
    for (const [bytes, at] of cases) {
      expect(invalidUtf8At(Uint8Array.from(bytes))).toBe(at);
      const p = write(d, `c${at}-${bytes.length}.txt`, Uint8Array.from(bytes));
      await expect(readText(p).compute(sync)).rejects.toThrow(new RegExp(`byte offset ${at}\\b`));
    }
    expect(invalidUtf8At(Buffer.from('ok é € \u{1F600}'))).toBe(-1);
  });

  it('locates errors in other encodings too (utf-16le: a lone surrogate)', async () => {
    const d = freshDir();
    const bytes = Buffer.concat([Buffer.from('ab\ncd', 'utf16le'), Buffer.from([0x00, 0xdc]), Buffer.from('ef', 'utf16le')]);
    const p = write(d, 'u16.txt', bytes);
    await expect(readText(p, { encoding: 'utf-16le' }).compute(sync)).rejects.toThrow(/u16\.txt' is not valid utf-16le text: .*byte offset 1[01]\b/);
  });
});

describe('gzip', () => {
  it('infers gzip from .gz, reads each file as one partition whatever the blocksize', async () => {
    const d = freshDir();
    const text = 'alpha\nbeta\r\ngamma é\n'.repeat(5000);
    write(d, 'a.txt.gz', gzipSync(text));
    write(d, 'b.txt', 'plain\nfile\n');
    const b = readText(join(d, '*'), { blocksize: 5 });
    expect(b.npartitions).toBe(1 + 3); // the gzip file whole, the plain file in three ranges
    expect(await b.compute(sync)).toEqual([...expectedLines(text), 'plain\n', 'file\n']);
    expect(await readText(join(d, 'a.txt.gz')).compute()).toEqual(expectedLines(text));
  });

  it('reads gzip by option whatever the name, and names the file of a corrupt stream', async () => {
    const d = freshDir();
    const p = write(d, 'data.bin', gzipSync('x\ny\n'));
    expect(await readText(p, { compression: 'gzip' }).compute(sync)).toEqual(['x\n', 'y\n']);
    const bad = write(d, 'bad.gz', Buffer.from('this is not gzip at all'));
    await expect(readText(bad).compute(sync)).rejects.toThrow(/cannot read '.*bad\.gz' as gzip/);
    const inv = write(d, 'inv.gz', gzipSync(Buffer.from([0x61, 0x0a, 0xff, 0x0a])));
    await expect(readText(inv).compute(sync)).rejects.toThrow(/inv\.gz.*byte offset 2 of the decompressed data/);
  });

  it('round-trips through toTextFiles with .gz', async () => {
    const d = freshDir();
    const parts = [['a\n', 'b\n'], ['ü\n'], [], ['last']];
    const files = await toTextFiles(bagOf(parts), join(d, 'out', 'part-*.txt.gz'));
    expect(files).toEqual([0, 1, 2, 3].map((i) => join(d, 'out', `part-${i}.txt.gz`)));
    for (const f of files) expect([...readFileSync(f).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(readFileSync(files[0])).toString()).toBe('a\nb\n');
    expect(await readText(join(d, 'out', '*.gz')).compute()).toEqual(parts.flat());
  });
});

describe('toTextFiles', () => {
  it('writes one file per partition, adding newlines only where missing; readText reads it back byte for byte', async () => {
    const d = freshDir();
    const text = 'one\ntwo\r\nthree\n\nfour';
    write(d, 'in.txt', text);
    const lines = readText(join(d, 'in.txt'), { blocksize: 4 });
    const files = await toTextFiles(lines, join(d, 'out', '*.txt'), sync);
    expect(files.length).toBe(lines.npartitions);
    expect(files.map((f) => readFileSync(f, 'utf8')).join('')).toBe(text.replace(/\r\n/g, '\n'));
    const noNl = await toTextFiles(bagOf([['a', 'b', 'c'], ['d']]), join(d, 'nonl', '*.txt'));
    expect(noNl.map((f) => readFileSync(f, 'utf8'))).toEqual(['a\nb\nc', 'd']);
    const withLast = await toTextFiles(bagOf([['a', 'b\n']]), join(d, 'last', '*.txt'), { lastEndline: true });
    expect(readFileSync(withLast[0], 'utf8')).toBe('a\nb\n');
    const plain = await toTextFiles(bagOf([['a', 'b']]), join(d, 'last', 'x-*.txt'), { lastEndline: true });
    expect(readFileSync(plain[0], 'utf8')).toBe('a\nb\n');
  });

  it('writes to a directory as 0.part, 1.part, ... and zero-pads indices like dask', async () => {
    const d = freshDir();
    const files = await toTextFiles(bagOf([['x'], ['y']]), join(d, 'dir'));
    expect(files).toEqual([join(d, 'dir', '0.part'), join(d, 'dir', '1.part')]);
    expect(readdirSync(join(d, 'dir')).sort()).toEqual(['0.part', '1.part']);
    expect(outputPaths(join(d, '*.txt'), 11).map((p) => p.slice(d.length + 1))).toEqual(
      Array.from({ length: 11 }, (_, i) => `${String(i).padStart(2, '0')}.txt`),
    );
    expect(outputPaths(join(d, '*.txt'), 3, (i) => `day-${i + 1}`).map((p) => p.slice(d.length + 1))).toEqual([
      'day-1.txt',
      'day-2.txt',
      'day-3.txt',
    ]);
    const listed = await toTextFiles(bagOf([['p'], ['q']]), [join(d, 'p.txt'), join(d, 'q.txt')]);
    expect(listed.map((f) => readFileSync(f, 'utf8'))).toEqual(['p', 'q']);
  });

  it('writes other encodings', async () => {
    const d = freshDir();
    const [l] = await toTextFiles(bagOf([['café', 'naïve']]), join(d, 'l-*.txt'), { encoding: 'latin1' });
    expect(readFileSync(l)).toEqual(Buffer.from('caf\xe9\nna\xefve', 'latin1'));
    expect(await readText(l, { encoding: 'latin1' }).compute(sync)).toEqual(['café\n', 'naïve']);
    const [u] = await toTextFiles(bagOf([['h\u{1F600}', 'i']]), join(d, 'u-*.txt'), { encoding: 'utf-16le' });
    expect(await readText(u, { encoding: 'utf-16le' }).compute(sync)).toEqual(['h\u{1F600}\n', 'i']);
  });

  it('refuses non-strings, unencodable characters, and bad paths, naming the partition and element', async () => {
    const d = freshDir();
    await expect(toTextFiles(bagOf([['a'], ['b', 3]]), join(d, 'n-*.txt'), sync)).rejects.toThrow(
      /element 1 of partition 1 is number, not a string/,
    );
    await expect(toTextFiles(bagOf([['ok', '€']]), join(d, 'e-*.txt'), { encoding: 'latin1' })).rejects.toThrow(
      /element 1 of partition 0 has the character U\+20AC, which latin1 cannot encode/,
    );
    await expect(toTextFiles(bagOf([['a']]), join(d, '*-*.txt'))).rejects.toThrow(/at most one '\*'/);
    await expect(toTextFiles(bagOf([['a'], ['b']]), [join(d, 'only-one.txt')])).rejects.toThrow(/1 paths given for 2 partitions/);
    await expect(toTextFiles(bagOf([['a']]), join(d, '*.txt'), { encoding: 'ebcdic' })).rejects.toThrow(/cannot write the encoding/);
    await expect(toTextFiles(bagOf([['a']]), join(d, '*.txt'), { sheduler: 'sync' } as never)).rejects.toThrow(/sheduler/);
    expect(existsSync(join(d, '0.txt'))).toBe(false);
  });
});
