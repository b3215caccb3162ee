/**
 * The WebAssembly module of gemm-wasm.ts, emitted as bytes (binary format with SIMD opcodes): no
 * binary file, no build step, no dependency. It exports its memory as `mem` and one function,
 *
 *   panel(ap, bp, c, tiles, strips, kc, ldc)   (byte addresses and byte strides, all i32)
 *
 * which adds the product of a packed A panel and a packed B panel into C: for each of `strips`
 * B strips (KC x NR doubles, k-major, one after another) and each of `tiles` A strips (KC x MR,
 * k-major, one after another), the MR x NR tile of C at `c + tile*MR*ldc + strip*NR*8` gets
 * Σ_k A[k][r] * B[k][j]. The strip loop is outside the tile loop, so one B strip (KC*NR*8
 * bytes) stays in L1 while the A panel streams from L2; after a tile's k loop the A pointer has
 * reached the next A strip, which is why the A strips are packed back to back.
 *
 * The micro-kernel keeps MR x NR/2 f64x2 accumulators, NR/2 B vectors, one A broadcast and one
 * product in registers: for 2 x 8 that is 8 + 4 + 1 + 1 = 14 of x64's 16 vector registers. With
 * `fma` it uses relaxed SIMD's f64x2.relaxed_madd (one instruction, one rounding where the CPU has
 * FMA; 10-20 % faster, measured), else multiply then add; gemm-wasm.ts picks what compiles.
 */

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
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));

const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32Const = (v: number) => [0x41, ...sleb(v)];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR_IF_0 = [0x0d, 0x00];
const I32 = 0x7f;
const V128 = 0x7b;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const memarg = (offset: number) => [3, ...uleb(offset)]; // alignment hint 2^3
const V128_LOAD = 0x00;
const V128_LOAD64_SPLAT = 0x0a;
const V128_STORE = 0x0b;
const V128_ZERO = simd(0x0c, ...new Array<number>(16).fill(0)); // v128.const 0
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;
/** Relaxed SIMD's f64x2.relaxed_madd: a * b + c, fused where the CPU has FMA. */
const F64X2_RELAXED_MADD = 0x107;

/** `local -= 1; br_if 0 (local != 0)`: the back edge of a counted loop. */
const countDown = (local: number) => [...get(local), ...i32Const(1), I32_SUB, ...tee(local), ...BR_IF_0];
/** `local += bytes`. */
const bump = (local: number, bytes: number) => [...get(local), ...i32Const(bytes), I32_ADD, ...set(local)];

function panelBody(MR: number, NR: number, fma: boolean): { locals: number[]; body: number[] } {
  const [AP, BP, C, TILES, STRIPS, KC, LDC] = [0, 1, 2, 3, 4, 5, 6];
  // i32 locals: the running A, B and C pointers, the loop counters, the current strip's B and C.
  const [A, B, K, T, CT, BS, CS] = [7, 8, 9, 10, 11, 12, 13];
  const lanes = NR / 2;
  const ACC = 14; // MR * lanes accumulators, then lanes B vectors, then the A broadcast and a product
  const BV = ACC + MR * lanes;
  const AV = BV + lanes;
  const locals = vec([[...uleb(7), I32], [...uleb(MR * lanes + lanes + 1), V128]]);
  const b: number[] = [];
  b.push(...get(BP), ...set(BS), ...get(C), ...set(CS));
  b.push(...LOOP); // over B strips
  b.push(...get(AP), ...set(A), ...get(CS), ...set(CT), ...get(TILES), ...set(T));
  b.push(...LOOP); // over A strips: one MR x NR tile of C each
  for (let i = 0; i < MR * lanes; i++) b.push(...V128_ZERO, ...set(ACC + i));
  b.push(...get(BS), ...set(B), ...get(KC), ...set(K));
  b.push(...LOOP); // over k
  for (let j = 0; j < lanes; j++) b.push(...get(B), ...simd(V128_LOAD, ...memarg(16 * j)), ...set(BV + j));
  for (let r = 0; r < MR; r++) {
    b.push(...get(A), ...simd(V128_LOAD64_SPLAT, ...memarg(8 * r)), ...set(AV));
    for (let j = 0; j < lanes; j++) {
      const acc = ACC + r * lanes + j;
      if (fma) b.push(...get(AV), ...get(BV + j), ...get(acc), ...simd(F64X2_RELAXED_MADD), ...set(acc));
      else b.push(...get(acc), ...get(AV), ...get(BV + j), ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(acc));
    }
  }
  b.push(...bump(A, 8 * MR), ...bump(B, 8 * NR), ...countDown(K), END);
  for (let r = 0; r < MR; r++) {
    for (let j = 0; j < lanes; j++) {
      b.push(...get(CT), ...get(CT), ...simd(V128_LOAD, ...memarg(16 * j)), ...get(ACC + r * lanes + j), ...simd(F64X2_ADD), ...simd(V128_STORE, ...memarg(16 * j)));
    }
    b.push(...get(CT), ...get(LDC), I32_ADD, ...set(CT));
  }
  b.push(...countDown(T), END);
  b.push(...get(BS), ...get(KC), ...i32Const(8 * NR), I32_MUL, I32_ADD, ...set(BS)); // next B strip
  b.push(...bump(CS, 8 * NR), ...countDown(STRIPS), END);
  b.push(END);
  return { locals, body: b };
}

/** The module's bytes for MR x NR register tiles (NR even; see above for what fits the registers). */
export function gemmModuleBytes(MR: number, NR: number, fma = false): Uint8Array {
  const { locals, body } = panelBody(MR, NR, fma);
  const fn = [...locals, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array<number[]>(7).fill([I32])), ...vec([])]])), // type: (i32 x7) -> ()
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(5, vec([[0x00, ...uleb(1)]])), // memory: 1 page, grown on demand
    ...section(7, vec([[...name('panel'), 0x00, 0], [...name('mem'), 0x02, 0]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}
