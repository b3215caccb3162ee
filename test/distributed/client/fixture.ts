/**
 * One in-process cluster per test file (LocalCluster: a scheduler and workers on 127.0.0.1:0, with
 * the state machines' validate mode on) and a Client connected to it. `check()` fails when either
 * state machine reported an internal error or anything logged an error.
 */
import { afterAll, beforeAll } from 'vitest';
import { Client, LocalCluster } from '../../../src/distributed/index.js';
import { createLogger, type LogRecord } from '../../../src/distributed/rpc/logger.js';

export interface ClientFixture {
  readonly cluster: LocalCluster;
  readonly client: Client;
  readonly logs: LogRecord[];
  /** Throws if a state machine erred or an error was logged (except those matching `allow`). */
  check(allow?: RegExp): void;
  close(): Promise<void>;
}

export async function startClient(options: { nWorkers?: number; threadsPerWorker?: number; validate?: boolean } = {}): Promise<ClientFixture> {
  const logs: LogRecord[] = [];
  const logger = createLogger('dask-ts.test', { level: 'debug', sink: (r) => logs.push(r) });
  const cluster = await LocalCluster.start({
    nWorkers: options.nWorkers ?? 2,
    threadsPerWorker: options.threadsPerWorker ?? 1,
    validate: options.validate ?? true,
    logger,
  });
  const client = await Client.connect(cluster, { timeoutMs: 5000, logger: logger.child('client') });
  return {
    cluster,
    client,
    logs,
    check(allow?: RegExp) {
      const internal = [...cluster.scheduler.errors, ...cluster.workers.flatMap((w) => w.server?.errors ?? [])];
      if (internal.length > 0) throw new AggregateError(internal, `state machine errors: ${internal.map((e) => e.message).join('; ')}`);
      const errors = logs.filter((r) => r.level === 'error' && (allow === undefined || allow.exec(r.message) === null));
      if (errors.length > 0) throw new Error(`errors were logged:\n${errors.map((r) => `${r.name}: ${r.message}`).join('\n')}`);
    },
    async close() {
      await client.close();
      await cluster.close();
    },
  };
}

/** Polls `cond` (sync or async) every 10 ms; rejects after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * One cluster and client for the whole test file: starts them before the first test, and after
 * the last checks that nothing erred (`check()`) and closes them. `onStart` receives the fixture.
 */
export function useClientFixture(onStart: (fx: ClientFixture) => void, options?: Parameters<typeof startClient>[0]): void {
  let fx: ClientFixture | undefined;
  beforeAll(async () => {
    fx = await startClient(options);
    onStart(fx);
  });
  afterAll(async () => {
    if (fx === undefined) return;
    fx.check();
    await fx.close();
  });
}
