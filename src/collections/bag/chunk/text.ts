/**
 * Kernels of text input and output: read the lines of one byte range of one file, and write one
 * partition to one file. Both run inside partition tasks, on pool threads; nothing here runs when a
 * bag is built.
 *
 * Reading a byte range [start, end) follows the usual rule for splitting text files: a range owns
 * the lines that START inside it. It skips the partial line it begins in (unless it begins at byte
 * 0) and reads past its end to finish its last line, so consecutive ranges give every line of the
 * file exactly once. Line starts are found on bytes (0x0A), which is a character boundary in every
 * encoding where '\n' is that one byte (UTF-8, the single-byte encodings, GBK, Big5, EUC,
 * Shift_JIS); UTF-16 and ISO-2022-JP files are read whole (text.ts refuses a blocksize for them).
 *
 * Lines follow Python's universal newlines, as dask's read_text does: '\r\n' and a lone '\r' become
 * '\n', and every line keeps its '\n' (the last line of a file without a final newline has none).
 * Bytes are decoded with a fatal TextDecoder, one piece of whole lines at a time; invalid text
 * stops the read with an error naming the file and the byte offset.
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import { createGunzip, createGzip } from 'node:zlib';
import { defineKernel } from '../../../graph/shipping/registry.js';
import { each, isPartitionStream, PartitionStream, type BytePush, type Part, type Sink, type Source, type Utf8Lines } from './stream.js';

/** What one read task reads. A plain object, so the graph passes it to the kernel as it is. */
export interface ReadSpec {
  readonly path: string;
  /** First byte of the range. */
  readonly start: number;
  /** One past the last byte of the range; null reads the whole file. */
  readonly end: number | null;
  /** A TextDecoder label, already validated. */
  readonly encoding: string;
  readonly compression: 'gzip' | null;
  /** Elements are [line, path] instead of line. */
  readonly includePath: boolean;
  /** False for encodings where '\n' is not the byte 0x0A (UTF-16): the file is decoded whole. */
  readonly byteLines: boolean;
}

/** What one write task writes. */
export interface WriteSpec {
  readonly path: string;
  readonly partition: number;
  /** A Buffer encoding: 'utf8', 'utf16le', 'latin1' or 'ascii'. */
  readonly encoding: BufferEncoding;
  readonly compression: 'gzip' | null;
  /** Also end the last line with '\n' when it has none (dask's last_endline). */
  readonly lastEndline: boolean;
}

/** Bytes read per system call, at most. */
const CHUNK = 1 << 20;
/**
 * Bytes of whole lines decoded at a time, at most (unless one line is longer). The text of a
 * bigger piece would be a large object that outlives several young-generation collections while
 * its lines are used; with pieces this small the general path's peak RSS over a 10 MB partition
 * fell from ~130 to ~50 MiB above the idle pool, for the same time.
 */
const DECODE_PIECE = 32 << 10;
/** Bytes read past the end of a range at first, to finish its last line. */
const SLACK = 64 << 10;
const NL = 0x0a;

/** The lines a range owns, as an array. Plain files are read synchronously; gzip streams through zlib. */
export const readTextRange = defineKernel(
  'bag.read-text',
  (spec: ReadSpec): unknown[] | Promise<unknown[]> => {
    if (spec.compression === 'gzip') return readGzip(spec);
    const lines: unknown[] = [];
    new TextSource(spec).run((line) => {
      lines.push(line);
    });
    return lines;
  },
);

/**
 * The lines a range owns, as readText's partitions: for a plain file a stream whose source reads
 * the range when it is run, so the lines go one by one into the steps after it (a fused
 * map → flatten → frequencies never holds the partition's lines); gzip is read whole.
 */
export const readTextPartition = defineKernel(
  'bag.read-text-stream',
  (spec: ReadSpec): PartitionStream | Promise<unknown[]> =>
    spec.compression === 'gzip' ? readGzip(spec) : new PartitionStream(new TextSource(spec)),
);

/** The lines of a byte range of a plain text file. */
class TextSource implements Source {
  /** UTF-8 lines can be read as bytes by consumers that work on bytes (chunk/word-count.ts). */
  readonly utf8Lines: Utf8Lines | undefined;

  constructor(readonly spec: ReadSpec) {
    this.utf8Lines =
      spec.encoding === 'utf-8' && !spec.includePath
        ? { origin: spec.path, run: (push) => readPlain(spec, new LinePieces(true, push)) }
        : undefined;
  }

  run(sink: Sink): void {
    const { spec } = this;
    readPlain(spec, new LinePieces(spec.byteLines, lineDecoder(spec, spec.start === 0, false, sink)));
  }
}

/** Pushes the bytes of the lines the range owns into `sink`, in pieces of whole lines. */
function readPlain(spec: ReadSpec, sink: LinePieces): void {
  const { path, start } = spec;
  const end = spec.end ?? Infinity;
  if (end <= start) return;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fileError(path, e);
  }
  const buf = takeReadBuffer();
  try {
    const size = fstatSync(fd).size;
    let skipping = start > 0;
    let pos = skipping ? start - 1 : 0;
    for (;;) {
      // Up to the range's end plus a little (most last lines end there), then a little at a time.
      const want = pos >= end ? SLACK : Math.max(1, Math.min(CHUNK, end - pos + SLACK, size - pos));
      const n = readSync(fd, buf, 0, want, pos);
      if (n === 0) break;
      let chunk: Uint8Array = buf.subarray(0, n);
      let off = pos;
      pos += n;
      if (skipping) {
        // The line in progress at `start` belongs to the range before: skip to the byte after
        // the first '\n' at or after start - 1. No line starts here if that is at or past `end`.
        const i = chunk.indexOf(NL);
        if (i < 0) {
          if (pos >= end) return;
          continue;
        }
        if (off + i + 1 >= end) return;
        skipping = false;
        chunk = chunk.subarray(i + 1);
        off += i + 1;
        if (chunk.length === 0) continue;
      }
      if (off + chunk.length >= end) {
        // This chunk holds byte end - 1 (or lies past it): the last owned line ends at the
        // first '\n' from there.
        const j = chunk.indexOf(NL, Math.max(0, end - 1 - off));
        if (j >= 0) {
          sink.push(chunk.subarray(0, j + 1), off);
          sink.end();
          return;
        }
      }
      sink.push(chunk, off);
    }
    if (!skipping) sink.end();
  } finally {
    closeSync(fd);
    giveReadBuffer(buf);
  }
}

/**
 * The read buffer of this thread, reused by every read: a fresh buffer per partition is external
 * memory that the JavaScript heap's collector does not see, and a reader that allocates little
 * else (the byte word count) ran up tens of MB of them before a collection. A read that starts
 * while another is in progress (a stage that reads a file itself) gets a buffer of its own.
 */
let readBuffer: Buffer | undefined;
let readBufferBusy = false;

/** A buffer of CHUNK bytes, the most one read asks for. */
function takeReadBuffer(): Buffer {
  if (readBufferBusy) return Buffer.allocUnsafe(CHUNK);
  readBufferBusy = true;
  return (readBuffer ??= Buffer.allocUnsafe(CHUNK));
}

function giveReadBuffer(buf: Buffer): void {
  if (buf === readBuffer) readBufferBusy = false;
}

async function readGzip(spec: ReadSpec): Promise<unknown[]> {
  const lines: unknown[] = [];
  const push: Sink = (line) => {
    lines.push(line);
  };
  const sink = new LinePieces(spec.byteLines, lineDecoder(spec, true, true, push));
  let off = 0;
  let failed: unknown;
  try {
    await pipeline(
      createReadStream(spec.path, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 256 << 10 }),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          try {
            sink.push(chunk, off);
          } catch (e) {
            failed = e; // pipeline may reject with the abort of the streams instead
            throw e;
          }
          off += chunk.length;
        }
      },
    );
  } catch (e) {
    if (failed !== undefined) throw failed;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw fileError(spec.path, e);
    throw new Error(`readText: cannot read '${spec.path}' as gzip: ${(e as Error).message}`, { cause: e });
  }
  sink.end();
  return lines;
}

function fileError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'the file no longer exists' : (e as Error).message;
  return new Error(`readText: cannot read '${path}': ${why}`, { cause: e });
}

/** Text that is not valid in its encoding; the message names the file and the byte offset. */
export class TextDecodeError extends Error {
  override name = 'TextDecodeError';
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly encoding: string,
    byte: number | undefined,
    decompressed: boolean,
  ) {
    const what = byte === undefined ? 'an invalid byte sequence' : `an invalid byte sequence starting with 0x${byte.toString(16).padStart(2, '0')}`;
    super(
      `readText: '${path}' is not valid ${encoding} text: ${what} at byte offset ${offset}` +
        (decompressed ? ' of the decompressed data' : ''),
    );
  }
}

/**
 * Cuts bytes that arrive in chunks (each with its offset in the file) into pieces of whole lines,
 * passed to `emit`: a piece always ends at a '\n' (or at the end), so it holds whole characters.
 * The bytes after the last '\n' of a chunk wait (copied) for the next one. Without `byteLines`
 * (UTF-16) nothing is cut: the whole input is one piece.
 */
class LinePieces {
  private carry: Uint8Array[] = [];
  private carryLen = 0;
  private carryOffset = 0;

  constructor(
    private readonly byteLines: boolean,
    private readonly emit: BytePush,
  ) {}

  /** Takes a chunk; the caller may reuse its memory afterwards. */
  push(chunk: Uint8Array, offset: number): void {
    const last = this.byteLines ? chunk.lastIndexOf(NL) : -1;
    if (last < 0) {
      this.keep(new Uint8Array(chunk), offset); // a copy: Buffer's slice would be a view
      return;
    }
    let from = 0;
    if (this.carryLen > 0) {
      const firstNl = chunk.indexOf(NL);
      this.carry.push(chunk.subarray(0, firstNl + 1));
      this.emit(concat(this.carry, this.carryLen + firstNl + 1), this.carryOffset);
      this.carry = [];
      this.carryLen = 0;
      from = firstNl + 1;
    }
    if (from <= last) this.emit(chunk.subarray(from, last + 1), offset + from);
    if (last + 1 < chunk.length) this.keep(new Uint8Array(chunk.subarray(last + 1)), offset + last + 1);
  }

  /** Passes on what is left (a last line without '\n'). */
  end(): void {
    if (this.carryLen > 0) this.emit(concat(this.carry, this.carryLen), this.carryOffset);
    this.carry = [];
    this.carryLen = 0;
  }

  private keep(bytes: Uint8Array, offset: number): void {
    if (this.carryLen === 0) this.carryOffset = offset;
    this.carry.push(bytes);
    this.carryLen += bytes.length;
  }
}

/**
 * Decodes pieces of whole lines (a fatal TextDecoder) and pushes their lines to `out`. A
 * byte-order mark is dropped from the first piece when it is the file's first byte.
 */
function lineDecoder(spec: ReadSpec, atFileStart: boolean, decompressed: boolean, out: Sink): BytePush {
  let first = atFileStart;
  const keepBOM = new TextDecoder(spec.encoding, { fatal: true, ignoreBOM: true });
  const dropBOM = new TextDecoder(spec.encoding, { fatal: true });
  const decodePiece: BytePush = (bytes, offset) => {
    const decoder = first ? dropBOM : keepBOM;
    first = false;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const at = Math.max(0, invalidAt(bytes, spec.encoding));
      throw new TextDecodeError(spec.path, offset + at, spec.encoding, bytes[at], decompressed);
    }
    if (spec.includePath) addLines(text, out, spec.path);
    else addLines(text, out);
  };
  if (!spec.byteLines) return decodePiece;
  return (bytes, offset) => {
    let from = 0;
    while (bytes.length - from > DECODE_PIECE) {
      // The last '\n' within DECODE_PIECE bytes, or the first after them for a longer line.
      let nl = bytes.lastIndexOf(NL, from + DECODE_PIECE - 1);
      if (nl < from) nl = bytes.indexOf(NL, from + DECODE_PIECE);
      if (nl < 0 || nl === bytes.length - 1) break;
      decodePiece(bytes.subarray(from, nl + 1), offset + from);
      from = nl + 1;
    }
    decodePiece(from === 0 ? bytes : bytes.subarray(from), offset + from);
  };
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Pushes the lines of `text` to `out`, each with its '\n', after universal-newline translation. */
export function addLines(text: string, out: Sink, path?: string): void {
  if (text.indexOf('\r') >= 0) text = text.replace(/\r\n?/g, '\n');
  const n = text.length;
  let p = 0;
  while (p < n) {
    const q = text.indexOf('\n', p);
    const e = q < 0 ? n : q + 1;
    const line = text.slice(p, e);
    out(path === undefined ? line : [line, path]);
    p = e;
  }
}

/**
 * Where decoding `bytes` fails: the first byte of the offending sequence for UTF-8 (exact), the
 * byte at which a streaming decoder first fails for other encodings. -1 if nothing fails.
 */
export function invalidAt(bytes: Uint8Array, encoding: string): number {
  const canonical = new TextDecoder(encoding).encoding;
  if (canonical === 'utf-8') return invalidUtf8At(bytes);
  const fails = (m: number, stream: boolean): boolean => {
    try {
      new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, m), { stream });
      return false;
    } catch {
      return true;
    }
  };
  if (fails(bytes.length, true)) {
    // Streaming failure is monotone in the prefix length: find the shortest failing prefix.
    let lo = 0;
    let hi = bytes.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (fails(mid, true)) hi = mid;
      else lo = mid;
    }
    return hi - 1;
  }
  // Only the end fails: an incomplete sequence. It starts where the longest complete prefix ends.
  for (let m = bytes.length - 1; m >= Math.max(0, bytes.length - 4); m--) if (!fails(m, false)) return m;
  return fails(bytes.length, false) ? Math.max(0, bytes.length - 1) : -1;
}

/** The offset of the first invalid or incomplete UTF-8 sequence (as the WHATWG decoder sees it), or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return i;
      const d = b[i + k];
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// writing

/**
 * Writes one partition to one file, one element per line; returns [path]. A stream is run once:
 * its elements are checked and encoded as they come, and the file is written from the bytes, so
 * the partition never exists as an array of strings (and a bad element still leaves no file).
 */
export const writeTextPartition = defineKernel(
  'bag.to-text-file',
  async (partition: unknown, spec: WriteSpec): Promise<string[]> => {
    let chunks: Iterable<Buffer>;
    if (isPartitionStream(partition)) chunks = encodeStream(partition, spec);
    else {
      if (!Array.isArray(partition)) throw new TypeError(`toTextFiles: partition ${spec.partition} is not an array`);
      checkElements(partition, spec);
      chunks = encodeLines(partition, spec);
    }
    mkdirSync(dirname(spec.path), { recursive: true });
    const source = Readable.from(chunks);
    if (spec.compression === 'gzip') await pipeline(source, createGzip(), createWriteStream(spec.path));
    else await pipeline(source, createWriteStream(spec.path));
    return [spec.path];
  },
);

function checkElements(items: readonly unknown[], spec: WriteSpec): void {
  const bad = unencodable(spec);
  for (let j = 0; j < items.length; j++) checkElement(items[j], j, spec, bad);
}

/** The characters the encoding cannot write, if any. */
function unencodable(spec: WriteSpec): RegExp | undefined {
  return spec.encoding === 'latin1' ? /[^\x00-\xff]/ : spec.encoding === 'ascii' ? /[^\x00-\x7f]/ : undefined;
}

function checkElement(s: unknown, j: number, spec: WriteSpec, bad: RegExp | undefined): asserts s is string {
  if (typeof s !== 'string') {
    const what = s === null ? 'null' : Array.isArray(s) ? 'an array' : typeof s;
    throw new TypeError(
      `toTextFiles: element ${j} of partition ${spec.partition} is ${what}, not a string; ` +
        `map the bag to strings first, e.g. .map(JSON.stringify)`,
    );
  }
  if (bad) {
    const m = bad.exec(s);
    if (m) {
      throw new RangeError(
        `toTextFiles: element ${j} of partition ${spec.partition} has the character ` +
          `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which ${spec.encoding} cannot encode`,
      );
    }
  }
}

/** A stream's bytes, about 1 MB per buffer: every element is checked and encoded as it comes. */
function encodeStream(part: Part, spec: WriteSpec): Buffer[] {
  const bad = unencodable(spec);
  const out: Buffer[] = [];
  let parts: string[] = [];
  let size = 0;
  let j = 0;
  // Whether the element before needs a '\n' after it; known only once the next one comes.
  let pending = false;
  each(part, (s) => {
    checkElement(s, j++, spec, bad);
    if (pending) {
      parts.push('\n');
      size++;
    }
    parts.push(s);
    size += s.length;
    pending = !s.endsWith('\n');
    if (size >= 1 << 20) {
      out.push(Buffer.from(parts.join(''), spec.encoding));
      parts = [];
      size = 0;
    }
  });
  if (pending && spec.lastEndline) parts.push('\n');
  if (parts.length > 0) out.push(Buffer.from(parts.join(''), spec.encoding));
  return out;
}

/** The partition's bytes, about 1 MB at a time. */
function* encodeLines(items: readonly unknown[], spec: WriteSpec): Generator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  const last = items.length - 1;
  for (let j = 0; j <= last; j++) {
    const s = items[j] as string;
    parts.push(s);
    size += s.length;
    if ((j < last || spec.lastEndline) && !s.endsWith('\n')) {
      parts.push('\n');
      size++;
    }
    if (size >= 1 << 20) {
      yield Buffer.from(parts.join(''), spec.encoding);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.from(parts.join(''), spec.encoding);
}
