import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { globToRegExp, pyReplace, pySplit, pyStrip } from '../../../src/collections/bag/chunk/string.js';
import { cases, SCHEDULERS } from './helpers.js';

afterAll(() => shutdownThreadPools());

const NAMES = ['Alice Smith', '  Bob  Jones ', 'Charlie Smith', '', 'dave', 'Ève  Smith\t', 'x-ray*star', 'smith'];

describe.each(SCHEDULERS)('the str namespace on $name', ({ opts }) => {
  it('maps Python str methods over the elements', async () => {
    for (const { label, data, bag } of cases(NAMES)) {
      const s = db.strings(bag);
      expect(await s.lower().compute(opts), label).toEqual(data.map((x) => x.toLowerCase()));
      expect(await s.upper().compute(opts), label).toEqual(data.map((x) => x.toUpperCase()));
      expect(await s.strip().compute(opts), label).toEqual(data.map((x) => x.trim()));
      expect(await s.split().compute(opts), label).toEqual(data.map((x) => x.split(/\s+/).filter(Boolean)));
      expect(await s.split(' ').compute(opts), label).toEqual(data.map((x) => x.split(' ')));
      expect(await s.replace('Smith', 'S.').compute(opts), label).toEqual(data.map((x) => x.replaceAll('Smith', 'S.')));
      expect(await s.contains('Smith').compute(opts), label).toEqual(data.map((x) => x.includes('Smith')));
      expect(await s.startswith('C').compute(opts), label).toEqual(data.map((x) => x.startsWith('C')));
      expect(await s.endswith('h').compute(opts), label).toEqual(data.map((x) => x.endsWith('h')));
    }
  });

  it('match filters by an fnmatch glob, as dask', async () => {
    for (const { label, data, bag } of cases(NAMES)) {
      const s = db.strings(bag);
      expect(await s.match('*Smith').compute(opts), label).toEqual(data.filter((x) => x.endsWith('Smith')));
      expect(await s.match('?ave').compute(opts), label).toEqual(data.filter((x) => x === 'dave'));
      expect(await s.match('[A-C]*').compute(opts), label).toEqual(data.filter((x) => /^[A-C]/.test(x)));
      expect(await s.match('[!A-Z ]*').compute(opts), label).toEqual(data.filter((x) => /^[^A-Z ]/.test(x)));
      expect(await s.match('*[*]*').compute(opts), label).toEqual(data.filter((x) => x.includes('*')));
    }
  });

  it('reports an element that is not a string', async () => {
    const b = db.fromSequence<unknown>(['a', 5, 'b'], { npartitions: 1 }) as db.Bag<string>;
    await expect(db.strings(b).upper().compute(opts)).rejects.toThrow(/str\.upper: partition 0, element 1 \(value: 5\) is not a string/);
    await expect(db.strings(b).match('*').compute(opts)).rejects.toThrow(/str\.match: partition 0, element 1 \(value: 5\) is not a string/);
  });
});

describe('Python string semantics', () => {
  it('split: whitespace runs, explicit separators, maxsplit keeping the rest', () => {
    expect(pySplit('  a b  c  ', null, -1)).toEqual(['a', 'b', 'c']);
    expect(pySplit('  a b  c  ', null, 1)).toEqual(['a', 'b  c  ']);
    expect(pySplit('', null, -1)).toEqual([]);
    expect(pySplit('   ', null, -1)).toEqual([]);
    expect(pySplit('a,b,,c', ',', -1)).toEqual(['a', 'b', '', 'c']);
    expect(pySplit('a,b,,c', ',', 2)).toEqual(['a', 'b', ',c']);
    expect(pySplit('a,b', ',', 0)).toEqual(['a,b']);
    expect(pySplit('', ',', -1)).toEqual(['']);
    expect(pySplit('a\u2003b\x1fc', null, -1)).toEqual(['a', 'b', 'c']);
  });

  it('strip: whitespace or a set of characters, from either end', () => {
    expect(pyStrip('  hi \n', null, true, true)).toBe('hi');
    expect(pyStrip('xxhixyx', 'xy', true, true)).toBe('hi');
    expect(pyStrip('xxhixyx', 'xy', true, false)).toBe('hixyx');
    expect(pyStrip('xxhixyx', 'xy', false, true)).toBe('xxhi');
    expect(pyStrip('😀a😀', '😀', true, true)).toBe('a');
  });

  it('replace: every occurrence or the first count, no $ patterns, empty old', () => {
    expect(pyReplace('aaa', 'a', 'b', -1)).toBe('bbb');
    expect(pyReplace('aaa', 'a', 'b', 2)).toBe('bba');
    expect(pyReplace('a.b', '.', '$&', -1)).toBe('a$&b');
    expect(pyReplace('ab', '', '-', -1)).toBe('-a-b-');
    expect(pyReplace('ab', '', '-', 2)).toBe('-a-b');
    expect(pyReplace('ab', 'x', '-', -1)).toBe('ab');
  });

  it('globs translate as fnmatch does', () => {
    const m = (p: string, s: string) => globToRegExp(p).test(s);
    expect(m('*.txt', 'a.txt')).toBe(true);
    expect(m('*.txt', 'a.txt.gz')).toBe(false);
    expect(m('a?c', 'abc')).toBe(true);
    expect(m('a?c', 'ac')).toBe(false);
    expect(m('[!abc]x', 'dx')).toBe(true);
    expect(m('[!abc]x', 'ax')).toBe(false);
    expect(m('[]]', ']')).toBe(true);
    expect(m('[a-', '[a-')).toBe(true);
    expect(m('a(b)+c^$', 'a(b)+c^$')).toBe(true);
    expect(m('*', 'line\nbreak')).toBe(true);
    expect(m('[\\]', '\\')).toBe(true);
    expect(m('Smith', 'smith')).toBe(false);
  });

  it('checks arguments at graph-building time', () => {
    const s = db.strings(db.fromSequence(['a']));
    expect(() => s.split('')).toThrow(/'sep' must not be empty/);
    expect(() => s.split(' ', 1.5)).toThrow(/'maxsplit' must be an integer >= -1/);
    expect(() => s.replace('a', 5 as never)).toThrow(/str\.replace: 'replacement' must be a string, got 5/);
    expect(() => s.contains(undefined as never)).toThrow(/str\.contains: 'sub' must be a string/);
    expect(() => s.match(3 as never)).toThrow(/str\.match: 'pattern' must be a string/);
  });
});
