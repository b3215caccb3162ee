import { describe, expect, it } from 'vitest';
import { WORKER_MALLOC_TUNABLES, workerProcessEnv } from '../../../src/distributed/worker/process-env.js';

describe('workerProcessEnv', () => {
  it('adds the allocator settings, keeping the rest of the environment', () => {
    const env = workerProcessEnv({ PATH: '/bin', HOME: '/root' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', GLIBC_TUNABLES: WORKER_MALLOC_TUNABLES });
  });

  it('keeps a GLIBC_TUNABLES the user set, as it is', () => {
    expect(workerProcessEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2');
  });

  it('leaves the allocator alone with DASK_TS_WORKER_MALLOC=system', () => {
    expect(workerProcessEnv({ DASK_TS_WORKER_MALLOC: 'system' }).GLIBC_TUNABLES).toBeUndefined();
  });

  it('turns mmap off for large blocks and keeps up to 1 GiB of freed memory', () => {
    expect(WORKER_MALLOC_TUNABLES.split(':').sort()).toEqual(['glibc.malloc.mmap_max=0', 'glibc.malloc.trim_threshold=1073741824']);
  });
});
