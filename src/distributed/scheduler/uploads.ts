/**
 * The scheduler's side of client.uploadFile: it keeps every uploaded module (the latest version
 * per sender URL) and sends it to the workers, now and as they join, so that a task naming one of
 * its functions can run on any worker.
 *
 * No worker is missed. A worker gets the files kept at the moment it registers in the
 * register-worker reply, and installs them before it opens its stream. A file uploaded between its
 * registration and its stream is sent to it before it is added (`catchUp`); the broadcast of an
 * upload goes to the workers already added. Each file carries a sequence number for this.
 */
import { basename } from 'node:path';
import type { Address, UploadedFile, UploadOutcome, WorkerOps } from '../messages.js';
import type { ConnectionPool } from '../rpc/pool.js';
import type { RequestOf } from '../rpc/types.js';

/** Budget for one worker to save and import a module. */
const INSTALL_TIMEOUT_MS = 60_000;

export class UploadedFiles {
  readonly #files = new Map<string, { file: UploadedFile; seq: number }>();
  #seq = 0;

  /** The number of the latest upload (0: none yet). */
  get seq(): number {
    return this.#seq;
  }

  /** Keeps `file` (replacing an earlier version of the same URL); throws on a malformed one. */
  add(msg: unknown): UploadedFile {
    const { name, url, data } = (msg ?? {}) as Partial<UploadedFile>;
    if (typeof name !== 'string' || name === '' || basename(name) !== name) throw new TypeError("upload-file needs 'name' to be a plain file name");
    if (typeof url !== 'string' || url === '') throw new TypeError("upload-file needs 'url' to be the module's URL");
    if (!(data instanceof Uint8Array)) throw new TypeError("upload-file needs 'data' to be bytes");
    const file: UploadedFile = { name, url, data };
    this.#files.delete(url);
    this.#files.set(url, { file, seq: ++this.#seq });
    return file;
  }

  /** The files kept, oldest upload first. */
  all(): UploadedFile[] {
    return [...this.#files.values()].map((f) => f.file);
  }

  /** The files uploaded after upload number `seq`. */
  since(seq: number): UploadedFile[] {
    return [...this.#files.values()].filter((f) => f.seq > seq).map((f) => f.file);
  }
}

/** Installs `file` on each worker; the outcome per worker (a worker that fails does not stop the others). */
export async function broadcastFile(pool: ConnectionPool, workers: readonly Address[], file: UploadedFile): Promise<Record<Address, UploadOutcome>> {
  const out: Record<Address, UploadOutcome> = {};
  const msg = { op: 'upload-file', name: file.name, url: file.url, data: file.data } satisfies RequestOf<WorkerOps, 'upload-file'>;
  await Promise.all(
    workers.map(async (w) => {
      try {
        await pool.call(w, msg, { timeoutMs: INSTALL_TIMEOUT_MS });
        out[w] = { status: 'OK' };
      } catch (e) {
        out[w] = { status: 'error', message: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  return out;
}

/**
 * Sends a registering worker the files uploaded since its registration (`seen.uploads`, updated),
 * until it has them all. Failures are the worker's to report; the caller logs them.
 */
export async function catchUp(pool: ConnectionPool, address: Address, seen: { uploads: number }, files: UploadedFiles): Promise<string[]> {
  const problems: string[] = [];
  while (seen.uploads < files.seq) {
    const missed = files.since(seen.uploads);
    seen.uploads = files.seq;
    for (const file of missed) {
      const outcome = (await broadcastFile(pool, [address], file))[address];
      if (outcome.status === 'error') problems.push(outcome.message);
    }
  }
  return problems;
}
