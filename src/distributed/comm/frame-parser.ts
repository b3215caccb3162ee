/**
 * The frame parser: turns the chunks a socket delivers into messages (arrays of frames).
 *
 * It is an explicit state machine, in the manner of ws's receiver:
 *
 *     count ──(8 bytes)──▶ lengths ──(8 × count bytes)──▶ body ──(every frame)──▶ count
 *        any state ──(a limit broken)──▶ failed   (terminal: every later push throws)
 *
 * Limits. No declared number is trusted. The count is checked against `maxFrames` before its
 * lengths are awaited; every length against `maxFrameBytes`, and their sum against
 * `maxMessageBytes`, before any byte of the body is read. A frame's buffer is allocated only when
 * the first byte of that frame has arrived, and only at a size these limits have passed, so what
 * a peer can make us allocate ahead of the bytes it sends is bounded by the limits (one frame),
 * never by what it declares.
 *
 * Copies. A frame that lies within one chunk is a view of that chunk. A frame spread over
 * several chunks is assembled once, as its bytes arrive, into a buffer of exactly its size (no
 * chunk list, no final concatenation: memory is one frame, not two). Between pushes the parser
 * keeps only an incomplete header (at most 8 × (maxFrames + 1) bytes) and the frame being
 * assembled.
 *
 * Shared memory. A frame of SHARED_FRAME_BYTES or more (array data, in practice) is assembled in a
 * SharedArrayBuffer, counted with countShared so that dropped ones prompt collections: typed
 * arrays decoded from it are views of it (protocol/dtypes.ts), and a worker hands them to its
 * thread pool without copying them into shared memory first (schedulers/transfer.ts toShared),
 * which cost as much as the receiving itself (130 ms per 200 MB, measured).
 *
 * Reading in place. While a large frame is being assembled, readTarget() offers the rest of it as
 * the socket's next read buffer (tcp-comm.ts), so its bytes arrive where they belong; push() sees
 * such a chunk is already in place and does not copy it.
 *
 * Transient input. `push(chunk, true)` says the chunk's memory is reused after the call (a
 * socket's `onread` buffer): nothing is kept as a view of it, small frames are copied out.
 *
 * Frames are views at arbitrary byte offsets; a decoder that wants aligned typed arrays must
 * check `byteOffset`.
 */
import { FrameError } from './errors.js';
import { pooledSharedBuffer } from '../../schedulers/block-pool.js';
import { collectBeforeLargeBlock, sharedBuffer } from '../../schedulers/shared-memory.js';
import { readWord, WORD } from './frame-header.js';

/** Limits on what one message may declare. All three are checked before anything is allocated. */
export interface FrameLimits {
  /** Frames per message (default 1,000,000: a header of 8 MB at most; every serialised value of a message is a frame). */
  readonly maxFrames: number;
  /** Bytes per frame (default 2 GiB). */
  readonly maxFrameBytes: number;
  /** Bytes per message, all frames together (default 2 GiB). */
  readonly maxMessageBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({
  maxFrames: 1_000_000,
  maxFrameBytes: 2 ** 31,
  maxMessageBytes: 2 ** 31,
});

/** Fills in defaults and checks each limit is a positive integer (a TypeError names the bad one). */
export function resolveFrameLimits(limits: Partial<FrameLimits> = {}): FrameLimits {
  const out = { ...DEFAULT_FRAME_LIMITS, ...stripUndefined(limits) };
  for (const name of Object.keys(DEFAULT_FRAME_LIMITS) as (keyof FrameLimits)[]) {
    const v = out[name];
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new TypeError(`frame limit '${name}' must be a positive integer, got ${String(v)}`);
    }
  }
  return out;
}

type State = 'count' | 'lengths' | 'body' | 'failed';

const EMPTY = new Uint8Array(0);

/** Frames at least this large are received into shared memory (see the design note). */
export const SHARED_FRAME_BYTES = 1 << 20;

export class FrameParser {
  readonly limits: FrameLimits;
  #state: State = 'count';
  /** Header bytes kept from earlier pushes (an owned copy; only in the count and lengths states). */
  #head: Buffer = Buffer.alloc(0);
  #count = 0;
  #lengths: number[] = [];
  #messageBytes = 0;
  #frames: Uint8Array[] = [];
  /** The frame being assembled across chunks, and how much of it has arrived. */
  #partial: Buffer | undefined;
  #filled = 0;
  #error: FrameError | undefined;

  constructor(limits?: Partial<FrameLimits>) {
    this.limits = resolveFrameLimits(limits);
  }

  /**
   * Feeds one chunk; returns the messages it completed (usually none or one). `transient` means
   * the chunk's memory is reused after this call. Throws a FrameError when the stream breaks a
   * limit; the parser is then failed for good.
   */
  push(chunk: Uint8Array, transient = false): Uint8Array[][] {
    if (this.#error) throw this.#error;
    const out: Uint8Array[][] = [];
    let at = 0;
    for (;;) {
      switch (this.#state) {
        case 'count': {
          const word = this.#header(chunk, at, WORD);
          if (word === undefined) return out;
          at += word.taken;
          this.#startMessage(readWord(word.bytes, 0));
          break;
        }
        case 'lengths': {
          const header = this.#header(chunk, at, WORD * this.#count);
          if (header === undefined) return out;
          at += header.taken;
          this.#readLengths(header.bytes);
          break;
        }
        case 'body': {
          at += this.#body(chunk, at, transient);
          if (this.#frames.length < this.#count) return out;
          out.push(this.#frames);
          this.#frames = [];
          this.#lengths = [];
          this.#state = 'count';
          break;
        }
        case 'failed':
          throw this.#error;
      }
    }
  }

  /**
   * Where the stream's next bytes may be read directly, saving the copy out of a read buffer: the
   * unfilled rest of the frame being assembled, when at least `min` bytes of it are missing; else
   * undefined. A read into it cannot run past the frame (the view ends there); push the bytes
   * read as a view of it (`target.subarray(0, n)`) before asking again.
   */
  readTarget(min: number): Uint8Array | undefined {
    const partial = this.#partial;
    if (this.#state !== 'body' || partial === undefined || partial.length - this.#filled < min) return undefined;
    return partial.subarray(this.#filled);
  }

  /** True between messages with nothing buffered: the stream may end here cleanly. */
  get idle(): boolean {
    return this.#state === 'count' && this.#head.length === 0;
  }

  /** The stream has ended; throws ERR_TRUNCATED when it ended inside a message. */
  end(): void {
    if (this.#error || this.idle) return;
    const where =
      this.#state === 'body'
        ? `${this.#bodyReceived()} of ${this.#messageBytes} body bytes received`
        : `inside the header, ${this.#head.length} bytes received`;
    this.#fail('ERR_TRUNCATED', `the connection ended in the middle of a message (${where})`);
  }

  /**
   * `n` header bytes from what was kept plus `chunk` from `at`, or undefined (keeping a copy of
   * what there is) when they have not all arrived. The bytes are read at once, never kept.
   */
  #header(chunk: Uint8Array, at: number, n: number): { bytes: Uint8Array; taken: number } | undefined {
    const head = this.#head;
    const available = chunk.length - at;
    if (head.length === 0 && available >= n) return { bytes: chunk.subarray(at, at + n), taken: n };
    if (head.length + available < n) {
      if (available > 0) this.#head = Buffer.concat([head, chunk.subarray(at)]);
      return undefined;
    }
    const taken = n - head.length;
    const bytes = Buffer.concat([head, chunk.subarray(at, at + taken)], n);
    this.#head = Buffer.alloc(0);
    return { bytes, taken };
  }

  /** Takes frames from `chunk` (from `at`) into the message; returns the bytes used. */
  #body(chunk: Uint8Array, at: number, transient: boolean): number {
    const start = at;
    const frames = this.#frames;
    while (frames.length < this.#count) {
      const available = chunk.length - at;
      const partial = this.#partial;
      if (partial !== undefined) {
        const take = Math.min(partial.length - this.#filled, available);
        // A chunk read straight into the frame (readTarget) is already in place.
        const inPlace = chunk.buffer === partial.buffer && chunk.byteOffset + at === partial.byteOffset + this.#filled;
        if (!inPlace) partial.set(chunk.subarray(at, at + take), this.#filled);
        this.#filled += take;
        at += take;
        if (this.#filled < partial.length) break;
        frames.push(partial);
        this.#partial = undefined;
        continue;
      }
      const n = this.#lengths[frames.length];
      if (n === 0) {
        frames.push(EMPTY);
      } else if (available >= n) {
        frames.push(transient ? copy(chunk.subarray(at, at + n)) : chunk.subarray(at, at + n));
        at += n;
      } else if (available > 0) {
        // The first byte is here; n passed the limits.
        this.#partial = n >= SHARED_FRAME_BYTES ? sharedFrame(n) : Buffer.allocUnsafe(n);
        this.#filled = 0;
      } else {
        break;
      }
    }
    return at - start;
  }

  #startMessage(count: number): void {
    const { maxFrames } = this.limits;
    if (count === 0) this.#fail('ERR_NO_FRAMES', 'a message declares 0 frames; every message has at least one');
    if (count > maxFrames) {
      this.#fail('ERR_TOO_MANY_FRAMES', `a message declares ${count} frames, above the limit of ${maxFrames} (maxFrames)`);
    }
    this.#count = count;
    this.#state = 'lengths';
  }

  #readLengths(header: Uint8Array): void {
    const { maxFrameBytes, maxMessageBytes } = this.limits;
    const lengths = new Array<number>(this.#count);
    let total = 0;
    for (let i = 0; i < this.#count; i++) {
      const n = readWord(header, WORD * i);
      if (n > maxFrameBytes) {
        this.#fail(
          'ERR_FRAME_TOO_LARGE',
          `frame ${i} of ${this.#count} declares ${n} bytes, above the limit of ${maxFrameBytes} bytes per frame (maxFrameBytes)`,
        );
      }
      total += n;
      lengths[i] = n;
    }
    if (total > maxMessageBytes) {
      this.#fail(
        'ERR_MESSAGE_TOO_LARGE',
        `a message of ${this.#count} frames declares ${total} bytes, above the limit of ${maxMessageBytes} bytes per message (maxMessageBytes)`,
      );
    }
    this.#lengths = lengths;
    this.#messageBytes = total;
    this.#frames = [];
    this.#state = 'body';
  }

  #bodyReceived(): number {
    let done = this.#filled * Number(this.#partial !== undefined);
    for (const f of this.#frames) done += f.byteLength;
    return done;
  }

  #fail(code: FrameError['code'], message: string): never {
    this.#error = new FrameError(code, message);
    this.#state = 'failed';
    this.#head = Buffer.alloc(0);
    this.#frames = [];
    this.#partial = undefined;
    throw this.#error;
  }
}

/** From this size on, a frame comes from the block pool, after a collection if one is due (sharedFrame). */
const LARGE_FRAME_BYTES = 16 * 2 ** 20;

/**
 * A frame's buffer in shared memory. A large one comes from the block pool (block-pool.ts), after
 * a collection (collectBeforeLargeBlock: a young-generation one in a client, a full one in a
 * worker process when one is due): frames of data already released are given back first, and the
 * next frame lands in memory already faulted in rather than in untouched pages, whose first touch
 * is most of what receiving costs. Measured on 200 MB worker-to-worker moves, 12 in a row:
 * 70-130 ms each; before (a collection only every 128 MB, the freeing left to a background
 * thread) one in three or four received into fresh memory and took 600-700 ms. Only for large
 * frames, so that a process receiving many small ones does not pay a collection for each.
 */
function sharedFrame(n: number): Buffer {
  if (n < LARGE_FRAME_BYTES) return Buffer.from(sharedBuffer(n));
  collectBeforeLargeBlock(n);
  return Buffer.from(pooledSharedBuffer(n));
}

/** An owned copy of a transient view (small buffers come from Node's pool, 8-byte aligned). */
function copy(view: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(view.length);
  b.set(view);
  return b;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
