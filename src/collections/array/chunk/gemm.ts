/**
 * C += A·B for float64 matrices: the inner loop of `dot` and `tensordot`. This file holds the
 * plain-JavaScript version and picks the WebAssembly SIMD one (gemm-wasm.ts) when it loads;
 * `gemmSum` writes a sum of products into one C (the WebAssembly path keeps C in its memory across
 * the whole sum).
 *
 * Design (GotoBLAS, scaled down to what V8 does well): the K dimension is cut into slices of KC
 * and the rows of A into panels of MC. For each slice, the B rows are packed once into
 * NR-column strips laid out k-major (`Bp[strip][k][0..NR)`), and each A panel into MR-row strips
 * (`Ap[strip][k][0..MR)`), both contiguous and zero-padded at the edges. The micro-kernel then
 * computes one MR x NR tile of C in local variables, reading both packs sequentially: two small
 * loads feed MR*NR multiply-adds, and nothing is stored until the tile is done. Packing also
 * absorbs the inputs' strides, so transposed or sliced blocks cost no extra copy.
 *
 * Sizes were measured on 1000x1000 blocks: 3.3-4.4 GFLOP/s on one core of the 2-core AMD EPYC
 * this was tuned on, for MR = NR = 4 (16 accumulators and 8 operands; 3x3 and 3x4 are as fast,
 * 4x2, 6x2 and 2x8 slower). An A panel of MC x KC = 64 x 256 doubles (128 KiB) stays in L2
 * while a B strip (KC x NR, 8 KiB) stays in L1.
 */

import { wasmGemm, wasmGemmSum } from './gemm-wasm.js';

/** A strided 2-D view: element (i, j) is `data[offset + i * rs + j * cs]`. */
export interface Mat {
  readonly data: ArrayLike<number>;
  readonly offset: number;
  readonly rs: number;
  readonly cs: number;
}

/** One product of a sum: A is m x k, B is k x n. */
export interface Product {
  readonly k: number;
  readonly a: Mat;
  readonly b: Mat;
}

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;

// Scratch packs, reused by every call on this thread (kernels run one at a time per thread).
let aPack = new Float64Array(MC * KC);
let bPack = new Float64Array(0);

/**
 * C[cOffset + i * ldc + j] += Σ_k A(i, k) · B(k, j) for i < m, j < n, k < kdim: with the
 * WebAssembly SIMD micro-kernel of gemm-wasm.ts when the runtime has it, else in plain JavaScript.
 */
export function gemm(m: number, n: number, kdim: number, a: Mat, b: Mat, c: Float64Array, ldc: number, cOffset = 0): void {
  (wasmGemm ?? gemmJs)(m, n, kdim, a, b, c, ldc, cOffset);
}

/** C[cOffset + i * ldc + j] = Σ_p (A_p·B_p)(i, j): a sum of products into one C, whose old values are not read. */
export function gemmSum(m: number, n: number, products: readonly Product[], c: Float64Array, ldc: number, cOffset = 0): void {
  (wasmGemmSum ?? gemmSumJs)(m, n, products, c, ldc, cOffset);
}

/** gemmSum in plain JavaScript. */
export function gemmSumJs(m: number, n: number, products: readonly Product[], c: Float64Array, ldc: number, cOffset = 0): void {
  for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
  for (const { k, a, b } of products) gemmJs(m, n, k, a, b, c, ldc, cOffset);
}

/** gemm in plain JavaScript (4x4 register tiles). */
export function gemmJs(m: number, n: number, kdim: number, a: Mat, b: Mat, c: Float64Array, ldc: number, cOffset = 0): void {
  if (m === 0 || n === 0 || kdim === 0) return;
  const nStrips = Math.ceil(n / NR);
  if (bPack.length < nStrips * NR * KC) bPack = new Float64Array(nStrips * NR * KC);
  if (aPack.length < MC * KC) aPack = new Float64Array(MC * KC);
  for (let k0 = 0; k0 < kdim; k0 += KC) {
    const kc = Math.min(KC, kdim - k0);
    packB(b, k0, kc, n, bPack);
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      packA(a, i0, mc, k0, kc, aPack);
      for (let s = 0; s < nStrips; s++) {
        const j0 = s * NR;
        const nr = Math.min(NR, n - j0);
        for (let r = 0; r < mc; r += MR) {
          tile(aPack, r * kc, bPack, s * kc * NR, kc, c, cOffset + (i0 + r) * ldc + j0, ldc, Math.min(MR, mc - r), nr);
        }
      }
    }
  }
}

/** B rows k0..k0+kc into NR-wide strips, k-major within a strip; columns past n are zero. */
function packB(b: Mat, k0: number, kc: number, n: number, out: Float64Array): void {
  const { data, rs, cs } = b;
  for (let j0 = 0, s = 0; j0 < n; j0 += NR, s++) {
    const nr = Math.min(NR, n - j0);
    let dst = s * kc * NR;
    let src = b.offset + k0 * rs + j0 * cs;
    if (nr === NR && cs === 1) {
      for (let k = 0; k < kc; k++, src += rs, dst += NR) {
        out[dst] = data[src];
        out[dst + 1] = data[src + 1];
        out[dst + 2] = data[src + 2];
        out[dst + 3] = data[src + 3];
      }
      continue;
    }
    for (let k = 0; k < kc; k++, src += rs, dst += NR) {
      for (let j = 0; j < NR; j++) out[dst + j] = j < nr ? data[src + j * cs] : 0;
    }
  }
}

/** A rows i0..i0+mc, columns k0..k0+kc, into MR-tall strips, k-major; rows past mc are zero. */
function packA(a: Mat, i0: number, mc: number, k0: number, kc: number, out: Float64Array): void {
  const { data, rs, cs } = a;
  for (let r0 = 0; r0 < mc; r0 += MR) {
    const mr = Math.min(MR, mc - r0);
    const base = r0 * kc;
    for (let r = 0; r < MR; r++) {
      let dst = base + r;
      if (r >= mr) {
        for (let k = 0; k < kc; k++, dst += MR) out[dst] = 0;
        continue;
      }
      let src = a.offset + (i0 + r0 + r) * rs + k0 * cs;
      for (let k = 0; k < kc; k++, src += cs, dst += MR) out[dst] = data[src];
    }
  }
}

/** One MR x NR tile: C[co..] += Ap strip · Bp strip; only the first mr rows and nr columns are stored. */
function tile(ap: Float64Array, ao: number, bp: Float64Array, bo: number, kc: number, c: Float64Array, co: number, ldc: number, mr: number, nr: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++, ao += MR, bo += NR) {
    const b0 = bp[bo], b1 = bp[bo + 1], b2 = bp[bo + 2], b3 = bp[bo + 3];
    const a0 = ap[ao], a1 = ap[ao + 1], a2 = ap[ao + 2], a3 = ap[ao + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (mr === MR && nr === NR) {
    let o = co;
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < mr; r++) for (let j = 0; j < nr; j++) c[co + r * ldc + j] += t[r * NR + j];
}
