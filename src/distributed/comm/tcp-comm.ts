/**
 * A Comm over one TCP socket.
 *
 * Reading: socket chunks go through the FrameParser; each complete message is decoded at once
 * (a malformed one closes the comm) and handed to a waiting read() or queued. When the queue
 * holds more than `readBufferBytes`, the socket is paused, so the kernel buffers fill and the
 * peer's writes wait: a slow reader slows its writer instead of growing memory on either side.
 * Sockets read through Node's `onread` (see readTap): into the rest of the large frame being
 * received when there is one (FrameParser.readTarget: no copy at all), otherwise into one 1 MiB
 * buffer that every such socket of the process shares (reads are handled synchronously, one at a
 * time, and the parser copies out what it keeps). Both mean fewer, larger reads than the fresh
 * 64 KiB chunks Node reads into otherwise. Measured on 200 MB: 25-30 % faster than copying out
 * of a reused buffer. A socket we connect is given `onread` by net.connect; an accepted one gets
 * the same through tapAccepted (net.Server has no `onread` option on Node 20), which is where
 * scatter and every broadcast hop receive: 100 MB in 85 ms instead of 150-290 ms, measured.
 *
 * Writing: a message's header and frames go to the socket between cork() and uncork(), which
 * Node turns into one writev of the original buffers (no concatenation). write() resolves when
 * the last of them has been handed to the kernel.
 */
import type { Socket } from 'node:net';
import { formatAddress } from './address.js';
import { defaultCodec, type Codec } from './codec.js';
import type { Comm, CommOptions } from './comm.js';
import { CommClosedError, FrameError } from './errors.js';
import { encodeHeader } from './frame-header.js';
import { FrameParser } from './frame-parser.js';

const DEFAULT_READ_BUFFER_BYTES = 16 * 2 ** 20;
/** Also pause when this many small messages are waiting, whatever their size. */
const MAX_QUEUED_MESSAGES = 4096;
const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
/** The size of the read buffer that connecting sockets share. */
export const READ_CHUNK_BYTES = 2 ** 20;
/** A frame's rest is read into directly only when this much of it is missing (else: small reads). */
const MIN_DIRECT_READ_BYTES = 256 * 1024;

let sharedReadBuffer: Buffer | undefined;

/**
 * Options for net.connect that read through `onread`, and the hook that routes those reads to the
 * TcpComm built on the socket. Node asks `buffer()` for the next read's memory after each
 * callback, so the target reflects every byte pushed so far. Data cannot arrive before the comm
 * attaches: the comm is built in the same tick as the 'connect' event.
 */
export interface ReadTap {
  readonly onread: { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean };
  attach(sink: (view: Uint8Array) => boolean, target: () => Uint8Array | undefined): void;
}

export function readTap(): ReadTap {
  let sink: ((view: Uint8Array) => boolean) | undefined;
  let target: (() => Uint8Array | undefined) | undefined;
  return {
    onread: {
      buffer: () => target?.() ?? (sharedReadBuffer ??= Buffer.allocUnsafe(READ_CHUNK_BYTES)),
      callback: (n, buf) => {
        if (sink === undefined) throw new Error('internal error: data arrived before its comm attached');
        return sink(buf.subarray(0, n));
      },
    },
    attach: (s, t) => {
      sink = s;
      target = t;
    },
  };
}

/**
 * `onread` for a socket net.Server accepted, or undefined where this Node cannot (then the comm
 * reads 'data' chunks). Node's stream code keeps a socket's onread state under three symbols that
 * every Socket carries (null unless `onread` was given) and reads them on every read; setting
 * them and handing the handle its first buffer is what net.connect does with `onread`. Call it in
 * the 'connection' callback, before the event loop turns: no data can have been read by then.
 */
export function tapAccepted(socket: Socket): ReadTap | undefined {
  const own = Object.getOwnPropertySymbols(socket);
  const symbol = (name: string) => own.find((s) => s.description === name);
  const [kBuffer, kBufferCb, kBufferGen] = [symbol('kBuffer'), symbol('kBufferCb'), symbol('kBufferGen')];
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (buf: Uint8Array) => void } })._handle;
  if (!kBuffer || !kBufferCb || !kBufferGen || typeof handle?.useUserBuffer !== 'function') return undefined;
  const tap = readTap();
  const slots = socket as unknown as Record<symbol, unknown>;
  slots[kBufferGen] = tap.onread.buffer;
  slots[kBufferCb] = tap.onread.callback;
  const first = tap.onread.buffer();
  slots[kBuffer] = first;
  handle.useUserBuffer(first);
  return tap;
}

/** Bytes written and read by every TcpComm of this process, frame headers included. */
const traffic = { written: 0, read: 0 };

/**
 * A snapshot of this process's TCP traffic in bytes (what tests and benchmarks count as moved:
 * two snapshots around some work give the bytes it sent).
 */
export function commTraffic(): { readonly written: number; readonly read: number } {
  return { ...traffic };
}

interface Waiter {
  resolve(msg: unknown): void;
  reject(e: Error): void;
}

export class TcpComm implements Comm {
  readonly peer: string;
  readonly local: string;
  readonly finished: Promise<void>;
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  readonly #codec: Codec;
  readonly #decodeOptions: { deserialize?: boolean };
  readonly #readBufferBytes: number;
  readonly #closeTimeoutMs: number;
  #queue: { msg: unknown; bytes: number }[] = [];
  #queuedBytes = 0;
  #readers: Waiter[] = [];
  #writes = new Set<(e: Error) => void>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #reason: Error | undefined;
  #paused = false;

  /** `tap`: the socket was made with readTap().onread; reads arrive through it. */
  constructor(socket: Socket, options: CommOptions = {}, tap?: ReadTap) {
    this.#socket = socket;
    this.#parser = new FrameParser(options.limits);
    this.#codec = options.codec ?? defaultCodec;
    this.#decodeOptions = options.deserialize === undefined ? {} : { deserialize: options.deserialize };
    this.#readBufferBytes = positive(options.readBufferBytes, DEFAULT_READ_BUFFER_BYTES, 'readBufferBytes');
    this.#closeTimeoutMs = positive(options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, 'closeTimeoutMs');
    this.peer = formatAddress(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0);
    this.local = formatAddress(socket.localAddress ?? 'unknown', socket.localPort ?? 0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    this.finished = new Promise((resolve) => socket.once('close', () => resolve()));
    if (tap) {
      tap.attach(
        (view) => {
          this.#onData(view, true);
          return this.#closed || !this.#paused; // false pauses an onread socket
        },
        () => (this.#closed ? undefined : this.#parser.readTarget(MIN_DIRECT_READ_BYTES)),
      );
    } else {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk, false));
    }
    socket.on('end', () => this.#onEnd());
    socket.on('error', (e) => this.#shutDown(e));
    socket.on('close', () => this.#shutDown());
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closeReason(): Error | undefined {
    return this.#reason;
  }

  write(msg: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new CommClosedError(this.peer, this.#reason));
    let chunks: Uint8Array[];
    try {
      const frames = this.#codec.encode(msg);
      this.#checkOutgoing(frames);
      chunks = [encodeHeader(frames), ...frames.filter((f) => f.byteLength > 0)];
      for (const c of chunks) traffic.written += c.byteLength;
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => {
        this.#writes.delete(fail);
        reject(e instanceof CommClosedError ? e : new CommClosedError(this.peer, this.#reason ?? e));
      };
      this.#writes.add(fail);
      const socket = this.#socket;
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write(chunks[i]);
      socket.write(chunks[last], (err) => {
        if (err) return fail(err);
        this.#writes.delete(fail);
        resolve();
      });
      socket.uncork();
    });
  }

  read(): Promise<unknown> {
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#queuedBytes -= next.bytes;
      this.#maybeResume();
      return Promise.resolve(next.msg);
    }
    if (this.#closed) return Promise.reject(new CommClosedError(this.peer, this.#reason));
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }

  /** Yields messages until the comm closes; ends quietly on an orderly close, throws otherwise. */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      try {
        yield await this.read();
      } catch (e) {
        if (e instanceof CommClosedError && e.cause === undefined) return;
        throw e;
      }
    }
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#markClosed(undefined);
    this.#queue = [];
    this.#queuedBytes = 0;
    const socket = this.#socket;
    // From here incoming data is discarded; reading on lets the peer's FIN arrive.
    this.#paused = false;
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), this.#closeTimeoutMs);
    socket.end();
    this.#closing = this.finished.then(() => clearTimeout(timer));
    return this.#closing;
  }

  abort(reason?: Error): void {
    this.#markClosed(reason);
    this.#socket.destroy();
    this.#closing ??= this.finished;
  }

  /** `transient`: the chunk's memory is reused after this call (the onread buffer). */
  #onData(chunk: Uint8Array, transient: boolean): void {
    if (this.#closed) return;
    traffic.read += chunk.byteLength;
    let messages: Uint8Array[][];
    try {
      messages = this.#parser.push(chunk, transient);
    } catch (e) {
      return this.abort(e as Error);
    }
    for (const frames of messages) {
      let msg: unknown;
      try {
        msg = this.#codec.decode(frames, this.#decodeOptions);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        return this.abort(new FrameError('ERR_MALFORMED_MESSAGE', `a message could not be decoded: ${why}`, { cause: e }));
      }
      this.#deliver(msg, frames);
    }
    if (!this.#paused && (this.#queuedBytes > this.#readBufferBytes || this.#queue.length > MAX_QUEUED_MESSAGES)) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #deliver(msg: unknown, frames: Uint8Array[]): void {
    const reader = this.#readers.shift();
    if (reader) return reader.resolve(msg);
    let bytes = 0;
    for (const f of frames) bytes += f.byteLength;
    this.#queue.push({ msg, bytes });
    this.#queuedBytes += bytes;
  }

  #maybeResume(): void {
    if (this.#paused && this.#queuedBytes <= this.#readBufferBytes / 2 && this.#queue.length <= MAX_QUEUED_MESSAGES / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  #onEnd(): void {
    if (this.#closed) return;
    try {
      this.#parser.end();
      this.#markClosed(undefined);
    } catch (e) {
      this.#markClosed(e as Error);
    }
  }

  #shutDown(error?: Error): void {
    this.#markClosed(error);
    const closedError = new CommClosedError(this.peer, this.#reason);
    for (const fail of [...this.#writes]) fail(closedError);
  }

  /** The one place `closed` becomes true; the reason given with the first close is kept. */
  #markClosed(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    const readers = this.#readers;
    this.#readers = [];
    const e = new CommClosedError(this.peer, this.#reason);
    for (const r of readers) r.reject(e);
  }

  /** Refuses, before sending, a message the peer's parser would refuse (same default limits). */
  #checkOutgoing(frames: Uint8Array[]): void {
    const { maxFrames, maxFrameBytes, maxMessageBytes } = this.#parser.limits;
    if (frames.length === 0) throw new FrameError('ERR_NO_FRAMES', 'cannot send a message of 0 frames');
    if (frames.length > maxFrames) {
      throw new FrameError('ERR_TOO_MANY_FRAMES', `cannot send a message of ${frames.length} frames, above the limit of ${maxFrames} (maxFrames)`);
    }
    let total = 0;
    for (const f of frames) {
      if (f.byteLength > maxFrameBytes) {
        throw new FrameError('ERR_FRAME_TOO_LARGE', `cannot send a frame of ${f.byteLength} bytes, above the limit of ${maxFrameBytes} (maxFrameBytes)`);
      }
      total += f.byteLength;
    }
    if (total > maxMessageBytes) {
      throw new FrameError('ERR_MESSAGE_TOO_LARGE', `cannot send a message of ${total} bytes, above the limit of ${maxMessageBytes} (maxMessageBytes)`);
    }
  }
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`comm option '${name}' must be a positive number, got ${String(v)}`);
  return v;
}
