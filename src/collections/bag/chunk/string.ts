/**
 * The kernels of the `str` namespace: Python's str methods with Python's semantics (split on runs
 * of whitespace, strip of a set of characters, replace with a count), and fnmatch-style globs for
 * `match`, which filters.
 */
import { defineKernel } from '../../../graph/shipping/registry.js';
import { badElement } from './errors.js';
import { streamOf, type Part, type PartitionStream, type Sink, type Stage } from './stream.js';

const WS = '\\s\\x1c-\\x1f';

/**
 * Whether the UTF-16 code unit c is whitespace for `str.split()`: JavaScript's \s plus the
 * separators U+001C..U+001F (Python's set, but for U+0085, which it adds, and U+FEFF, which it lacks). A character test
 * on the code, not a regex per character: this is the inner loop of `str.split()`.
 */
function isWsCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

const WORDS = new RegExp(`[^${WS}]+`, 'g');
const leadingWs = new RegExp(`^[${WS}]+`);
const trailingWs = new RegExp(`[${WS}]+$`);

/** Python's str.split(sep, maxsplit). */
export function pySplit(s: string, sep: string | null, maxsplit: number): string[] {
  // Every run of non-whitespace: one global match, V8's fastest way (a little ahead of the loop below).
  if (sep === null && maxsplit < 0) return s.match(WORDS) ?? [];
  if (sep === null) {
    const out: string[] = [];
    const n = s.length;
    let i = 0;
    for (;;) {
      while (i < n && isWsCode(s.charCodeAt(i))) i++;
      if (i >= n) return out;
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(s.slice(i));
        return out;
      }
      let j = i;
      while (j < n && !isWsCode(s.charCodeAt(j))) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  if (sep === '') throw new RangeError('str.split: empty separator');
  const parts = s.split(sep);
  if (maxsplit >= 0 && parts.length > maxsplit + 1) parts.splice(maxsplit, parts.length - maxsplit, parts.slice(maxsplit).join(sep));
  return parts;
}

/** Python's str.strip / lstrip / rstrip(chars). */
export function pyStrip(s: string, chars: string | null, left: boolean, right: boolean): string {
  if (chars === null) {
    if (left) s = s.replace(leadingWs, '');
    if (right) s = s.replace(trailingWs, '');
    return s;
  }
  const set = new Set(chars);
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  if (left) while (a < b && set.has(cps[a])) a++;
  if (right) while (b > a && set.has(cps[b - 1])) b--;
  return cps.slice(a, b).join('');
}

/** Python's str.replace(old, new, count): every occurrence when count < 0. */
export function pyReplace(s: string, old: string, repl: string, count: number): string {
  if (count === 0) return s;
  if (old === '') {
    const cps = Array.from(s);
    const n = count < 0 ? cps.length + 1 : Math.min(count, cps.length + 1);
    let out = '';
    for (let i = 0; i < cps.length; i++) out += (i < n ? repl : '') + cps[i];
    return out + (n > cps.length ? repl : '');
  }
  let out = '';
  let from = 0;
  for (let done = 0; count < 0 || done < count; done++) {
    const at = s.indexOf(old, from);
    if (at < 0) break;
    out += s.slice(from, at) + repl;
    from = at + old.length;
  }
  return out + s.slice(from);
}

/** The JavaScript RegExp of an fnmatch pattern (Python's fnmatch.translate): * ? [seq] [!seq]. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  const cps = Array.from(pattern);
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === '*') {
      re += '.*';
      while (cps[i + 1] === '*') i++;
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      let j = i + 1;
      if (cps[j] === '!') j++;
      if (cps[j] === ']') j++;
      while (j < cps.length && cps[j] !== ']') j++;
      if (j >= cps.length) {
        re += '\\[';
        continue;
      }
      let body = cps.slice(i + 1, j);
      let negate = false;
      if (body[0] === '!') {
        negate = true;
        body = body.slice(1);
      }
      const cls = body.map((ch, k) => (ch === '\\' || ch === ']' || ch === '[' || (ch === '^' && k === 0) ? '\\' + ch : ch)).join('');
      re += cls === '' ? (negate ? '[^]' : '(?!)') : `[${negate ? '^' : ''}${cls}]`;
      i = j;
    } else {
      re += c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${re})$`, 'su');
}

const globs = new Map<string, RegExp>();

function glob(pattern: string): RegExp {
  let re = globs.get(pattern);
  if (re === undefined) {
    re = globToRegExp(pattern);
    if (globs.size > 1000) globs.clear();
    globs.set(pattern, re);
  }
  return re;
}

export type StrMethod =
  | 'lower'
  | 'upper'
  | 'strip'
  | 'lstrip'
  | 'rstrip'
  | 'split'
  | 'replace'
  | 'contains'
  | 'startswith'
  | 'endswith';

const METHODS: Record<StrMethod, (s: string, args: readonly any[]) => unknown> = {
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  strip: (s, [chars]) => pyStrip(s, chars, true, true),
  lstrip: (s, [chars]) => pyStrip(s, chars, true, false),
  rstrip: (s, [chars]) => pyStrip(s, chars, false, true),
  split: (s, [sep, maxsplit]) => pySplit(s, sep, maxsplit),
  replace: (s, [old, repl, count]) => pyReplace(s, old, repl, count),
  contains: (s, [sub]) => s.includes(sub),
  startswith: (s, [prefix]) => s.startsWith(prefix),
  endswith: (s, [suffix]) => s.endsWith(suffix),
};

const same = (w: string): string => w;
const lower = (w: string): string => w.toLowerCase();
const upper = (w: string): string => w.toUpperCase();

/** Stage.perWord of a method: the methods that commute with `str.split()` on whitespace. */
function perWord(method: StrMethod, args: readonly unknown[]): ((word: string) => string) | undefined {
  if (method === 'lower') return lower;
  if (method === 'upper') return upper;
  // Stripping whitespace (no chars given) changes nothing that split keeps.
  if ((method === 'strip' || method === 'lstrip' || method === 'rstrip') && args[0] == null) return same;
  return undefined;
}

/** A str method of every element. */
class StrStage implements Stage {
  readonly op: string;
  readonly splitsWords: boolean;
  readonly perWord: ((word: string) => string) | null | undefined;
  constructor(
    readonly method: StrMethod,
    readonly args: readonly unknown[],
    readonly p: number,
  ) {
    this.op = `str.${method}`;
    this.splitsWords = method === 'split' && args[0] === null && (args[1] as number) < 0;
    this.perWord = perWord(method, args);
  }

  bind(next: Sink): Sink {
    const { args, p, op } = this;
    const f = METHODS[this.method];
    let j = 0;
    if (this.method === 'split') {
      const [sep, maxsplit] = args as [string | null, number];
      return (s) => {
        if (typeof s !== 'string') badElement(op, p, j, s, 'is not a string');
        j++;
        next(pySplit(s, sep, maxsplit));
      };
    }
    return (s) => {
      if (typeof s !== 'string') badElement(op, p, j, s, 'is not a string');
      j++;
      next(f(s, args));
    };
  }
}

/** The strings that match a glob: a filter. */
class StrMatchStage implements Stage {
  readonly op = 'str.match';
  constructor(
    readonly pattern: string,
    readonly p: number,
  ) {}

  bind(next: Sink): Sink {
    const re = glob(this.pattern);
    const p = this.p;
    let j = 0;
    return (s) => {
      if (typeof s !== 'string') badElement('str.match', p, j, s, 'is not a string');
      j++;
      if (re.test(s)) next(s);
    };
  }
}

/** A str method applied to every element: a new stream, no work done. */
export const strMethod = defineKernel('bag.str', (method: StrMethod, args: readonly unknown[], p: number, part: Part): PartitionStream =>
  streamOf(part).pipe(new StrStage(method, args, p)),
);

/** The elements that match an fnmatch pattern: a new stream, no work done. */
export const strMatch = defineKernel('bag.strMatch', (pattern: string, p: number, part: Part): PartitionStream =>
  streamOf(part).pipe(new StrMatchStage(pattern, p)),
);

export const STR_METHODS = Object.keys(METHODS) as StrMethod[];
