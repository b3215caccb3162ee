/**
 * Huge pages for large blocks, through the optional native helper (native/huge-pages.c, built by
 * `npm install`).
 *
 * A large block a process receives is memory it has just mapped (glibc maps every allocation
 * above 32 MB afresh), and its first touch costs a page fault per 4 KiB: in this VM about
 * 0.45 ms per MB, more than the copy out of the socket. Advised before it is touched, the kernel
 * backs the memory with 2 MiB transparent huge pages, one fault each: a 100 MB gather took
 * 58-60 ms instead of 94 (median of 5, measured twice). numpy advises every array of 4 MiB or
 * more in the same way, so dask's receives get this too.
 *
 * It is advice: the memory and its contents are the same either way, and where the helper was not
 * built (no compiler at install), the platform has no MADV_HUGEPAGE, the kernel's THP mode is
 * `never`, or DASK_TS_HUGE_PAGES=0 is set, nothing is advised. The kernel may now and then take
 * longer to find a free huge page (seen: one first touch in ~30 took 120-250 ms in this VM).
 */
import { createRequire } from 'node:module';

/** Blocks from this size on are advised (numpy's threshold). */
export const HUGE_PAGE_MIN_BYTES = 4 * 2 ** 20;

type Helper = { adviseHugePages(view: ArrayBufferView): boolean };

let helper: Helper | null | undefined;

/** The native helper, or null when it is not built or turned off. Both src/ and dist/ are two levels below the package. */
export function hugePagesHelper(): Helper | null {
  if (helper !== undefined) return helper;
  if (process.env.DASK_TS_HUGE_PAGES === '0') return (helper = null);
  try {
    helper = createRequire(import.meta.url)('../../build/Release/huge_pages.node') as Helper;
  } catch {
    helper = null;
  }
  return helper;
}

/**
 * Advises huge pages for `view`'s memory when it is at least HUGE_PAGE_MIN_BYTES; call it before
 * the memory is first written. True when advice was given.
 */
export function adviseHugePages(view: Uint8Array): boolean {
  if (view.byteLength < HUGE_PAGE_MIN_BYTES) return false;
  return hugePagesHelper()?.adviseHugePages(view) ?? false;
}
