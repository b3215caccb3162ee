/**
 * The native huge-page helper: built by `npm install` (python3, make and g++ are on every machine
 * this project supports), and the advice reaches the kernel.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adviseHugePages, HUGE_PAGE_MIN_BYTES, hugePagesHelper } from '../../src/schedulers/huge-pages.js';

/** Mappings of this process the kernel marks for huge pages ('hg' in VmFlags). */
function advisedMappings(): number {
  return readFileSync('/proc/self/smaps', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('VmFlags:') && l.split(/\s+/).includes('hg')).length;
}

describe.runIf(process.platform === 'linux')('adviseHugePages', () => {
  it('is built by npm install', () => {
    expect(hugePagesHelper(), 'build/Release/huge_pages.node is missing: run `npm install` (it needs python3, make and a C compiler)').not.toBeNull();
  });

  it('marks the memory of a large block for huge pages, and leaves its contents alone', () => {
    const block = Buffer.from(new SharedArrayBuffer(64 * 2 ** 20));
    block[12345] = 7;
    const before = advisedMappings();
    expect(adviseHugePages(block)).toBe(true);
    expect(advisedMappings()).toBeGreaterThan(before);
    expect(block[12345]).toBe(7);
    block.fill(1);
    expect(block[block.length - 1]).toBe(1);
  });

  it('leaves blocks below the threshold, and blocks holding no whole huge page, alone', () => {
    expect(adviseHugePages(Buffer.alloc(HUGE_PAGE_MIN_BYTES - 1))).toBe(false);
    // The helper on its own: a view smaller than a huge page holds no aligned 2 MiB of memory,
    // and nothing outside a view is ever advised.
    expect(hugePagesHelper()!.adviseHugePages(new Uint8Array(new ArrayBuffer(4096)))).toBe(false);
  });

  it('measures a view in bytes, whatever its element type', () => {
    // 4 MiB of float64 holds at least one aligned 2 MiB page; counted in elements it would not.
    const helper = hugePagesHelper()!;
    expect(helper.adviseHugePages(new Float64Array(new SharedArrayBuffer(4 * 2 ** 20)))).toBe(true);
  });

  it('refuses what is not a typed array, naming what it expects', () => {
    expect(() => hugePagesHelper()!.adviseHugePages({} as never)).toThrow(/expected a typed array/);
    expect(() => hugePagesHelper()!.adviseHugePages(new ArrayBuffer(8) as never)).toThrow(TypeError);
  });
});
