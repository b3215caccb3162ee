/**
 * Bringing results back: the values of finished keys, fetched from the workers that hold them
 * (`get-data`), for gather() and client.get. Results are fetched on demand and not cached:
 * `await f` twice fetches twice, as dask does.
 */
import type { Address, ClientToScheduler, Key } from '../messages.js';
import type { Logger } from '../rpc/logger.js';
import { ConnectionPool } from '../rpc/pool.js';
import type { SchedulerCall } from './data-ops.js';
import { LostDataError } from './errors.js';
import { futureInternals, type Future, type PostProcess } from './future.js';
import { waitAll, type KeyState } from './key-state.js';
import type { Refs } from './refs.js';
import { collectFutures, replaceFutures } from './structure.js';

/** The connect budget for a get-data from a worker key-in-memory named (the hinted pool). */
const HINTED_CONNECT_MS = 200;

/** Attempts to fetch a key's data before giving up (each after waiting for it to be recomputed). */
const MAX_FETCH_ATTEMPTS = 5;

/**
 * Keys per get-data request. Each value is at least one frame of the reply, and a comm carries at
 * most 10,000 frames per message, so many keys from one worker take several requests (in parallel,
 * over the pool's comms).
 */
const GET_DATA_KEYS = 1000;

/** What fetching needs of its client. */
export interface FetchHost {
  readonly clientId: string;
  readonly refs: Refs;
  /** The client's pool, for the scheduler and for workers who-has named. */
  readonly pool: ConnectionPool;
  readonly rpc: SchedulerCall;
  readonly logger: Logger;
  /** Throws a ClientClosedError when the client is closed or broken. */
  assertOpen(where: string): void;
  /** Queues a message on the client's stream. */
  send(msg: ClientToScheduler): void;
}

export class Fetcher {
  readonly #host: FetchHost;
  /**
   * For get-data from the holders key-in-memory named: such a worker was listening, so a refused
   * connection means it has left, and the fetch should turn to who-has at once rather than retry
   * connecting for the whole connect timeout.
   */
  readonly #hintedPool = new ConnectionPool({ connectTimeoutMs: HINTED_CONNECT_MS });

  constructor(host: FetchHost) {
    this.#host = host;
  }

  /** gather() of Futures in arrays and plain objects. */
  async gatherStructure(futures: unknown): Promise<unknown> {
    const list = collectFutures(futures);
    const values = await this.gather(list);
    const byFuture = new Map<Future, unknown>();
    list.forEach((f, i) => byFuture.set(f, values[i]));
    return replaceFutures(futures, (f) => byFuture.get(f));
  }

  /** The values of `futures` in order, each after its post-processing, once all are finished. */
  async gather(futures: readonly Future[]): Promise<unknown[]> {
    for (const f of futures) {
      if (futureInternals.link(f).clientId !== this.#host.clientId) throw new TypeError(`gather: the future '${f.key}' belongs to another client`);
      if (futureInternals.released(f)) throw new Error(`future '${f.key}' was released; its result is no longer available`);
    }
    await waitAll([...new Set(futures.map((f) => futureInternals.state(f)))]);
    this.#host.assertOpen('gather');
    const values = await this.fetch([...new Set(futures.map((f) => f.key))]);
    return futures.map((f) => {
      const v = values.get(f.key);
      const post: PostProcess | undefined = futureInternals.post(f);
      return post === undefined ? v : post(v);
    });
  }

  /**
   * The values of finished keys, from the workers that hold them: those key-in-memory named, else
   * those who-has names; get-data requests of at most GET_DATA_KEYS keys to each worker. A key
   * its named holders do not give (the data moved) is looked up with who-has at once. A key that no
   * worker gives (its worker left) is asked for again: the scheduler recomputes it if it must, and
   * the fetch is tried again once it is back in memory.
   */
  async fetch(keys: readonly Key[], signal?: AbortSignal): Promise<Map<Key, unknown>> {
    const { refs, pool, rpc, logger } = this.#host;
    const out = new Map<Key, unknown>();
    let missing = [...keys];
    let hinted = true;
    for (let attempt = 1; ; ) {
      const whoHas = hinted ? await this.#holders(missing) : await rpc('who-has', { keys: missing });
      const requests: [Address, Key[]][] = [];
      const open = new Map<Address, Key[]>();
      for (const k of missing) {
        const holders = whoHas[k];
        if (holders === undefined || holders.length === 0) continue;
        const w = holders[Math.floor(Math.random() * holders.length)];
        let list = open.get(w);
        if (list === undefined || list.length >= GET_DATA_KEYS) {
          open.set(w, (list = []));
          requests.push([w, list]);
        }
        list.push(k);
      }
      let failure: Error | undefined;
      await Promise.all(
        requests.map(async ([w, ks]) => {
          try {
            const reply = await (hinted ? this.#hintedPool : pool).call<{ data: Record<Key, unknown> }>(w, { op: 'get-data', keys: ks });
            for (const k of ks) if (Object.hasOwn(reply.data, k)) out.set(k, reply.data[k]);
          } catch (e) {
            failure = e as Error;
            logger.debug(`get-data of ${ks.length} keys from ${w} failed`, e);
          }
        }),
      );
      missing = missing.filter((k) => !out.has(k));
      if (missing.length === 0) return out;
      if (hinted) {
        // The named holders may be stale (data moved, a worker left): ask where the data is now.
        hinted = false;
        continue;
      }
      if (attempt >= MAX_FETCH_ATTEMPTS) {
        throw new LostDataError(missing[0], `no worker gave its data after ${attempt} attempts${failure ? ` (last error: ${failure.message})` : ''}`);
      }
      const states = missing.map((k) => refs.state(k)).filter((s): s is KeyState => s !== undefined);
      for (const s of states) if (s.status === 'finished') s.reset();
      this.#host.assertOpen('gather');
      this.#host.send({ op: 'client-desires-keys', keys: missing });
      await waitAll(states, signal);
      await sleep(5 * 2 ** attempt);
      attempt++;
      hinted = true;
    }
  }

  close(): Promise<void> {
    return this.#hintedPool.close();
  }

  /** Holders of `keys` as key-in-memory named them; who-has for the keys it named none for. */
  async #holders(keys: readonly Key[]): Promise<Record<Key, readonly Address[]>> {
    const known: Record<Key, readonly Address[]> = {};
    const unknown: Key[] = [];
    for (const k of keys) {
      const holders = this.#host.refs.state(k)?.holders;
      if (holders !== undefined && holders.length > 0) known[k] = holders;
      else unknown.push(k);
    }
    if (unknown.length === 0) return known;
    return Object.assign(known, await this.#host.rpc('who-has', { keys: unknown }));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
