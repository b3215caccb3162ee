/**
 * client.uploadFile: a module sent to the workers (and to workers that join later) so that its
 * exported functions run in tasks. In-process workers first; then real worker processes started
 * through the CLI, which have no access to the client's module loader: the case that matters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, ShippingError, UploadError, WorkerServer } from '../../../src/distributed/index.js';
import { recordingLogger, within } from '../cluster.js';
import type { LogRecord } from '../../../src/distributed/rpc/logger.js';
import { startClient, until, type ClientFixture } from './fixture.js';

let dir: string;

/** Writes a module file under the test's temporary directory; returns its path. */
async function moduleFile(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

/** A module's exports, imported as the user would import it. */
async function load<T>(path: string): Promise<T> {
  return (await import(pathToFileURL(path).href)) as T;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dask-ts-upload-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('uploadFile with in-process workers', () => {
  let fx: ClientFixture;
  let client: Client;
  const late: WorkerServer[] = [];

  beforeAll(async () => {
    fx = await startClient({ nWorkers: 2 });
    client = fx.client;
  });

  afterAll(async () => {
    await Promise.all(late.map((w) => w.close()));
    fx.check(/could not import the uploaded module 'fails-on-workers\.mjs'/);
    await fx.close();
  });

  it("lets tasks use the module's functions, from the workers' own copy, on their pool threads", async () => {
    const path = await moduleFile(
      'stats.mjs',
      `export function triple(x) { return 3 * x; }
       export function where() { return import.meta.url; }
       export const notAFunction = 42;`,
    );
    const { triple, where } = await load<{ triple: (x: number) => number; where: () => string }>(path);
    await client.uploadFile(path);
    expect(await client.gather(client.map(triple, [1, 2, 3]))).toEqual([3, 6, 9]);
    // Pool threads import the worker's copy (saved under dask-worker-space), not the client's file.
    const url = await client.submit(where);
    expect(url).toMatch(/\/dask-worker-space\/uploads\/[0-9a-f]{16}\/stats\.mjs$/);
    expect(url).not.toBe(pathToFileURL(path).href);
    // And so does run, on the worker's own thread.
    for (const u of Object.values(await client.run(where))) expect(u).toBe(url);
  });

  it('makes functions that use module-level variables shippable, even after submit refused them', async () => {
    const path = await moduleFile('scoped.mjs', 'const factor = 7;\nexport function times(x) { return x * factor; }\n');
    const { times } = await load<{ times: (x: number) => number }>(path);
    expect(() => client.submit(times, 1)).toThrow(ShippingError);
    await client.uploadFile(path);
    expect(await client.submit(times, 2)).toBe(14);
  });

  it('sends a TypeScript module too', async () => {
    const path = await moduleFile('typed.ts', 'export function half(x: number): number {\n  return x / 2;\n}\n');
    const { half } = await load<{ half: (x: number) => number }>(path);
    await client.uploadFile(path);
    expect(await client.gather(client.map(half, [2, 4]))).toEqual([1, 2]);
  });

  it('reaches a worker that joins later', async () => {
    const path = await moduleFile('later.mjs', 'export function hello(n) { return `hello ${n}`; }');
    const { hello } = await load<{ hello: (n: string) => string }>(path);
    await client.uploadFile(path);
    const logs: LogRecord[] = [];
    const w = await WorkerServer.start({ scheduler: fx.cluster.schedulerAddress, nthreads: 1, name: 'late', validate: true, logger: recordingLogger('late', logs) });
    late.push(w);
    expect(await client.with({ workers: ['late'] }).submit(hello, 'late')).toBe('hello late');
    expect(w.errors).toEqual([]);
  });

  it('installs a changed file again: new tasks use the new version', async () => {
    const path = await moduleFile('versioned.mjs', 'export function version() { return 1; }');
    const { version } = await load<{ version: () => number }>(path);
    await client.uploadFile(path);
    expect(await client.with({ pure: false }).submit(version)).toBe(1);
    await writeFile(path, 'export function version() { return 2; }');
    await client.uploadFile(path);
    expect(await client.with({ pure: false }).submit(version)).toBe(2);
  });

  it('logs, naming the file, a module a joining worker cannot save; the worker still serves', async () => {
    const notADirectory = await moduleFile('plain-file', 'x');
    const logs: LogRecord[] = [];
    const w = await WorkerServer.start({
      scheduler: fx.cluster.schedulerAddress,
      nthreads: 1,
      name: 'no-space',
      localDirectory: notADirectory,
      logger: recordingLogger('no-space', logs),
    });
    try {
      const errors = logs.filter((r) => r.level === 'error').map((r) => r.message);
      expect(errors).toContainEqual(expect.stringMatching(new RegExp(`^worker ${w.address.replace('tcp://', '')} could not save the uploaded module 'stats\\.mjs' to `)));
      expect(await client.with({ workers: ['no-space'] }).submit(Math.min, 4, 2)).toBe(2);
    } finally {
      await w.close();
    }
  });

  it('refuses a missing file, a directory and a file that is not a module, naming it', async () => {
    await expect(client.uploadFile(join(dir, 'nope.mjs'))).rejects.toThrow(/^Client\.uploadFile: there is no file '.*nope\.mjs'/);
    await mkdir(join(dir, 'folder.mjs'), { recursive: true });
    await expect(client.uploadFile(join(dir, 'folder.mjs'))).rejects.toThrow(/'.*folder\.mjs' is a directory; upload one module file/);
    const txt = await moduleFile('notes.txt', 'hello');
    await expect(client.uploadFile(txt)).rejects.toThrow(/'.*notes\.txt' is not a JavaScript or TypeScript module; expected a file ending in \.js, \.mjs, \.ts, \.mts/);
    await expect(client.uploadFile('' as string)).rejects.toThrow(/expected the path of a module file, got an empty string/);
    await expect(client.uploadFile(txt, { regster: false } as never)).rejects.toThrow(/unknown option 'regster' \(known: register\)/);
  });

  it('refuses a module that does not import here, before sending it', async () => {
    const path = await moduleFile('broken.mjs', 'export function f( { return 1; }');
    await expect(client.uploadFile(path)).rejects.toThrow(/^Client\.uploadFile: '.*broken\.mjs' does not import here: /);
  });

  it('reports, per worker, a module that fails to import on the workers; the workers go on serving', async () => {
    // The module imports here (it is not imported here at all: register false) but throws on the workers.
    const path = await moduleFile('fails-on-workers.mjs', 'throw new Error("no database on this machine");');
    const err = (await client.uploadFile(path, { register: false }).catch((e: unknown) => e)) as UploadError;
    expect(err).toBeInstanceOf(UploadError);
    const workers = Object.keys((await client.identity()).workers);
    expect(Object.keys(err.errors).sort()).toEqual(workers.sort());
    for (const [w, message] of Object.entries(err.errors)) {
      expect(message).toBe(`worker ${w} could not import the uploaded module 'fails-on-workers.mjs': no database on this machine`);
    }
    expect(err.message).toMatch(new RegExp(`^Client\\.uploadFile: '.*fails-on-workers\\.mjs' could not be installed on ${workers.length} of ${workers.length} workers: `));
    expect(await client.submit(Math.max, 1, 2)).toBe(2);
  });
});

// ---- real processes

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Program {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<unknown>;
}

const programs: Program[] = [];

/** A CLI program from source, run in `cwd` (the worker saves uploads under its current directory). */
function start(entry: string, args: string[], cwd: string): Program {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, entry), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DASK_TS_LOG_LEVEL: 'warn' },
  });
  const p: Program = { child, stdout: '', stderr: '', exited: new Promise((r) => child.once('exit', r)) };
  child.stdout!.on('data', (b: Buffer) => (p.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (p.stderr += b.toString()));
  programs.push(p);
  return p;
}

async function printed(p: Program, re: RegExp): Promise<RegExpMatchArray> {
  await until(() => re.test(p.stdout) || p.child.exitCode !== null, 20_000, `output matching ${re}`).catch((e: Error) => {
    throw new Error(`${e.message}; stdout: ${p.stdout}; stderr: ${p.stderr}`);
  });
  const m = re.exec(p.stdout);
  if (m === null) throw new Error(`exited (${p.child.exitCode}) before printing ${re}; stderr: ${p.stderr}`);
  return m;
}

afterEach(async () => {
  for (const p of programs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});

describe('uploadFile with worker processes started by dworker', () => {
  it('installs a TypeScript module on a worker process, and on one that joins later; each removes its copy when it exits', async () => {
    const schedulerDir = await mkdtemp(join(dir, 'scheduler-'));
    const workerDirs = [await mkdtemp(join(dir, 'worker-a-')), await mkdtemp(join(dir, 'worker-b-'))];
    const scheduler = start('src/distributed/cli/dscheduler.ts', ['--port', '0'], schedulerDir);
    const [, address] = await printed(scheduler, /^Start scheduler at (tcp:\/\/127\.0\.0\.1:\d+)$/m);
    const a = start('src/distributed/cli/dworker.ts', [address, '--name', 'a', '--nthreads', '2'], workerDirs[0]);
    await printed(a, /^Registered with scheduler at/m);

    const path = await moduleFile(
      'remote.ts',
      `import { threadId } from 'node:worker_threads';
       export function whoAmI(x: number): { pid: number; thread: number; url: string; x: number } {
         return { pid: process.pid, thread: threadId, url: import.meta.url, x };
       }`,
    );
    const { whoAmI } = await load<{ whoAmI: (x: number) => { pid: number; thread: number; url: string; x: number } }>(path);
    const client = await Client.connect(address, { timeoutMs: 10_000 });
    try {
      await until(async () => Object.keys((await client.identity()).workers).length === 1, 10_000, 'worker a to join');
      await client.uploadFile(path);
      const r = await client.submit(whoAmI, 5);
      expect(r.x).toBe(5);
      expect(r.pid).not.toBe(process.pid);
      expect(r.thread).toBeGreaterThan(0); // a pool thread of the worker process
      expect(r.url.startsWith(pathToFileURL(join(workerDirs[0], 'dask-worker-space', 'uploads')).href)).toBe(true);

      const b = start('src/distributed/cli/dworker.ts', [address, '--name', 'b', '--nthreads', '1'], workerDirs[1]);
      await printed(b, /^Registered with scheduler at/m);
      await until(async () => Object.keys((await client.identity()).workers).length === 2, 10_000, 'worker b to join');
      const rb = await client.with({ workers: ['b'] }).submit(whoAmI, 6);
      expect(rb.url.startsWith(pathToFileURL(join(workerDirs[1], 'dask-worker-space', 'uploads')).href)).toBe(true);
      expect(rb.pid).not.toBe(r.pid);

      for (const w of [a, b]) {
        w.child.kill('SIGTERM');
        await within(10_000, w.exited, 'the worker to exit');
        expect(w.stderr).not.toMatch(/error/i);
      }
      for (const d of workerDirs) expect(existsSync(join(d, 'dask-worker-space'))).toBe(false);
    } finally {
      await client.close();
    }
  });
});
