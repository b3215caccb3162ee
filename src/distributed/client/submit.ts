/**
 * Sending work: submit and map calls, the graphs of compute, persist and client.get, and the
 * announcement of scattered data, each as messages on the client's stream with the Futures made in
 * the same tick. A task's run spec is serialised when it is submitted, so a value that cannot travel
 * is refused by submit itself, and a bad argument can never break the stream for the other tasks.
 */
import { isDaskCollection } from '../../graph/collection.js';
import { GraphError } from '../../graph/errors.js';
import { flattenKeys, packResults } from '../../graph/keynest.js';
import { describe as describeValue } from '../../graph/normalize.js';
import { isGraphLike, type Graph, type KeyNest, type TaskFn } from '../../graph/spec.js';
import { abortError } from '../../schedulers/errors.js';
import { validateGetOptions } from '../../schedulers/get-options.js';
import type { Address, ClientToScheduler, Key, TaskInput } from '../messages.js';
import { serialize, Serialize } from '../protocol/index.js';
import { futureInternals, type Future } from './future.js';
import { assertCollections, computeGraph, futuresGraph, persistGraph, takeOutFutures, type PreparedGraph } from './graphs.js';
import { waitAll, type KeyState } from './key-state.js';
import { callKey, mapKeys, zip } from './keys.js';
import { DEFAULT_CALL_OPTIONS, GET_RESTRICTION_OPTIONS, resolveGetRestrictions, type ClientGetOptions, type ResolvedCallOptions } from './options.js';
import type { Refs } from './refs.js';
import { runSpecOfCall, toRunSpecs } from './run-spec.js';
import { FutureStream, isAsyncIterable, streamKeys } from './streams.js';
import type { AnyFn } from './view.js';

/** What submission needs of its client. */
export interface SubmitHost {
  readonly clientId: string;
  readonly refs: Refs;
  /** Throws a ClientClosedError when the client is closed or broken. */
  assertOpen(where: string): void;
  /** Queues a message on the client's stream; `mergeable` update-graphs merge (outbox.ts). */
  send(msg: ClientToScheduler, mergeable?: boolean): void;
  /** The values of finished keys (fetch.ts). */
  fetch(keys: readonly Key[], signal?: AbortSignal): Promise<Map<Key, unknown>>;
}

type Restrictions = ReadonlyMap<Key, Pick<ResolvedCallOptions, 'workers' | 'allowOtherWorkers'>>;

export class Submitter {
  readonly #host: SubmitHost;
  /** Submission order: breaks ties between calls of equal priority. */
  #seq = 0;

  constructor(host: SubmitHost) {
    this.#host = host;
  }

  submit(o: ResolvedCallOptions, fn: AnyFn, args: unknown[]): Future {
    this.#host.assertOpen('submit');
    if (typeof fn !== 'function') throw new TypeError(`submit: expected a function first, got ${describeValue(fn)}`);
    if (o.key !== undefined && typeof o.key !== 'string') throw new TypeError(`submit: 'key' must be a string (a list of keys is for map)`);
    const key = o.key ?? callKey(fn, args, o.pure);
    const tasks: Record<Key, TaskInput> = {};
    const future = this.#call(o, fn, args, key, tasks);
    if (key in tasks) this.#host.send({ op: 'update-graph', tasks, keys: [key] }, true);
    return future;
  }

  map(o: ResolvedCallOptions, fn: AnyFn, iterables: unknown[]): Future[] | FutureStream {
    this.#host.assertOpen('map');
    if (typeof fn !== 'function') throw new TypeError(`map: expected a function first, got ${describeValue(fn)}`);
    if (iterables.length === 0) throw new TypeError('map: expected at least one iterable after the function');
    if (iterables.some(isAsyncIterable)) return new FutureStream(iterables, streamKeys(o, fn), (args, key) => this.submit({ ...o, key }, fn, args));
    const calls = zip(iterables);
    const keyOf = mapKeys(o, fn, calls);
    const tasks: Record<Key, TaskInput> = {};
    const futures: Future[] = [];
    try {
      for (let i = 0; i < calls.length; i++) futures.push(this.#call(o, fn, calls[i], keyOf(i), tasks));
    } catch (e) {
      for (const f of futures) f.release();
      throw e;
    }
    const keys = Object.keys(tasks);
    if (keys.length > 0) this.#host.send({ op: 'update-graph', tasks, keys }, true);
    return futures;
  }

  compute(o: ResolvedCallOptions, args: unknown[]): Future[] {
    this.#host.assertOpen('compute');
    const list: readonly unknown[] = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    assertCollections(list, 'Client.compute');
    const cg = computeGraph(list);
    const states = this.#submitGraph(cg, [...new Set(cg.keys)], o);
    return list.map((c, i) => this.#host.refs.future(cg.keys[i], states.get(cg.keys[i])!, (v) => c.daskPostCompute(v)));
  }

  persist(o: ResolvedCallOptions, args: unknown[]): unknown {
    this.#host.assertOpen('persist');
    const asList = args.length !== 1 || Array.isArray(args[0]);
    const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const collections = list.filter(isDaskCollection);
    if (collections.length === 0) return asList ? [...list] : list[0];
    const pg = persistGraph(collections);
    const states = this.#submitGraph(pg, pg.wanted, o);
    const futureOf = (k: Key) => this.#host.refs.future(k, states.get(k)!);
    const out = list.map((v) => (isDaskCollection(v) ? v.daskPostPersist(futuresGraph(v.daskKeys(), futureOf)) : v));
    return asList ? out : out[0];
  }

  /** client.get: runs `graph` and brings back the values of `keys`; the Futures it makes are released after. */
  async get(graph: Graph, keys: KeyNest, options?: ClientGetOptions): Promise<unknown> {
    const o = validateGetOptions(options, 'Client.get', GET_RESTRICTION_OPTIONS) as ClientGetOptions;
    const { signal, onTaskFinished } = o;
    if (signal?.aborted) throw abortError(signal);
    this.#host.assertOpen('get');
    if (!isGraphLike(graph)) {
      throw new TypeError(`a graph must be a plain object of keys to tasks or values, like { x: 1, y: [inc, 'x'] }; got ${describeValue(graph)}`);
    }
    const flat = flattenKeys(keys);
    const prepared = takeOutFutures(graph);
    for (const k of flat) {
      if (!Object.hasOwn(prepared.graph, k) && !prepared.futures.has(k)) throw GraphError.missingKey(k, Object.keys(graph));
    }
    const wanted = [...new Set(flat)];
    const restrict = resolveGetRestrictions(o, (k) => Object.hasOwn(prepared.graph, k), 'Client.get');
    const states = this.#submitGraph(prepared, wanted, DEFAULT_CALL_OPTIONS, restrict);
    const futures = wanted.map((k) => this.#host.refs.future(k, states.get(k)!));
    try {
      const list = [...states.values()];
      if (onTaskFinished) for (const s of list) void s.wait().then(() => s.status === 'finished' && onTaskFinished(s.key));
      try {
        await waitAll(list, signal);
      } catch (e) {
        if (signal?.aborted) this.#host.refs.cancel(list.filter((s) => !s.done).map((s) => s.key));
        throw e;
      }
      const values = await this.#host.fetch(wanted, signal);
      return packResults(keys, (k) => values.get(k));
    } finally {
      for (const f of futures) f.release();
    }
  }

  /** Futures of data the client put on workers (scatter), once the scheduler has taken it in. */
  async announce(keys: readonly Key[], whoHas: Record<Key, Address[]>, nbytes: Record<Key, number>): Promise<Future[]> {
    const { refs } = this.#host;
    this.#host.assertOpen('scatter');
    const futures = keys.map((k) => refs.future(k, refs.live(k) ?? refs.fresh(k)));
    this.#host.send({ op: 'update-data', whoHas, nbytes });
    try {
      await waitAll(futures.map((f) => futureInternals.state(f)));
    } catch (e) {
      for (const f of futures) f.release();
      throw e;
    }
    return futures;
  }

  /** The Future of `fn(...args)` as `key`; its task goes into `tasks` unless the client holds the key. */
  #call(o: ResolvedCallOptions, fn: AnyFn, args: readonly unknown[], key: Key, tasks: Record<Key, TaskInput>): Future {
    const { refs } = this.#host;
    const held = refs.live(key);
    if (held !== undefined) return refs.future(key, held);
    const input = runSpecOfCall(fn as TaskFn, args, { key });
    refs.assertHeld(input.deps, key);
    tasks[key] = taskInput(input, o, this.#seq++);
    return refs.future(key, refs.fresh(key));
  }

  /**
   * Sends a graph whose keys `wanted` the client will hold (the caller makes their Futures at
   * once, in the same tick). Keys of Futures taken out of the graph are known to the cluster.
   * Returns the state of each wanted key.
   */
  #submitGraph(prepared: PreparedGraph, wanted: readonly Key[], o: ResolvedCallOptions, restrict?: Restrictions): Map<Key, KeyState> {
    const { refs } = this.#host;
    for (const f of [...prepared.futures.values(), ...prepared.referenced]) {
      if (futureInternals.link(f).clientId !== this.#host.clientId) throw new TypeError(`the graph holds the future '${f.key}' of another client`);
      refs.assertHeld([f.key], f.key);
    }
    const specs = toRunSpecs(prepared.graph, { known: new Set(prepared.futures.keys()) });
    const tasks: Record<Key, TaskInput> = {};
    for (const k of Object.keys(specs)) {
      const r = restrict?.get(k);
      tasks[k] = taskInput(specs[k], r === undefined ? o : { ...o, ...r }, specs[k].priority ?? 0);
    }
    const states = new Map<Key, KeyState>();
    for (const k of wanted) {
      const live = refs.live(k);
      const held = refs.state(k);
      if (live !== undefined) states.set(k, live);
      else if (k in tasks) states.set(k, refs.fresh(k));
      else if (held !== undefined) throw held.error ?? new Error(`the future '${k}' is ${held.status}`);
      else throw new GraphError(`key '${k}' is neither in the graph nor held by this client`);
    }
    this.#host.send({ op: 'update-graph', tasks, keys: [...wanted] });
    return states;
  }
}

/** The message form of a task: its run spec serialised now, its restrictions and priority. */
function taskInput(input: TaskInput, o: ResolvedCallOptions, order: number): TaskInput {
  const run = input.run instanceof Serialize ? serialize(input.run.value) : input.run;
  const priority = order - o.priority * 2 ** 32;
  if (o.workers === undefined) return { run, deps: input.deps, priority };
  return { run, deps: input.deps, priority, workers: o.workers, allowOtherWorkers: o.allowOtherWorkers ?? false };
}
