/**
 * Modules uploaded to a worker (client.uploadFile): saved to a local file, imported once here to
 * check that they load, and registered as the local copy of the sender's module URL
 * (registry.ts, `setModuleAlias`), so that tasks naming `{ module: <client's URL>, export }`
 * import this copy, on this thread and on the executor's pool threads alike.
 *
 * Where files go. Under `<localDirectory>/uploads/<content hash>/<file name>`; the local directory
 * defaults to `dask-worker-space` in the worker's current directory (as dask's workers did), so
 * that the module's own imports of packages resolve from the worker's `node_modules` the way the
 * worker's do (a file under the system temporary directory could import nothing but built-ins).
 * A new version of a file gets a new directory, hence a new URL: Node caches modules by URL, so
 * this is what makes a re-upload take effect, and function caches keyed by the URL miss.
 *
 * Workers in one process (a LocalCluster) share the module alias table, so they share the copies
 * too: a file is counted per worker that installed it and removed when the last one closes.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setModuleAlias } from '../../graph/shipping/registry.js';
import type { UploadedFile } from '../messages.js';

/** Module files `uploadFile` accepts (also checked by the client, which names them). */
export const MODULE_EXTENSIONS: readonly string[] = ['.js', '.mjs', '.ts', '.mts'];

/** Installed files of this process: path → how many workers use it, and its installation. */
const installed = new Map<string, { users: number; ready: Promise<void> }>();

export class Uploads {
  readonly #root: string;
  readonly #owner: string;
  readonly #mine = new Set<string>();
  #closed = false;

  /** `owner` names the worker in errors. */
  constructor(localDirectory: string, owner: string) {
    this.#root = join(localDirectory, 'uploads');
    this.#owner = owner;
  }

  /** Saves, imports and registers `file`; rejects with an error naming the file and this worker. */
  async install(file: UploadedFile): Promise<void> {
    if (this.#closed) throw new Error(`worker ${this.#owner} is closing`);
    checkFile(file);
    const hash = createHash('sha256').update(file.data).digest('hex').slice(0, 16);
    const path = join(this.#root, hash, file.name);
    let entry = installed.get(path);
    if (entry === undefined) {
      entry = { users: 0, ready: save(path, file.data) };
      installed.set(path, entry);
    }
    if (!this.#mine.has(path)) {
      this.#mine.add(path);
      entry.users++;
    }
    try {
      await entry.ready;
    } catch (e) {
      await this.#release(path);
      throw new Error(`worker ${this.#owner} could not save the uploaded module '${file.name}' to ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      await import(pathToFileURL(path).href);
    } catch (e) {
      await this.#release(path);
      throw new Error(`worker ${this.#owner} could not import the uploaded module '${file.name}': ${reason(e, file.name)}`, { cause: e });
    }
    setModuleAlias(file.url, pathToFileURL(path).href);
  }

  /** Removes the files no other worker of this process uses. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#mine].map((p) => this.#release(p)));
  }

  async #release(path: string): Promise<void> {
    if (!this.#mine.delete(path)) return;
    const entry = installed.get(path);
    if (entry === undefined || --entry.users > 0) return;
    installed.delete(path);
    await rm(path, { force: true }).catch(() => undefined);
    // Empty directories only: another process may use the same local directory.
    for (let dir = dirname(path), i = 0; i < 3; dir = dirname(dir), i++) {
      if (!(await rmdir(dir).then(() => true, () => false))) break;
    }
  }
}

function checkFile(file: UploadedFile): void {
  if (typeof file !== 'object' || file === null) throw new TypeError('upload-file needs { name, url, data }');
  const { name, url, data } = file;
  if (typeof name !== 'string' || name === '' || basename(name) !== name || name.startsWith('.')) {
    throw new TypeError(`upload-file needs 'name' to be a plain file name, got ${JSON.stringify(name)}`);
  }
  if (!MODULE_EXTENSIONS.includes(extname(name))) {
    throw new TypeError(`upload-file: '${name}' is not a module file (${MODULE_EXTENSIONS.join(', ')})`);
  }
  if (typeof url !== 'string' || url === '') throw new TypeError(`upload-file needs 'url' to be the module's URL, got ${JSON.stringify(url)}`);
  if (!(data instanceof Uint8Array)) throw new TypeError("upload-file needs 'data' to be bytes");
}

async function save(path: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

/** Why an import failed, with the fix for the common case: TypeScript on a worker without a loader. */
function reason(e: unknown, name: string): string {
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[mc]?ts$/.test(name)) {
    return `${message}. This worker cannot load TypeScript: start it with a TypeScript loader (node --import tsx …/dworker.js), or upload the compiled .js`;
  }
  return message;
}
