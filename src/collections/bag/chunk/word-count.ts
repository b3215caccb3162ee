/**
 * Word counts straight from UTF-8 bytes: the fused form of `readText → str.split() → flatten →
 * frequencies`, the most common bag pipeline (dask's word count).
 *
 * The general path decodes every line into a string, splits it into an array of word strings and
 * looks each one up in a Map: per word occurrence, one string made and hashed. Here the bytes of
 * the lines are scanned once; a word is a run of bytes between whitespace, hashed (FNV-1a) as it
 * is scanned and looked up in an open-addressing table that compares bytes. A string is made once
 * per DISTINCT word, so the work per occurrence is a few byte operations and memory stays at the
 * read buffer plus the table, whatever the size of the partition.
 *
 * Same results as the general path:
 * - Whitespace is `str.split()`'s set (chunk/string.ts isWsCode) in UTF-8: ASCII by a table, the
 *   multi-byte ones (U+00A0, U+1680, U+2000..U+200A, U+2028/9, U+202F, U+205F, U+3000, U+FEFF) by
 *   their bytes. '\r' is whitespace, so universal newlines need nothing, and so is a byte-order
 *   mark, which the line reader drops at the start of a file.
 * - Invalid UTF-8 fails with the line reader's TextDecodeError at the same offset: a whitespace
 *   sequence is a whole valid character that no earlier sequence can continue (its lead byte is
 *   not a continuation byte), so every invalid sequence lies inside a word, and every distinct
 *   word is decoded (fatal) when first seen. Words are first seen in file order, so the first
 *   failure is the earliest invalid byte.
 * - Counts come out in order of first appearance, as `frequencies` gives them.
 * - `str.lower` / `str.upper` / `str.strip()` before the split are applied to each distinct word
 *   afterwards (they commute with the split), merging words that become equal. One exception:
 *   lower-casing maps 'Σ' by its context (final sigma), and U+FEFF is both whitespace and
 *   transparent to that context, so a U+FEFF between words (not a byte-order mark at the start of
 *   the file) makes the count give up; `frequencies` then takes the general path.
 */
import { TextDecodeError, invalidUtf8At } from './text.js';
import { isPartitionStream, type Part, type Utf8Lines } from './stream.js';

/** 1: ASCII whitespace; 2: the lead byte of a multi-byte whitespace character, maybe; 0: neither. */
const CLASS = new Uint8Array(256);
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20]) CLASS[c] = 1;
for (const c of [0xc2, 0xe1, 0xe2, 0xe3, 0xef]) CLASS[c] = 2;

/** The length of the multi-byte whitespace character at b[i] (its lead byte has class 2), or 0. */
function wsLength(b: Uint8Array, i: number, n: number): number {
  const c = b[i];
  if (c === 0xc2) return i + 1 < n && b[i + 1] === 0xa0 ? 2 : 0; // U+00A0
  if (i + 2 >= n) return 0;
  const d = b[i + 1];
  const e = b[i + 2];
  switch (c) {
    case 0xe1:
      return d === 0x9a && e === 0x80 ? 3 : 0; // U+1680
    case 0xe2:
      if (d === 0x80) return (e >= 0x80 && e <= 0x8a) || e === 0xa8 || e === 0xa9 || e === 0xaf ? 3 : 0; // U+2000..200A, 2028, 2029, 202F
      return d === 0x81 && e === 0x9f ? 3 : 0; // U+205F
    case 0xe3:
      return d === 0x80 && e === 0x80 ? 3 : 0; // U+3000
    default:
      return d === 0xbb && e === 0xbf ? 3 : 0; // 0xef: U+FEFF
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Counts the whitespace-separated words of UTF-8 text pushed in pieces that never cut a character. */
export class WordCounter {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** Entry index + 1 per slot; 0 is empty. Its length is a power of two, at least twice the entries. */
  private slots = new Int32Array(1 << 12);
  private hashes = new Int32Array(1 << 11);
  private starts = new Int32Array(1 << 11);
  private lengths = new Int32Array(1 << 11);
  private counts = new Float64Array(1 << 11);
  /** The bytes of every distinct word, back to back. */
  private arena = new Uint8Array(1 << 16);
  private arenaUsed = 0;
  readonly words: string[] = [];
  /** A U+FEFF separated words (not a byte-order mark at offset 0). */
  innerFeff = false;

  constructor(private readonly origin: string) {}

  /** Counts the words of `bytes`, whose first byte is at `offset` in the origin. */
  push(bytes: Uint8Array, offset: number): void {
    // One array type in the loop below (a Buffer would make its element loads polymorphic).
    const b = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    const n = b.length;
    let i = 0;
    while (i < n) {
      let c = b[i];
      if (c <= 0x20 || c >= 0x80) {
        const k = CLASS[c];
        if (k === 1) {
          i++;
          continue;
        }
        if (k === 2) {
          const w = wsLength(b, i, n);
          if (w > 0) {
            if (c === 0xef && offset + i > 0) this.innerFeff = true;
            i += w;
            continue;
          }
        }
      }
      const start = i;
      let h = FNV_OFFSET;
      for (;;) {
        h = Math.imul(h ^ c, FNV_PRIME);
        if (++i >= n) break;
        c = b[i];
        // Printable ASCII is always part of a word: one comparison for most bytes.
        if (c > 0x20 && c < 0x80) continue;
        const k = CLASS[c];
        if (k === 1 || (k === 2 && wsLength(b, i, n) > 0)) break; // the whitespace is seen by the loop above
      }
      this.count(b, start, i, h, offset);
    }
  }

  /** Counts the word b[start, end) with hash h: linear probing from its hash. */
  private count(b: Uint8Array, start: number, end: number, h: number, offset: number): void {
    const len = end - start;
    const { slots, hashes, lengths, starts, arena } = this;
    const mask = slots.length - 1;
    let s = h & mask;
    for (;;) {
      const e = slots[s] - 1;
      if (e < 0) break;
      if (hashes[e] === h && lengths[e] === len) {
        const d = starts[e] - start;
        let j = start;
        while (j < end && arena[d + j] === b[j]) j++;
        if (j === end) {
          this.counts[e]++;
          return;
        }
      }
      s = (s + 1) & mask;
    }
    this.insert(b, start, end, h, offset, s);
  }

  /** A word seen for the first time: decoded (which validates it), stored, counted once. */
  private insert(b: Uint8Array, start: number, end: number, h: number, offset: number, slot: number): void {
    const bytes = b.subarray(start, end);
    let word: string;
    try {
      word = this.decoder.decode(bytes);
    } catch {
      const at = Math.max(0, invalidUtf8At(bytes));
      throw new TextDecodeError(this.origin, offset + start + at, 'utf-8', bytes[at], false);
    }
    const e = this.words.length;
    if (e === this.counts.length) this.growEntries();
    if (this.arenaUsed + bytes.length > this.arena.length) {
      const bigger = new Uint8Array(Math.max(2 * this.arena.length, this.arenaUsed + bytes.length));
      bigger.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = bigger;
    }
    this.arena.set(bytes, this.arenaUsed);
    this.hashes[e] = h;
    this.starts[e] = this.arenaUsed;
    this.lengths[e] = bytes.length;
    this.counts[e] = 1;
    this.arenaUsed += bytes.length;
    this.words.push(word);
    this.slots[slot] = e + 1;
    if (2 * this.words.length > this.slots.length) this.rehash();
  }

  private growEntries(): void {
    const n = 2 * this.counts.length;
    const grow = <A extends Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.hashes = grow(this.hashes, (m) => new Int32Array(m));
    this.starts = grow(this.starts, (m) => new Int32Array(m));
    this.lengths = grow(this.lengths, (m) => new Int32Array(m));
    this.counts = grow(this.counts, (m) => new Float64Array(m));
  }

  private rehash(): void {
    const slots = new Int32Array(2 * this.slots.length);
    const mask = slots.length - 1;
    for (let e = 0; e < this.words.length; e++) {
      let s = this.hashes[e] & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slots = slots;
  }

  /** The words and their counts, in order of first appearance. */
  result(): [words: string[], counts: number[]] {
    return [this.words, Array.from(this.counts.subarray(0, this.words.length))];
  }
}

/** What a fused word count reads: UTF-8 lines, and the str steps to apply to each distinct word. */
export interface WordSource {
  readonly lines: Utf8Lines;
  readonly perWord: readonly ((word: string) => string)[];
}

/**
 * The word count behind a partition that is lines of UTF-8 text, then any steps that commute
 * with splitting on whitespace (`str.lower`, `str.upper`, `str.strip()`), then `str.split()`
 * and `flatten`; undefined for any other partition.
 */
export function wordsOfUtf8(part: Part): WordSource | undefined {
  if (!isPartitionStream(part)) return undefined;
  const { source, stages } = part;
  const n = stages.length;
  if (source.utf8Lines === undefined || n < 2 || stages[n - 1].op !== 'flatten' || stages[n - 2].splitsWords !== true) return undefined;
  const perWord: ((word: string) => string)[] = [];
  for (let s = 0; s < n - 2; s++) {
    const f = stages[s].perWord;
    if (f == null) return undefined;
    perWord.push(f);
  }
  return { lines: source.utf8Lines, perWord };
}

/**
 * The words and their counts, in order of first appearance; undefined when str steps are to be
 * applied and a U+FEFF separated words (see the module comment): count with the general path.
 */
export function countWords({ lines, perWord }: WordSource): [words: string[], counts: number[]] | undefined {
  const counter = new WordCounter(lines.origin);
  lines.run((bytes, offset) => counter.push(bytes, offset));
  const [words, counts] = counter.result();
  if (perWord.length === 0) return [words, counts];
  if (counter.innerFeff) return undefined;
  // Distinct words may become equal ('The', 'the'): merge them, in order of first appearance.
  const index = new Map<string, number>();
  const outWords: string[] = [];
  const outCounts: number[] = [];
  for (let e = 0; e < words.length; e++) {
    let w = words[e];
    for (const f of perWord) w = f(w);
    const at = index.get(w);
    if (at === undefined) {
      index.set(w, outWords.length);
      outWords.push(w);
      outCounts.push(counts[e]);
    } else outCounts[at] += counts[e];
  }
  return [outWords, outCounts];
}
