/** The word-count example, run as a user runs it: the bag version and the futures version agree. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../examples/word-count.ts', import.meta.url));

function topTen(...args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 90_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => /^ {2}\S+\s+\d+$/.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
}

describe('examples/word-count.ts', () => {
  it('prints the same ten words with the bag API and with futures on an in-process cluster', () => {
    const bag = topTen();
    expect(bag).toHaveLength(10);
    expect(bag[0]).toMatch(/^the \d+$/);
    expect(topTen('--futures')).toEqual(bag);
  });
});
