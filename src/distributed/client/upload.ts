/**
 * client.uploadFile(path): send a JavaScript or TypeScript module to every worker, and to every
 * worker that joins later, so that its exported functions can run in tasks.
 *
 * How a task names a function of the module: as `{ module: <this process's URL of the file>,
 * export }` (registry.ts). That URL means nothing on another machine, so each worker saves its own
 * copy and maps the URL to it (worker/uploads.ts); its pool threads import the copy too.
 *
 * Decisions:
 * - The client imports the module itself first and registers its exported functions
 *   (`registerModule`), so that after `import { f } from './mod.mjs'` and
 *   `await client.uploadFile('./mod.mjs')`, `client.submit(f, 1)` sends `f` by reference, with
 *   no `registerModule` line in the module. The file's real path (symbolic links resolved) is the
 *   URL Node gives the module when it is imported normally, so both imports are one module. A module
 *   that does not import here fails here, before anything is sent; `{ register: false }` sends it
 *   without importing it here (its functions then travel only if the module registers them).
 * - Only the one file travels. Its relative imports of other local files will not resolve on a
 *   worker; imports of packages resolve from the worker's directory (worker/uploads.ts). Bundle a
 *   module with local imports first.
 * - The scheduler keeps the file (the latest version per path) and installs it on every worker,
 *   before a joining worker gets any task. Uploading a changed file again installs the new version
 *   on the workers (new tasks use it); the client keeps the module it imported first (Node caches
 *   modules), so re-import it under a new URL if the client itself needs the new code.
 * - A .ts (or .mts) module needs a TypeScript loader wherever it is imported: running from source,
 *   tsx is registered on the client, on worker processes and on pool threads; from the built
 *   `dist/`, start the client and the workers with `node --import tsx`, or upload the compiled .js.
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerModule } from '../../graph/shipping/registry.js';
import type { Address, UploadedFile, UploadOutcome } from '../messages.js';

export interface UploadOptions {
  /** Import the module here and register its exported functions (default true). */
  readonly register?: boolean;
}

const EXTENSIONS: readonly string[] = ['.js', '.mjs', '.ts', '.mts'];

/** The file could not be installed on some workers: `errors` says why, per worker. */
export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    readonly file: string,
    readonly errors: Record<Address, string>,
    total: number,
  ) {
    const failed = Object.entries(errors);
    const shown = failed.slice(0, 3).map(([w, m]) => `${w}: ${m}`).join('; ');
    super(`Client.uploadFile: '${file}' could not be installed on ${failed.length} of ${total} workers: ${shown}${failed.length > 3 ? '; …' : ''}`);
  }
}

/** Uploads the module at `path` through the scheduler's `upload-file` (`send`). */
export async function uploadFile(
  path: unknown,
  options: unknown,
  send: (file: UploadedFile) => Promise<Record<Address, UploadOutcome>>,
): Promise<void> {
  const { register } = resolveUploadOptions(options);
  const file = await readModule(path);
  if (register) await importHere(file.url, path as string);
  const outcomes = await send({ name: file.name, url: file.url, data: file.data });
  const errors: Record<Address, string> = {};
  for (const [w, o] of Object.entries(outcomes)) if (o.status === 'error') errors[w] = o.message;
  if (Object.keys(errors).length > 0) throw new UploadError(path as string, errors, Object.keys(outcomes).length);
}

function resolveUploadOptions(options: unknown): { register: boolean } {
  if (options === undefined) return { register: true };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Client.uploadFile: options must be an object like { register: false }, got ${String(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (k !== 'register') throw new TypeError(`Client.uploadFile: unknown option '${k}' (known: register)`);
  }
  const { register } = options as UploadOptions;
  if (register !== undefined && typeof register !== 'boolean') throw new TypeError(`Client.uploadFile: 'register' must be a boolean, got ${String(register)}`);
  return { register: register ?? true };
}

/** The file's name, its URL here and its bytes; a clear error for a missing file, a directory or a non-module. */
async function readModule(path: unknown): Promise<UploadedFile> {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`Client.uploadFile: expected the path of a module file, got ${typeof path === 'string' ? 'an empty string' : String(path)}`);
  }
  const absolute = resolve(path);
  const info = await stat(absolute).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new Error(`Client.uploadFile: there is no file '${path}' (${absolute})`);
    throw new Error(`Client.uploadFile: cannot read '${path}': ${e.message}`, { cause: e });
  });
  if (info.isDirectory()) throw new TypeError(`Client.uploadFile: '${path}' is a directory; upload one module file (${EXTENSIONS.join(', ')})`);
  if (!EXTENSIONS.includes(extname(absolute))) {
    throw new TypeError(`Client.uploadFile: '${path}' is not a JavaScript or TypeScript module; expected a file ending in ${EXTENSIONS.join(', ')}`);
  }
  const real = await realpath(absolute);
  return { name: basename(real), url: pathToFileURL(real).href, data: new Uint8Array(await readFile(real)) };
}

async function importHere(url: string, path: string): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`Client.uploadFile: '${path}' does not import here: ${why}. Fix the module, or pass { register: false } to send it without importing it here`, { cause: e });
  }
  registerModule(url, { ...mod });
}
