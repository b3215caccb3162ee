/**
 * npm's install step for dask-ts: builds the optional native helper (block-pool.cc) with npm's own
 * node-gyp. Without it everything works the same, only a process that receives large frames
 * faults in fresh memory for each (slower), so a failed build is reported and the install goes on.
 * DASK_TS_NATIVE=0 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (process.env.DASK_TS_NATIVE === '0') process.exit(0);
// npm gives its bundled node-gyp to install scripts as npm_config_node_gyp (a .js file).
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp && existsSync(gyp) ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status !== 0) {
  console.warn(
    `dask-ts: the optional native helper was not built (${r.error?.message ?? `node-gyp exited ${r.status}`}); ` +
      'dask-ts works without it, receiving large data somewhat slower. It needs python3, make and a C++ compiler.',
  );
}
