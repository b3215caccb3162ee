/**
 * dscheduler and dworker as real processes (run from source through tsx), on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerCall, until, within } from './cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DSCHEDULER = 'src/distributed/cli/dscheduler.ts';
const DWORKER = 'src/distributed/cli/dworker.ts';

interface Program {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Program[] = [];

function run(entry: string, args: string[]): Program {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DASK_TS_LOG_LEVEL: 'warn' },
  });
  const p: Program = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.on('data', (b: Buffer) => (p.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (p.stderr += b.toString()));
  started.push(p);
  return p;
}

/** The first match of `re` in the program's stdout, waiting for it. */
async function line(p: Program, re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
  let m: RegExpMatchArray | null = null;
  await until(() => (m = re.exec(p.stdout)) !== null || p.child.exitCode !== null, ms, `output matching ${re}`).catch((e: Error) => {
    throw new Error(`${e.message}; stdout: ${p.stdout}; stderr: ${p.stderr}`);
  });
  if (m === null) throw new Error(`the program exited (${p.child.exitCode}) before printing ${re}; stderr: ${p.stderr}`);
  return m;
}

async function stop(p: Program, signal: NodeJS.Signals = 'SIGTERM') {
  p.child.kill(signal);
  return within(10_000, p.exited, 'the program to exit');
}

afterEach(async () => {
  // Whatever a failed test left running.
  for (const p of started.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});

async function startScheduler(): Promise<{ p: Program; address: string }> {
  const p = run(DSCHEDULER, ['--port', '0']);
  const m = await line(p, /^Start scheduler at (tcp:\/\/127\.0\.0\.1:(\d+))$/m);
  expect(Number(m[2])).toBeGreaterThan(0);
  return { p, address: m[1] };
}

describe('dscheduler and dworker', () => {
  it('start, register the worker under its name, and exit 0 on SIGTERM', async () => {
    const { p: sched, address } = await startScheduler();
    const worker = run(DWORKER, [address.replace('tcp://', ''), '--name', 'alice', '--nthreads', '2']);
    const start = await line(worker, /^Start worker at: +(tcp:\/\/127\.0\.0\.1:\d+)$/m);
    await line(worker, new RegExp(`^Registered with scheduler at: ${address}$`, 'm'));
    let workers = (await schedulerCall(address, { op: 'identity' })).workers;
    for (let i = 0; i < 50 && Object.keys(workers).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      workers = (await schedulerCall(address, { op: 'identity' })).workers;
    }
    const me = workers[start[1].replace('tcp://', '')];
    expect(me).toMatchObject({ name: 'alice', nthreads: 2, host: '127.0.0.1', pid: worker.child.pid });

    expect(await stop(worker)).toEqual({ code: 0, signal: null });
    // It unregistered on its way out.
    expect((await schedulerCall(address, { op: 'identity' })).workers).toEqual({});
    expect(await stop(sched)).toEqual({ code: 0, signal: null });
  }, 40_000);

  it('starts --nprocs worker processes named NAME-i, and stops them all on SIGTERM', async () => {
    const { p: sched, address } = await startScheduler();
    const workers = run(DWORKER, [address, '--nprocs', '2', '--nthreads', '1', '--name', 'bob']);
    await until(() => (workers.stdout.match(/^Registered with scheduler at:/gm) ?? []).length === 2, 20_000, 'two workers registered').catch((e: Error) => {
      throw new Error(`${e.message}; stdout: ${workers.stdout}; stderr: ${workers.stderr}`);
    });
    let names: string[] = [];
    for (let i = 0; i < 50 && names.length < 2; i++) {
      names = Object.values((await schedulerCall(address, { op: 'identity' })).workers).map((w) => w.name).sort();
      if (names.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(names).toEqual(['bob-0', 'bob-1']);
    expect(await stop(workers, 'SIGINT')).toEqual({ code: 0, signal: null });
    expect((await schedulerCall(address, { op: 'identity' })).workers).toEqual({});
    expect(await stop(sched, 'SIGINT')).toEqual({ code: 0, signal: null });
  }, 40_000);

  it('a worker exits 0 on its own when its scheduler goes away', async () => {
    const { p: sched, address } = await startScheduler();
    const worker = run(DWORKER, [address, '--nthreads', '1']);
    await line(worker, /^Registered with scheduler at:/m);
    expect(await stop(sched)).toEqual({ code: 0, signal: null });
    expect(await within(10_000, worker.exited, 'the worker to exit')).toEqual({ code: 0, signal: null });
    expect(worker.stderr).toMatch(/connection to the scheduler .* closed; closing/);
  }, 40_000);

  it('refuses bad arguments with a usage error and exit status 2', async () => {
    const cases: [string, string[], RegExp][] = [
      [DWORKER, [], /the scheduler ADDRESS is missing/],
      [DWORKER, ['127.0.0.1:8786', '--nthreads', '0'], /--nthreads must be an integer/],
      [DWORKER, ['127.0.0.1:8786', '--nprocs', 'two'], /--nprocs must be an integer/],
      [DWORKER, ['127.0.0.1:8786', '--frobnicate'], /Unknown option '--frobnicate'/],
      [DWORKER, ['not an address'], /bad scheduler address/],
      [DSCHEDULER, ['--port', '70000'], /--port must be an integer in 0\.\.65535/],
      [DSCHEDULER, ['extra'], /unexpected argument 'extra'/],
    ];
    await Promise.all(
      cases.map(async ([entry, args, message]) => {
        const p = run(entry, args);
        const { code } = await within(15_000, p.exited, `${entry} ${args.join(' ')} to exit`);
        expect(code, `${entry} ${args.join(' ')}: ${p.stderr}`).toBe(2);
        expect(p.stderr).toMatch(message);
        expect(p.stderr).toMatch(/^Usage: d(worker|scheduler)/m);
      }),
    );
  }, 40_000);
});
