#!/usr/bin/env node
/**
 * dworker: starts a worker for the scheduler at ADDRESS and prints
 *
 *     Start worker at:      tcp://127.0.0.1:40123
 *     Registered with scheduler at: tcp://127.0.0.1:8786
 *
 * `--nprocs N` (N > 1) starts N worker processes (this program again, forked) and waits for them;
 * with `--name NAME` they are named NAME-0 … NAME-(N-1); with a non-zero `--port P` they listen on
 * P … P+N-1. SIGINT / SIGTERM close the worker(s) and exit 0; bad arguments exit 2. A worker whose
 * scheduler goes away closes and exits 0.
 *
 * A forked worker (it has an IPC channel) sends `{ op: 'worker-started', address, name }` to its
 * parent once registered (LocalCluster and --nprocs use this), and closes when its parent goes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { tuneWorkerProcess, workerProcessEnv } from '../worker/process-env.js';
import { WorkerServer } from '../worker/server.js';
import { intOption, parse, runProgram, stringOption, UsageError } from './common.js';

const USAGE = `Usage: dworker ADDRESS [--nthreads N] [--nprocs N] [--name NAME] [--host HOST] [--port PORT]

  ADDRESS        the scheduler, host:port or tcp://host:port
  --nthreads N   tasks run at once per worker (default: the number of cores, ${availableParallelism()} here)
  --nprocs N     worker processes to start (default 1)
  --name NAME    an alias tasks can be restricted to (NAME-0, NAME-1, ... with --nprocs > 1)
  --host HOST    interface to listen on (default 127.0.0.1)
  --port PORT    port to listen on (default 0: a free port)
  -h, --help     show this help
`;

runProgram('dworker', USAGE, async () => {
  const args = process.argv.slice(2);
  const { values, positionals } = parse(
    args,
    {
      nthreads: { type: 'string' },
      nprocs: { type: 'string' },
      name: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length === 0) throw new UsageError('the scheduler ADDRESS is missing');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const scheduler = positionals[0];
  if (!/^(tcp:\/\/)?(\[[^\]]+\]|[^:/\s]+):\d{1,5}$/.test(scheduler)) {
    throw new UsageError(`bad scheduler address '${scheduler}': expected host:port or tcp://host:port`);
  }
  const nthreads = intOption(values, 'nthreads', availableParallelism(), 1);
  const nprocs = intOption(values, 'nprocs', 1, 1, 1024);
  const name = stringOption(values, 'name');
  const host = stringOption(values, 'host') ?? '127.0.0.1';
  const port = intOption(values, 'port', 0, 0, 65535);
  if (port !== 0 && port + nprocs - 1 > 65535) throw new UsageError(`--port ${port} with --nprocs ${nprocs} goes past port 65535`);

  if (nprocs > 1) return startProcesses({ scheduler, nthreads, nprocs, name, host, port });

  tuneWorkerProcess();
  const worker = await WorkerServer.start({ scheduler, nthreads, host, port, ...(name !== undefined ? { name } : {}) });
  process.stdout.write(`Start worker at:      ${worker.address}\nRegistered with scheduler at: ${worker.scheduler}\n`);
  process.send?.({ op: 'worker-started', address: worker.address, name: worker.name });
  // Closed from elsewhere (the scheduler went away, or asked it to): the program ends.
  void worker.finished.then(() => process.exit(0));
  if (process.send !== undefined) process.on('disconnect', () => void worker.close());
  return () => worker.close();
});

interface ProcessesOptions {
  readonly scheduler: string;
  readonly nthreads: number;
  readonly nprocs: number;
  readonly name: string | undefined;
  readonly host: string;
  readonly port: number;
}

/** Forks `nprocs` single workers; resolves once all registered (rejects if one fails to start). */
async function startProcesses(o: ProcessesOptions): Promise<() => Promise<void>> {
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  const started: Promise<void>[] = [];
  for (let i = 0; i < o.nprocs; i++) {
    const args = [o.scheduler, '--nthreads', String(o.nthreads), '--nprocs', '1', '--host', o.host, '--port', String(o.port === 0 ? 0 : o.port + i)];
    if (o.name !== undefined) args.push('--name', `${o.name}-${i}`);
    const child = fork(process.argv[1], args, { execArgv: process.execArgv, env: workerProcessEnv(), stdio: 'inherit' });
    children.push(child);
    started.push(
      new Promise<void>((resolve, reject) => {
        child.on('message', (m: unknown) => {
          if ((m as { op?: unknown })?.op === 'worker-started') resolve();
        });
        child.once('exit', (code, signal) => reject(new Error(`worker process ${i} exited (${signal ?? `code ${code}`}) before it registered`)));
      }),
    );
  }
  try {
    await Promise.all(started);
  } catch (e) {
    await stopAll();
    throw e;
  }
  // When every worker process has ended on its own (the scheduler went away), so does this one.
  const ended = (c: ChildProcess) => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(null) : c.once('exit', resolve)));
  void Promise.all(children.map(ended)).then(() => {
    if (!stopping) process.exit(children.every((c) => c.exitCode === 0) ? 0 : 1);
  });
  return stopAll;
}
