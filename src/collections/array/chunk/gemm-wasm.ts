/**
 * C = Σ_p A_p·B_p (and C += A·B) with WebAssembly SIMD: the fast path of gemm.ts.
 *
 * Design: GotoBLAS/BLIS loops. Columns of C are cut into blocks of NC; for each product and each
 * slice of KC along its k, the B rows are packed once into NR-wide strips (k-major, zero-padded),
 * and for each panel of MC rows of A, the A panel is packed into MR-tall strips; one call of the
 * module's `panel` (gemm-wasm-bytes.ts) then runs every register tile of that panel against every
 * B strip. All loops over tiles run inside WebAssembly: one call from JavaScript per (NC, KC, MC)
 * block, not one per tile. Packing stays in JavaScript: the blocks live in SharedArrayBuffers
 * outside the module's memory, so one pass that reads them (any strides: transposed and sliced
 * blocks cost no extra copy) and writes the packs is the fewest copies there can be.
 *
 * Memory: [C (mp x np) | A pack (MC x KC) | B pack (KC x NC)], each 64-byte aligned, so a B row of
 * a strip is one cache line. C (padded to whole tiles) receives every product of a sum and is
 * copied out once; `gemmSum` starts it from zeros (BLAS's beta = 0), so a tensordot block over 4
 * contracted blocks moves one block out of the module, where calling gemm 4 times would move 8
 * in and out. C larger than `wasmGemmTuning.cPanelBytes` is done a band of rows at a time, to
 * bound that memory. Each thread has its own instance; its memory grows to the largest block seen
 * and stays.
 *
 * Sizes (measured on 1000x1000x1000, 2-core AMD EPYC with 32 KiB L1d and 1 MiB L2 per core, Node
 * 20, under load): MR x NR = 2 x 8 (14 of the 16 vector registers); 4 x 4 was within noise, and
 * tiles of 12 or more accumulators (3x8, 4x6, 6x4, 4x8) spill and run at 11-12 GFLOP/s against
 * 18-21. KC = 384 keeps a B strip (24 KiB) in L1; MC = 128 keeps the A panel (384 KiB) in L2.
 */
import v8 from 'node:v8';
import type { Mat, Product } from './gemm.js';
import { gemmModuleBytes } from './gemm-wasm-bytes.js';

// Constants of this module, not imports from gemm-wasm-bytes.ts: with MR imported, packA took
// five times as long (measured under tsx), as an imported binding is read again on every use.
const MR = 2;
const NR = 8;
const KC = 384;
const MC = 128;
const NC = 2048;

/** Tunable: the most bytes of C held in the module's memory at once (tests lower it to exercise bands). */
export const wasmGemmTuning = { cPanelBytes: 64 * 2 ** 20 };

// The parts of the WebAssembly API used here (this project's TypeScript lib has no DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly validate: (bytes: Uint8Array) => boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> };
  readonly CompileError: new () => Error;
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface GemmModule {
  readonly panel: (ap: number, bp: number, c: number, tiles: number, strips: number, kc: number, ldcBytes: number) => void;
  readonly memory: WasmMemory;
}

/**
 * Whether the fused multiply-add of relaxed SIMD compiles here. Node 22's V8 has it on; Node 20's
 * (11.3) only behind --experimental-wasm-relaxed-simd, which V8 reads when it compiles, so it is
 * switched on here, once, for this one use. DASK_TS_WASM_FMA=0 keeps multiply-then-add.
 */
function fmaCompiles(api: WasmApi): boolean {
  if (process.env.DASK_TS_WASM_FMA === '0') return false;
  const probe = gemmModuleBytes(MR, NR, true);
  if (api.validate(probe)) return true;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return api.validate(probe);
}

function instantiate(api: WasmApi): (GemmModule & { readonly fma: boolean }) | undefined {
  let module: object;
  const fma = fmaCompiles(api);
  try {
    module = new api.Module(gemmModuleBytes(MR, NR, fma));
  } catch (e) {
    if (e instanceof api.CompileError) return undefined; // no SIMD in this runtime
    throw e;
  }
  const e = new api.Instance(module).exports as { panel: GemmModule['panel']; mem: WasmMemory };
  return { panel: e.panel, memory: e.mem, fma };
}

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/** C += Σ products, or C = Σ products when `overwrite` (then C is never read). */
function run(mod: GemmModule, m: number, n: number, products: readonly Product[], c: Float64Array, ldc: number, cOffset: number, overwrite: boolean): void {
  if (m === 0 || n === 0) return;
  const work = products.filter((p) => p.k > 0);
  if (work.length === 0) {
    if (overwrite) for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
    return;
  }
  const band = Math.max(MC, Math.floor(wasmGemmTuning.cPanelBytes / (8 * roundUp(n, NR)) / MC) * MC);
  for (let i0 = 0; i0 < m; i0 += band) {
    const rows = Math.min(band, m - i0);
    const sub = work.map(({ k, a, b }) => ({ k, b, a: { data: a.data, offset: a.offset + i0 * a.rs, rs: a.rs, cs: a.cs } }));
    runBand(mod, rows, n, sub, c, ldc, cOffset + i0 * ldc, overwrite);
  }
}

/** One band of C rows, held whole in the module's memory while every product is added into it. */
function runBand(mod: GemmModule, m: number, n: number, products: readonly Product[], c: Float64Array, ldc: number, cOffset: number, overwrite: boolean): void {
  const mp = roundUp(m, MR);
  const np = roundUp(n, NR);
  const cAt = 0;
  const aAt = cAt + mp * np; // np is a multiple of NR = 8 doubles: 64-byte aligned
  const bAt = aAt + MC * KC;
  const heap = ensure(mod.memory, (bAt + KC * Math.min(np, NC)) * 8);
  for (let i = 0; i < mp; i++) {
    const row = cAt + i * np;
    const copied = !overwrite && i < m ? n : 0;
    if (copied > 0) heap.set(c.subarray(cOffset + i * ldc, cOffset + i * ldc + n), row);
    heap.fill(0, row + copied, row + np);
  }
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const strips = Math.ceil(nc / NR);
    for (const { k, a, b } of products) {
      for (let k0 = 0; k0 < k; k0 += KC) {
        const kc = Math.min(KC, k - k0);
        packB(b, k0, kc, j0, nc, heap, bAt);
        for (let i0 = 0; i0 < m; i0 += MC) {
          const mc = Math.min(MC, m - i0);
          packA(a, i0, mc, k0, kc, heap, aAt);
          mod.panel(8 * aAt, 8 * bAt, 8 * (cAt + i0 * np + j0), Math.ceil(mc / MR), strips, kc, 8 * np);
        }
      }
    }
  }
  for (let i = 0; i < m; i++) c.set(heap.subarray(cAt + i * np, cAt + i * np + n), cOffset + i * ldc);
}

/** A Float64Array over the module's memory, grown to at least `bytes`. */
function ensure(memory: WasmMemory, bytes: number): Float64Array {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
  return new Float64Array(memory.buffer);
}

/** B rows k0..k0+kc, columns j0..j0+nc, into NR-wide strips, k-major within a strip, zero past column nc. */
function packB(b: Mat, k0: number, kc: number, j0: number, nc: number, out: Float64Array, at: number): void {
  const { data, rs, cs } = b;
  for (let s0 = 0; s0 < nc; s0 += NR) {
    const nr = Math.min(NR, nc - s0);
    let dst = at + s0 * kc;
    let src = b.offset + k0 * rs + (j0 + s0) * cs;
    if (nr === NR && cs === 1) {
      // The common case, unrolled: a row-major B, a whole strip.
      for (let k = 0; k < kc; k++, src += rs, dst += NR) {
        out[dst] = data[src];
        out[dst + 1] = data[src + 1];
        out[dst + 2] = data[src + 2];
        out[dst + 3] = data[src + 3];
        out[dst + 4] = data[src + 4];
        out[dst + 5] = data[src + 5];
        out[dst + 6] = data[src + 6];
        out[dst + 7] = data[src + 7];
      }
      continue;
    }
    for (let k = 0; k < kc; k++, src += rs, dst += NR) {
      let j = 0;
      for (; j < nr; j++) out[dst + j] = data[src + j * cs];
      for (; j < NR; j++) out[dst + j] = 0;
    }
  }
}

/** A rows i0..i0+mc, columns k0..k0+kc, into MR-tall strips, k-major, zero past row mc. */
function packA(a: Mat, i0: number, mc: number, k0: number, kc: number, out: Float64Array, at: number): void {
  const { data, rs, cs } = a;
  for (let r0 = 0; r0 < mc; r0 += MR) {
    for (let r = 0; r < MR; r++) {
      let dst = at + r0 * kc + r;
      if (r0 + r >= mc) {
        for (let k = 0; k < kc; k++, dst += MR) out[dst] = 0;
        continue;
      }
      let src = a.offset + (i0 + r0 + r) * rs + k0 * cs;
      for (let k = 0; k < kc; k++, src += cs, dst += MR) out[dst] = data[src];
    }
  }
}

const instance = wasm && instantiate(wasm);

/** Whether the WebAssembly kernel multiplies and adds in one fused instruction (see fmaCompiles). */
export const wasmGemmFma = instance?.fma ?? false;

/**
 * C[cOffset + i * ldc + j] = Σ_p Σ_q A_p(i, q) · B_p(q, j) (C's old values are never read), or
 * undefined when this runtime has no WebAssembly SIMD.
 */
export const wasmGemmSum: ((m: number, n: number, products: readonly Product[], c: Float64Array, ldc: number, cOffset: number) => void) | undefined =
  instance && ((m, n, products, c, ldc, cOffset) => run(instance, m, n, products, c, ldc, cOffset, true));

/** The WebAssembly gemm for one product (gemm.ts's contract), or undefined without WebAssembly SIMD. */
export const wasmGemm: ((m: number, n: number, kdim: number, a: Mat, b: Mat, c: Float64Array, ldc: number, cOffset: number) => void) | undefined =
  instance && ((m, n, kdim, a, b, c, ldc, cOffset) => run(instance, m, n, [{ k: kdim, a, b }], c, ldc, cOffset, false));
