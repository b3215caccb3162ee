import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyName, keyPrefix, parseTupleKey, tupleKey } from '../../src/graph/keys.js';

const TOKEN = '0123456789abcdef0123456789abcdef'; // a 32-hex token, as tokenize makes

describe('tupleKey', () => {
  it('prints the tuple as Python does', () => {
    expect(tupleKey('x', 0, 1)).toBe("('x', 0, 1)");
    expect(tupleKey('x', 3)).toBe("('x', 3)");
    expect(tupleKey('x', -2, 0)).toBe("('x', -2, 0)");
    expect(tupleKey('inc-' + TOKEN, 7)).toBe(`('inc-${TOKEN}', 7)`);
  });

  it('prints a 1-tuple with its trailing comma', () => {
    expect(tupleKey('x')).toBe("('x',)");
  });

  it('gives equal strings for equal tuples, different strings for different tuples', () => {
    expect(tupleKey('x', 1, 2)).toBe(tupleKey('x', 1, 2));
    expect(tupleKey('x', 1, 2)).not.toBe(tupleKey('x', 2, 1));
    expect(tupleKey('x', 12)).not.toBe(tupleKey('x', 1, 2));
    expect(tupleKey('x')).not.toBe('x');
  });

  it('refuses a name containing a quote, naming it', () => {
    expect(() => tupleKey("it's", 0)).toThrow(TypeError);
    expect(() => tupleKey("it's", 0)).toThrow(/quote.*it's/);
  });

  it('refuses an index that is not an integer, naming it', () => {
    expect(() => tupleKey('x', 1.5)).toThrow(TypeError);
    expect(() => tupleKey('x', 1.5)).toThrow(/integer.*1\.5/);
    expect(() => tupleKey('x', 0, NaN)).toThrow(/integer.*NaN/);
    expect(() => tupleKey('x', Infinity)).toThrow(TypeError);
  });
});

describe('parseTupleKey', () => {
  it('reads back what tupleKey wrote', () => {
    expect(parseTupleKey("('x', 0, 1)")).toEqual(['x', 0, 1]);
    expect(parseTupleKey("('x', -3)")).toEqual(['x', -3]);
    expect(parseTupleKey(`('inc-${TOKEN}', 4, 5, 6)`)).toEqual([`inc-${TOKEN}`, 4, 5, 6]);
  });

  it('reads a 1-tuple', () => {
    expect(parseTupleKey("('x',)")).toEqual(['x']);
    expect(parseTupleKey(tupleKey('x'))).toEqual(['x']);
  });

  it('answers undefined for plain string keys and strings that only look similar', () => {
    expect(parseTupleKey('x')).toBeUndefined();
    expect(parseTupleKey('inc-' + TOKEN)).toBeUndefined();
    expect(parseTupleKey("('x')")).toBeUndefined(); // a parenthesised string in Python, not a tuple
    expect(parseTupleKey("('x', a)")).toBeUndefined();
    expect(parseTupleKey("('x', 1.5)")).toBeUndefined();
    expect(parseTupleKey("(x, 1)")).toBeUndefined();
    expect(parseTupleKey("('x', 1)  ")).toBeUndefined();
    expect(parseTupleKey('')).toBeUndefined();
  });

  it('round trips any name without a quote and any safe integer index (property)', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes("'")),
        fc.array(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), { maxLength: 5 }),
        (name, index) => {
          const key = tupleKey(name, ...index);
          const parsed = parseTupleKey(key);
          expect(parsed).toBeDefined();
          expect(parsed![0]).toBe(name);
          expect(parsed!.slice(1).map(String)).toEqual(index.map(String));
          expect(tupleKey(...parsed!)).toBe(key);
        },
      ),
    );
  });

  it('keeps names with commas, spaces and parentheses intact', () => {
    const name = 'a, 1) (b';
    expect(parseTupleKey(tupleKey(name, 2))).toEqual([name, 2]);
  });
});

describe('keyName', () => {
  it('is the name of a tuple key and the key itself otherwise', () => {
    expect(keyName(tupleKey('x', 0, 1))).toBe('x');
    expect(keyName(tupleKey('x'))).toBe('x');
    expect(keyName('x')).toBe('x');
    expect(keyName('inc-' + TOKEN)).toBe('inc-' + TOKEN);
  });
});

describe('keyPrefix', () => {
  it('drops the token of a tokenized name', () => {
    expect(keyPrefix('inc-' + TOKEN)).toBe('inc');
    expect(keyPrefix('add-deadbeef')).toBe('add');
  });

  it('drops the token and the index of a tuple key', () => {
    expect(keyPrefix(tupleKey('inc-' + TOKEN, 0))).toBe('inc');
    expect(keyPrefix(tupleKey('inc-' + TOKEN, 3, 4))).toBe('inc');
    expect(keyPrefix(tupleKey('x', 3))).toBe('x');
  });

  it('keeps dashes that belong to the name', () => {
    expect(keyPrefix('read-csv-' + TOKEN)).toBe('read-csv');
    expect(keyPrefix(tupleKey('from-array-' + TOKEN, 0, 0))).toBe('from-array');
  });

  it('is the whole name when there is no token', () => {
    expect(keyPrefix('x')).toBe('x');
    expect(keyPrefix('read-csv')).toBe('read-csv');
    expect(keyPrefix('x-1')).toBe('x'); // numbers end the prefix, as dask's key_split
    expect(keyPrefix('x-0-17')).toBe('x');
    expect(keyPrefix('hello-world-1')).toBe('hello-world');
    expect(keyPrefix('random-fc814a39-ee00-42f3-8b6f-cac65bcb5556')).toBe('random');
    expect(keyPrefix('')).toBe('');
  });
});
