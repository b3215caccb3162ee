/**
 * C += A·B with a WebAssembly SIMD micro-kernel: the fast path of gemm.ts.
 *
 * Design: the same packed GotoBLAS loops as the plain-JavaScript gemm, but the MR x NR tile is
 * computed by a one-loop WebAssembly function over f64x2 lanes (V8 compiles it to SSE/AVX; plain
 * JavaScript is scalar). Tiles are 2 x 8: per step of k, four 2-lane loads of B, two broadcast
 * loads of A and eight multiply-adds on eight 2-lane accumulators, which fit the 16 vector
 * registers. The module is emitted here, byte by byte, when this file loads (no binary blob, no
 * build step); Node without WebAssembly SIMD leaves `wasmGemm` undefined and gemm.ts stays on
 * plain JavaScript.
 *
 * Memory: the packs and the whole C block (padded to whole tiles) live in the module's memory, so
 * each tile adds into C there; C is copied in before and out after each call. C blocks larger
 * than `wasmGemmTuning.cPanelBytes` are done a band of rows at a time, to bound that memory. Each thread has its
 * own instance; its memory grows to the largest block seen and stays.
 *
 * Measured on 1000x1000 float64 blocks (2-core AMD EPYC, Node 20): 12-16 GFLOP/s for 2x8 tiles
 * with KC = 256, MC = 64, against 3.5-4.4 for the best plain-JavaScript tile (4x4) and 11-12 for
 * 4x4 SIMD tiles; 4x8 spills registers (11), 1x16 is bound by its loads (8).
 */
import type { Mat } from './gemm.js';

const MR = 2;
const NR = 8;
const KC = 256;
const MC = 64;

/** Tunable: the most bytes of C held in the module's memory at once (tests lower it to exercise bands). */
export const wasmGemmTuning = { cPanelBytes: 64 * 2 ** 20 };

// The parts of the WebAssembly API used here (this project's TypeScript lib has no DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> };
  readonly CompileError: new () => Error;
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface TileModule {
  readonly tile: (ap: number, bp: number, kc: number, c: number, ldcBytes: number) => void;
  readonly memory: WasmMemory;
}

function instantiate(api: WasmApi): TileModule | undefined {
  let module: object;
  try {
    module = new api.Module(tileModuleBytes());
  } catch (e) {
    if (e instanceof api.CompileError) return undefined; // no SIMD in this runtime
    throw e;
  }
  const e = new api.Instance(module).exports as { tile: TileModule['tile']; mem: WasmMemory };
  return { tile: e.tile, memory: e.mem };
}

function run(mod: TileModule, m: number, n: number, kdim: number, a: Mat, b: Mat, c: Float64Array, ldc: number, cOffset: number): void {
  if (m === 0 || n === 0 || kdim === 0) return;
  const np = Math.ceil(n / NR) * NR;
  const band = Math.max(MC, Math.floor(wasmGemmTuning.cPanelBytes / (8 * np) / MC) * MC);
  for (let i0 = 0; i0 < m; i0 += band) {
    const rows = Math.min(band, m - i0);
    const sub: Mat = { data: a.data, offset: a.offset + i0 * a.rs, rs: a.rs, cs: a.cs };
    runBand(mod, rows, n, kdim, sub, b, c, ldc, cOffset + i0 * ldc);
  }
}

/** One band of C rows, held whole in the module's memory: [C (mp x np) | A pack | B pack]. */
function runBand(mod: TileModule, m: number, n: number, kdim: number, a: Mat, b: Mat, c: Float64Array, ldc: number, cOffset: number): void {
  const mp = Math.ceil(m / MR) * MR;
  const np = Math.ceil(n / NR) * NR;
  const cAt = 0;
  const aAt = cAt + mp * np;
  const bAt = aAt + MC * KC;
  const heap = ensure(mod.memory, (bAt + KC * np) * 8);
  for (let i = 0; i < mp; i++) {
    const row = cAt + i * np;
    if (i < m) heap.set(c.subarray(cOffset + i * ldc, cOffset + i * ldc + n), row);
    heap.fill(0, i < m ? row + n : row, row + np);
  }
  for (let k0 = 0; k0 < kdim; k0 += KC) {
    const kc = Math.min(KC, kdim - k0);
    packB(b, k0, kc, n, heap, bAt);
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      packA(a, i0, mc, k0, kc, heap, aAt);
      for (let s = 0; s * NR < n; s++) {
        const bp = 8 * (bAt + s * kc * NR);
        for (let r = 0; r < mc; r += MR) mod.tile(8 * (aAt + r * kc), bp, kc, 8 * (cAt + (i0 + r) * np + s * NR), 8 * np);
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

/** B rows k0..k0+kc into NR-wide strips, k-major within a strip, zero past column n. */
function packB(b: Mat, k0: number, kc: number, n: number, out: Float64Array, at: number): void {
  const { data, rs, cs } = b;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const nr = Math.min(NR, n - j0);
    let dst = at + j0 * kc;
    let src = b.offset + k0 * rs + j0 * cs;
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

// --- The module, emitted as bytes (WebAssembly binary format, SIMD proposal opcodes). ---

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
/** Signed LEB128, as i32.const takes its operand. */
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
};
const i32Const = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const memarg = (offset: number) => [3, ...uleb(offset)]; // alignment hint 2^3
const V128_LOAD = 0x00;
const V128_LOAD64_SPLAT = 0x0a;
const V128_STORE = 0x0b;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;

/**
 * `tile(ap, bp, kc, c, ldc)`: for k < kc, acc[r][j] += ap[k*MR + r] * bp[k*NR + j]; then adds
 * the MR x NR accumulators into C at byte address c, rows ldc bytes apart.
 */
function tileModuleBytes(): Uint8Array {
  const [AP, BP, KCP, C, LDC] = [0, 1, 2, 3, 4];
  const lanes = NR / 2;
  const ACC = 5;
  const B = ACC + MR * lanes;
  const A = B + lanes;
  const body: number[] = [0x03, 0x40]; // loop
  for (let j = 0; j < lanes; j++) body.push(...get(BP), ...simd(V128_LOAD, ...memarg(16 * j)), ...set(B + j));
  for (let r = 0; r < MR; r++) {
    body.push(...get(AP), ...simd(V128_LOAD64_SPLAT, ...memarg(8 * r)), ...set(A));
    for (let j = 0; j < lanes; j++) {
      const acc = ACC + r * lanes + j;
      body.push(...get(acc), ...get(A), ...get(B + j), ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(acc));
    }
  }
  body.push(...get(AP), ...i32Const(8 * MR), I32_ADD, ...set(AP));
  body.push(...get(BP), ...i32Const(8 * NR), I32_ADD, ...set(BP));
  body.push(...get(KCP), ...i32Const(1), I32_SUB, ...tee(KCP), 0x0d, 0x00, 0x0b); // br_if 0 while kc != 0; end
  for (let r = 0; r < MR; r++) {
    for (let j = 0; j < lanes; j++) {
      body.push(...get(C), ...get(C), ...simd(V128_LOAD, ...memarg(16 * j)), ...get(ACC + r * lanes + j), ...simd(F64X2_ADD), ...simd(V128_STORE, ...memarg(16 * j)));
    }
    if (r + 1 < MR) body.push(...get(C), ...get(LDC), I32_ADD, ...set(C));
  }
  body.push(0x0b); // end of function
  const locals = vec([[...uleb(MR * lanes + lanes + 1), 0x7b]]); // v128 locals
  const fn = [...locals, ...body];
  const I32 = 0x7f;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])]])), // type: (i32 x5) -> ()
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(5, vec([[0x00, ...uleb(1)]])), // memory: 1 page, grown on demand
    ...section(7, vec([[...name('tile'), 0x00, 0], [...name('mem'), 0x02, 0]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}

const instance = wasm && instantiate(wasm);

/** The WebAssembly gemm (same contract as gemm.ts's), or undefined when this runtime has no WebAssembly SIMD. */
export const wasmGemm: ((m: number, n: number, kdim: number, a: Mat, b: Mat, c: Float64Array, ldc: number, cOffset: number) => void) | undefined =
  instance && ((m, n, kdim, a, b, c, ldc, cOffset) => run(instance, m, n, kdim, a, b, c, ldc, cOffset));
