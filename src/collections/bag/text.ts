/**
 * Text files in and out of bags: dask.bag's read_text and to_textfiles.
 *
 * `readText` lists the files and their sizes when the bag is built (so a missing file or an empty
 * glob fails at once, naming the pattern) and nothing else: every partition task opens its file and
 * reads its own byte range when the bag is computed, on a pool thread, so a bag over more text than
 * fits in memory streams through it partition by partition. The reading itself is in
 * chunk/text.ts.
 *
 * Decisions (dask's behaviour unless said otherwise):
 * - An element is one line WITH its trailing '\n', as in dask (the last line of a file that does
 *   not end in a newline has none). Newlines are Python's universal newlines: '\r\n' and a lone
 *   '\r' become '\n'. A byte-order mark at the start of a file is dropped.
 * - Without `blocksize` each file is one partition; with it, a file is cut into byte ranges of
 *   about `blocksize` bytes (equal ranges, as dask's read_bytes) and each range owns the lines
 *   that start in it, so lines are never split nor repeated.
 * - gzip is inferred from a '.gz' extension. A gzip file cannot be split: it is one partition
 *   whatever the blocksize (dask raises when asked to split a compressed file; we read it whole, so
 *   a glob over a mix of plain and gzip files works with a blocksize).
 * - Encodings are the WHATWG labels of TextDecoder ('utf8' by default, 'latin1', 'utf-16le', ...).
 *   Invalid text is an error naming the file and the byte offset (dask: errors='strict'). UTF-16
 *   and ISO-2022-JP files are read whole: a blocksize with them is an error.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import type { ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { readTextPartition, writeTextPartition, type ReadSpec, type WriteSpec } from './chunk/text.js';
import { Bag, partitionwise } from './core.js';

export interface ReadTextOptions {
  /**
   * Cut files into byte ranges of about this size: a number of bytes or a string such as
   * '64MB' (10^6) or '64MiB' (2^20), as dask's parse_bytes. Default: one partition per file.
   */
  readonly blocksize?: number | string | null;
  /** A TextDecoder label; default 'utf8'. */
  readonly encoding?: string;
  /** 'infer' (default: gzip for '.gz'), 'gzip', or null for none. */
  readonly compression?: 'infer' | 'gzip' | null;
  /** Elements become [line, path] pairs (dask's include_path). */
  readonly includePath?: boolean;
}

const READ_OPTIONS = ['blocksize', 'encoding', 'compression', 'includePath'];

/** Encodings in which '\n' is not the single byte 0x0A, or which carry state across lines. */
const WHOLE_FILE_ENCODINGS = new Set(['utf-16le', 'utf-16be', 'iso-2022-jp', 'replacement']);

/**
 * A bag of the lines of text files: `readText('logs/*.txt')`, `readText(['a.txt', 'b.txt.gz'])`,
 * `readText('big.txt', { blocksize: '64MB' })`. Globs support `*`, `?`, `**`, `[...]` and `{a,b}`;
 * a directory means the files in it. Lines keep their '\n' (see the module comment).
 */
export function readText(urlpath: string | readonly string[], opts: ReadTextOptions & { includePath: true }): Bag<[string, string]>;
export function readText(urlpath: string | readonly string[], opts?: ReadTextOptions): Bag<string>;
export function readText(urlpath: string | readonly string[], opts: ReadTextOptions = {}): Bag<unknown> {
  checkOptions(opts, 'readText', READ_OPTIONS);
  const blocksize = opts.blocksize == null ? null : parseBytes(opts.blocksize);
  if (blocksize !== null && blocksize < 1) throw new RangeError(`readText: blocksize must be at least 1 byte, got ${String(opts.blocksize)}`);
  const encoding = canonicalEncoding(opts.encoding ?? 'utf8', 'readText');
  const byteLines = !WHOLE_FILE_ENCODINGS.has(encoding);
  if (blocksize !== null && !byteLines) {
    throw new TypeError(
      `readText: a ${encoding} file cannot be cut by blocksize ('\\n' is not one byte there); drop blocksize to read each file whole`,
    );
  }
  const compression = opts.compression === undefined ? 'infer' : opts.compression;
  if (compression !== 'infer' && compression !== 'gzip' && compression !== null) {
    throw new TypeError(`readText: compression must be 'infer', 'gzip' or null, got ${String(compression)}`);
  }
  const includePath = opts.includePath ?? false;

  const specs: ReadSpec[] = [];
  const files = listFiles(urlpath);
  for (const f of files) {
    const gz = compression === 'gzip' || (compression === 'infer' && inferCompression(f.path) === 'gzip');
    const base = { path: f.path, encoding, compression: gz ? ('gzip' as const) : null, includePath, byteLines };
    if (gz || blocksize === null || f.size <= blocksize) {
      specs.push({ ...base, start: 0, end: null });
      continue;
    }
    const n = Math.ceil(f.size / blocksize);
    for (let i = 0; i < n; i++) {
      specs.push({ ...base, start: Math.floor((i * f.size) / n), end: Math.floor(((i + 1) * f.size) / n) });
    }
  }

  const name = `read-text-${tokenize(files.map((f) => [f.path, f.size, f.mtimeMs]), blocksize, encoding, compression, includePath)}`;
  const layer: Graph = {};
  specs.forEach((spec, i) => (layer[tupleKey(name, i)] = [readTextPartition, spec]));
  return new Bag<unknown>(LayeredGraph.of(name, layer), name, specs.length);
}

interface FileInfo {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Every file the paths or globs name, in order (each glob's matches sorted); throws for none. */
export function listFiles(urlpath: string | readonly string[]): FileInfo[] {
  const patterns = typeof urlpath === 'string' ? [urlpath] : urlpath;
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string')) {
    throw new TypeError('readText: the first argument must be a path, a glob, or an array of them');
  }
  if (patterns.length === 0) throw new Error('readText: no paths given');
  const out: FileInfo[] = [];
  for (const pattern of patterns) {
    const abs = resolve(pattern);
    const st = statSync(abs, { throwIfNoEntry: false });
    let paths: string[];
    if (st?.isFile()) {
      out.push({ path: abs, size: st.size, mtimeMs: st.mtimeMs });
      continue;
    } else if (st?.isDirectory()) {
      paths = readdirSync(abs, { withFileTypes: true })
        .filter((d) => !d.name.startsWith('.') && (d.isFile() || (d.isSymbolicLink() && statSync(join(abs, d.name), { throwIfNoEntry: false })?.isFile())))
        .map((d) => join(abs, d.name));
      if (paths.length === 0) throw notFound(`readText: the directory '${pattern}' has no files`);
    } else if (isDynamicPattern(pattern)) {
      paths = globSync(pattern, { absolute: true, onlyFiles: true, expandDirectories: false });
      if (paths.length === 0) throw notFound(`readText: no files match '${pattern}'`);
    } else {
      throw notFound(`readText: no such file: '${pattern}'`);
    }
    paths.sort();
    for (const p of paths) {
      const s = statSync(p, { throwIfNoEntry: false });
      if (!s) throw notFound(`readText: '${p}' (from '${pattern}') vanished while listing`);
      out.push({ path: p, size: s.size, mtimeMs: s.mtimeMs });
    }
  }
  return out;
}

function notFound(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOENT' });
}

function inferCompression(path: string): 'gzip' | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.gz')) return 'gzip';
  for (const ext of ['.bz2', '.xz', '.zst', '.lz4', '.zip']) {
    if (lower.endsWith(ext)) {
      throw new TypeError(`'${path}': ${ext.slice(1)} compression is not supported (only gzip); pass compression: null to read the bytes as text`);
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// writing

export interface ToTextFilesOptions extends ComputeOptions {
  /** 'infer' (default: gzip for '.gz'), 'gzip', or null for none. */
  readonly compression?: 'infer' | 'gzip' | null;
  /** 'utf8' (default), 'utf-16le', 'latin1' or 'ascii'. */
  readonly encoding?: string;
  /** End the last line of each file with '\n' too (dask's last_endline; default false). */
  readonly lastEndline?: boolean;
  /** The text that replaces '*' for partition i; default i, zero-padded to the widest index. */
  readonly nameFunction?: (i: number) => string;
}


const WRITE_ENCODINGS: Record<string, BufferEncoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  'utf-16le': 'utf16le',
  utf16le: 'utf16le',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  ascii: 'ascii',
  'us-ascii': 'ascii',
};

/**
 * Writes one file per partition, one element per line, and resolves to the file names when every
 * file is written (it computes the bag). `path` is a template whose '*' becomes the partition
 * index ('out/part-*.txt'), a directory (files '0.part', '1.part', ...), or an array of one path per
 * partition. gzip is inferred from '.gz'. Elements must be strings; '\n' is added after an element
 * that does not end with one, except after the last of a file (unless `lastEndline`), so a bag
 * read with readText is written back byte for byte. Other options are passed to compute.
 */
export async function toTextFiles(bag: Bag<unknown>, path: string | readonly string[], opts: ToTextFilesOptions = {}): Promise<string[]> {
  const { compression = 'infer', encoding = 'utf8', lastEndline = false, nameFunction, ...computeOpts } = opts;
  if (compression !== 'infer' && compression !== 'gzip' && compression !== null) {
    throw new TypeError(`toTextFiles: compression must be 'infer', 'gzip' or null, got ${String(compression)}`);
  }
  const enc = WRITE_ENCODINGS[String(encoding).toLowerCase()];
  if (enc === undefined) {
    throw new TypeError(`toTextFiles: cannot write the encoding '${String(encoding)}'; use one of utf8, utf-16le, latin1, ascii`);
  }
  if (typeof lastEndline !== 'boolean') throw new TypeError('toTextFiles: lastEndline must be a boolean');
  if (nameFunction !== undefined && typeof nameFunction !== 'function') throw new TypeError('toTextFiles: nameFunction must be a function');
  const paths = outputPaths(path, bag.npartitions, nameFunction);
  const specs: WriteSpec[] = paths.map((p, i) => ({
    path: p,
    partition: i,
    encoding: enc,
    compression: compression === 'gzip' || (compression === 'infer' && inferCompression(p) === 'gzip') ? 'gzip' : null,
    lastEndline,
  }));
  const written = partitionwise<string>('to-textfiles', bag, (i, key) => [writeTextPartition, key, specs[i]], [specs]);
  return written.compute(computeOpts);
}

/** The file of each partition, absolute. */
export function outputPaths(path: string | readonly string[], n: number, nameFunction?: (i: number) => string): string[] {
  if (Array.isArray(path)) {
    if (path.length !== n) throw new RangeError(`toTextFiles: ${path.length} paths given for ${n} partitions`);
    return path.map((p) => resolve(String(p)));
  }
  if (typeof path !== 'string' || path === '') throw new TypeError('toTextFiles: path must be a template with one *, a directory, or an array of paths');
  const stars = path.split('*').length - 1;
  if (stars > 1) throw new TypeError(`toTextFiles: the path '${path}' must contain at most one '*'`);
  const width = String(Math.max(0, n - 1)).length;
  const name = nameFunction ?? ((i: number) => String(i).padStart(width, '0'));
  const template = stars === 1 ? path : join(path, '*.part');
  const out = Array.from({ length: n }, (_, i) => {
    const s = name(i);
    if (typeof s !== 'string') throw new TypeError(`toTextFiles: nameFunction(${i}) returned ${typeof s}, not a string`);
    return resolve(template.replace('*', s));
  });
  if (new Set(out).size !== out.length) throw new Error('toTextFiles: two partitions would write the same file; nameFunction must give distinct names');
  return out;
}

// ---------------------------------------------------------------------------------------------
// helpers

const BYTE_SIZES: Record<string, number> = (() => {
  const base: Record<string, number> = {
    kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15,
    KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50,
    B: 1, '': 1,
  };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(base)) out[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(out)) if (k && !k.includes('i')) out[k[0]] = v; // 'k', 'm', 'g' ...
  for (const [k, v] of Object.entries(out)) if (k.includes('i')) out[k.slice(0, -1)] = v; // 'ki', 'mi' ...
  return out;
})();

/**
 * Bytes from a number or a string such as '64MB', '64 MiB', '1e6', '5kB' (dask's parse_bytes:
 * kB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024, case-insensitive).
 */
export function parseBytes(s: number | string): number {
  if (typeof s === 'number') {
    if (!Number.isFinite(s) || s < 0) throw new RangeError(`not a byte count: ${s}`);
    return Math.floor(s);
  }
  if (typeof s !== 'string') throw new TypeError(`not a byte count: ${String(s)}`);
  const m = /^\s*([0-9]*\.?[0-9]*(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? BYTE_SIZES[m[2].toLowerCase()] : undefined;
  const num = m ? (m[1] === '' ? 1 : Number(m[1])) : NaN;
  if (!m || unit === undefined || !Number.isFinite(num)) {
    throw new TypeError(`could not read '${s}' as a byte count; use a number of bytes or a string like '64MB' or '128MiB'`);
  }
  return Math.floor(num * unit);
}

function canonicalEncoding(label: string, where: string): string {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    throw new TypeError(`${where}: unknown encoding '${label}'; use a TextDecoder label such as 'utf8', 'latin1' or 'utf-16le'`);
  }
}

function checkOptions(opts: object, where: string, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${where}: options must be an object`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new TypeError(`${where}: unknown option '${k}'; known options: ${known.join(', ')}`);
  }
}
