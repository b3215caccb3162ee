/**
 * The package as a user installs it: the compiled dist/ through the package's own exports map,
 * with pool threads running dist/schedulers/worker-thread.js (no tsx involved).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the built package', () => {
  it('exposes every entry point and computes on threads from dist/', () => {
    if (!existsSync(`${root}/dist/index.js`)) execFileSync('npm', ['run', 'build'], { cwd: root });
    const script = `
      const core = await import('dask-ts');
      for (const sub of ['array', 'bag', 'dataframe', 'distributed']) await import('dask-ts/' + sub);
      const inc = (x) => x + 1;
      const spin = (x) => { const end = Date.now() + 3; while (Date.now() < end); return new Float64Array([x]); };
      const t = core.delayed((xs) => xs.reduce((a, b) => a + b[0], 0))([1, 2, 3].map((i) => core.delayed(spin)(i)));
      console.log(JSON.stringify([await core.getThreads({ x: 1, y: [inc, 'x'] }, 'y'), await t.compute()]));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr, r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('[2,6]');
    expect(r.status).toBe(0);
  });
});
