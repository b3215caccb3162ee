/**
 * Random DAGs on a simulated cluster, with validate on: tasks finish in random order, some fail,
 * workers leave and join, data vanishes without notice, clients release and cancel. Whatever
 * happens, once the cluster is left to finish, every key a client still wants ends in memory or
 * erred, the client was told so last, no task is left on a worker, and erred keys were erred for
 * a reason (a failing task, or workers dying under it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Address, Key, TaskInput } from '../../../src/distributed/messages.js';
import type { Instruction, SchedulerEvent } from '../../../src/distributed/scheduler/index.js';
import { exception, Harness, identity, runOf } from './helpers.js';

const NAMES = ['w0', 'w1', 'w2', 'w3'];
const CLIENTS = ['c0', 'c1'];

interface Node {
  readonly deps: number[];
  /** Scattered inputs (`s0`, `s1`, …), which cannot be recomputed. */
  readonly sdeps: number[];
  readonly gen: number;
  readonly wanted: boolean;
  readonly bad: boolean;
  readonly restrict?: { name: number; loose: boolean };
}

interface Scenario {
  readonly nodes: Node[];
  /** Per scattered key, the workers (by index among those alive) it is put on. */
  readonly scattered: number[][];
  readonly nthreads: number[];
  readonly initialWorkers: number;
  readonly actions: { kind: Action; a: number; b: number }[];
}

type Action = 'finish' | 'remove' | 'add' | 'vanish' | 'drop' | 'submit' | 'release' | 'cancel';

interface SimWorker {
  readonly address: Address;
  readonly mem: Set<Key>;
  readonly tasks: Map<Key, { runId: number; deps: Key[] }>;
}

const key = (i: number) => `t${i}`;

class Sim {
  readonly h = new Harness();
  readonly workers = new Map<Address, SimWorker>();
  readonly wants = new Map<string, Set<Key>>(CLIENTS.map((c) => [c, new Set()]));
  /** The last message about each key each client got. */
  readonly lastReport = new Map<string, string>();
  /** Keys some worker lost without telling (the scheduler only learns of it from a failed fetch). */
  readonly vanished = new Set<Key>();
  #incarnation = 0;
  #submitted = new Set<number>();

  constructor(readonly sc: Scenario) {
    for (const c of CLIENTS) this.handle({ type: 'add-client', client: c });
  }

  handle(e: SchedulerEvent): void {
    this.apply(this.h.s.handle(e));
  }

  apply(out: Instruction[]): void {
    for (const i of out) {
      if (i.type === 'send-client') {
        if ('key' in i.msg) this.lastReport.set(`${i.client}/${i.msg.key}`, i.msg.op);
        continue;
      }
      const w = this.workers.get(i.worker);
      expect(w, `instruction to a worker that left: ${JSON.stringify(i)}`).toBeDefined();
      if (i.msg.op === 'compute-task') {
        expect(w!.tasks.has(i.msg.key), `compute-task '${i.msg.key}' sent twice to ${i.worker}`).toBe(false);
        w!.tasks.set(i.msg.key, { runId: i.msg.runId!, deps: Object.keys(i.msg.whoHas) });
      } else if (i.msg.op === 'free-keys') {
        for (const k of i.msg.keys) {
          w!.mem.delete(k);
          w!.tasks.delete(k);
        }
      }
    }
  }

  addWorker(nameIndex: number): void {
    const name = NAMES[nameIndex % NAMES.length];
    if ([...this.workers.values()].some((w) => w.address.startsWith(`${name}:`))) return;
    const address = `${name}:${++this.#incarnation}`;
    this.workers.set(address, { address, mem: new Set(), tasks: new Map() });
    const nthreads = this.sc.nthreads[nameIndex % NAMES.length];
    this.handle({ type: 'add-worker', worker: identity(address, { name, host: name, nthreads }), stimulusId: this.h.sid('add-') });
  }

  removeWorker(address: Address): void {
    this.workers.delete(address);
    this.handle({ type: 'remove-worker', address, stimulusId: this.h.sid('remove-') });
  }

  /** Client `gen % 2` submits generation `gen`: its nodes and everything they depend on. */
  submit(gen: number): void {
    if (this.#submitted.has(gen)) return;
    this.#submitted.add(gen);
    const nodes = this.sc.nodes;
    const mine = nodes.flatMap((n, i) => (n.gen === gen ? [i] : []));
    if (mine.length === 0) return;
    const tasks: Record<Key, TaskInput> = {};
    const visit = (i: number) => {
      if (tasks[key(i)] !== undefined) return;
      const n = nodes[i];
      tasks[key(i)] = {
        run: runOf(key(i)),
        deps: [...n.deps.map(key), ...n.sdeps.map((j) => `s${j}`)],
        priority: i,
        ...(n.restrict ? { workers: [NAMES[n.restrict.name]], allowOtherWorkers: n.restrict.loose } : {}),
      };
      n.deps.forEach(visit);
    };
    mine.forEach(visit);
    const client = CLIENTS[gen % CLIENTS.length];
    const keys = mine.filter((i) => nodes[i].wanted).map(key);
    for (const k of keys) this.wants.get(client)!.add(k);
    this.handle({ type: 'update-graph', client, tasks, keys, stimulusId: this.h.sid(`update-${gen}-`) });
  }

  /** Client c0 puts `s${j}` on some of the workers alive (none alive: it is never known). */
  scatter(): void {
    const live = [...this.workers.values()];
    this.sc.scattered.forEach((picks, j) => {
      if (live.length === 0) return;
      const holders = [...new Set(picks.map((p) => live[p % live.length]))];
      for (const w of holders) w.mem.add(`s${j}`);
      this.wants.get('c0')!.add(`s${j}`);
      this.handle({ type: 'update-data', client: 'c0', whoHas: { [`s${j}`]: holders.map((w) => w.address) }, nbytes: { [`s${j}`]: 100 }, stimulusId: this.h.sid('scatter-') });
    });
  }

  pending(): [SimWorker, Key][] {
    return [...this.workers.values()].flatMap((w) => [...w.tasks.keys()].map((k) => [w, k] as [SimWorker, Key]));
  }

  /** The worker fetches the inputs (reporting holders that lack them), then runs the task. */
  run(w: SimWorker, k: Key): void {
    const t = w.tasks.get(k)!;
    for (const dep of t.deps) {
      if (w.mem.has(dep)) continue;
      let found = false;
      for (const holder of this.h.s.whoHas([dep])[dep]) {
        if (this.workers.get(holder)?.mem.has(dep)) {
          found = true;
          break;
        }
        this.handle({ type: 'missing-data', worker: w.address, key: dep, errantWorker: holder, stimulusId: this.h.sid('missing-') });
      }
      if (!found || w.tasks.get(k) !== t) return; // the scheduler re-places it
    }
    w.tasks.delete(k);
    const i = Number(k.slice(1));
    if (this.sc.nodes[i].bad) {
      this.handle({ type: 'task-erred', worker: w.address, key: k, exception: exception(`${k} failed`), startstops: [], stimulusId: this.h.sid('err-'), runId: t.runId });
    } else {
      w.mem.add(k);
      this.handle({
        type: 'task-finished', worker: w.address, key: k, nbytes: 8 + i, typename: 'number',
        startstops: [{ action: 'compute', start: 0, stop: 0.001 * (1 + (i % 3)) }], stimulusId: this.h.sid('done-'), runId: t.runId,
      });
    }
  }

  act({ kind, a, b }: Scenario['actions'][number]): void {
    const live = [...this.workers.values()];
    const pick = <T>(xs: readonly T[], n: number): T | undefined => (xs.length === 0 ? undefined : xs[n % xs.length]);
    switch (kind) {
      case 'finish': {
        const p = pick(this.pending(), a);
        if (p) this.run(...p);
        break;
      }
      case 'remove': {
        const w = pick(live, a);
        if (w) this.removeWorker(w.address);
        break;
      }
      case 'add':
        this.addWorker(a);
        break;
      case 'vanish': {
        // Data lost without a word (a disk gone bad): noticed later as missing-data.
        const w = pick(live.filter((x) => x.mem.size > 0), a);
        const k = w && pick([...w.mem], b);
        if (w && k) {
          w.mem.delete(k);
          this.vanished.add(k);
        }
        break;
      }
      case 'drop': {
        const w = pick(live.filter((x) => x.mem.size > 0), a);
        const k = w && pick([...w.mem], b);
        if (w && k) {
          w.mem.delete(k);
          this.handle({ type: 'release-worker-data', worker: w.address, key: k, stimulusId: this.h.sid('drop-') });
        }
        break;
      }
      case 'submit':
        this.submit(a % 3);
        break;
      case 'release':
      case 'cancel': {
        const client = CLIENTS[a % CLIENTS.length];
        const k = pick([...this.wants.get(client)!], b);
        if (!k) break;
        this.wants.get(client)!.delete(k);
        const type = kind === 'release' ? 'client-releases-keys' : 'cancel-keys';
        this.handle({ type, client, keys: [k], stimulusId: this.h.sid(`${kind}-`) });
        // A cancel also drops the client's dependents of k that nobody else wants.
        if (kind === 'cancel') for (const x of [...this.wants.get(client)!]) if (this.h.s.task(x)?.whoWants.includes(client) !== true) this.wants.get(client)!.delete(x);
        break;
      }
    }
  }

  /** Every named worker back, every generation submitted, then run until nothing is left. */
  settle(): void {
    NAMES.forEach((_, i) => this.addWorker(i));
    for (let g = 0; g < 3; g++) this.submit(g);
    for (let steps = 0; steps < 10_000; steps++) {
      const p = this.pending()[0];
      if (!p) return;
      this.run(...p);
    }
    throw new Error('the simulation did not settle');
  }
}

const scenario: fc.Arbitrary<Scenario> = fc.tuple(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 2 })).chain(([n, ns]) =>
  fc.record({
    scattered: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), { minLength: ns, maxLength: ns }),
    nodes: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          deps: i === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat({ max: i - 1 }), { maxLength: 3 }),
          sdeps: ns === 0
            ? fc.constant<number[]>([])
            : fc.oneof(
                { weight: 3, arbitrary: fc.constant<number[]>([]) },
                { weight: 1, arbitrary: fc.uniqueArray(fc.nat({ max: ns - 1 }), { minLength: 1, maxLength: 2 }) },
              ),
          gen: fc.nat({ max: 2 }),
          wanted: fc.boolean(),
          bad: fc.nat({ max: 11 }).map((v) => v === 0),
          restrict: fc.option(fc.record({ name: fc.nat({ max: 3 }), loose: fc.boolean() }), { freq: 6, nil: undefined }),
        }),
      ),
    ),
    nthreads: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
    initialWorkers: fc.integer({ min: 0, max: 3 }),
    actions: fc.array(
      fc.record({
        kind: fc.oneof(
          { weight: 10, arbitrary: fc.constant<Action>('finish') },
          { weight: 2, arbitrary: fc.constantFrom<Action>('remove', 'add', 'submit') },
          { weight: 2, arbitrary: fc.constantFrom<Action>('vanish', 'drop', 'release', 'cancel') },
        ),
        a: fc.nat(),
        b: fc.nat(),
      }),
      { minLength: 10, maxLength: 150, size: 'max' },
    ),
  }),
);

describe('random graphs on a simulated cluster (validate on)', () => {
  it('always settles with every wanted key in memory or erred, and the clients told', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const sim = new Sim(sc);
        for (let i = 0; i <= sc.initialWorkers; i++) sim.addWorker(i);
        sim.scatter();
        sim.submit(0);
        for (const a of sc.actions) sim.act(a);
        sim.settle();

        const s = sim.h.s;
        expect(sim.pending()).toEqual([]);
        expect(s.counts()).toMatchObject({ waiting: 0, processing: 0, 'no-worker': 0 });
        for (const [client, keys] of sim.wants) {
          for (const k of keys) {
            const t = s.task(k);
            expect(t, `${client} wants '${k}'`).toBeDefined();
            expect(['memory', 'erred'], `'${k}' ended ${t!.state}`).toContain(t!.state);
            const reason = (t!.exception as { value?: Error } | undefined)?.value?.name;
            const told = t!.state === 'memory' ? 'key-in-memory' : reason === 'LostDataError' && t!.exceptionBlame === k ? 'lost-data' : 'task-erred';
            expect(sim.lastReport.get(`${client}/${k}`)).toBe(told);
            if (t!.state === 'erred') {
              // A failing task, workers dying under it, or scattered data gone (lost, or released and forgotten).
              const blame = t!.exceptionBlame!;
              const bad = blame.startsWith('t') && sc.nodes[Number(blame.slice(1))].bad;
              expect(bad || ['KilledWorker', 'LostDataError', 'MissingDependencyError'].includes(reason!), `'${k}' erred (${reason}), blaming '${blame}'`).toBe(true);
            } else if (!sim.vanished.has(k)) {
              expect(s.whoHas([k])[k].some((a) => sim.workers.get(a)?.mem.has(k)), `'${k}' is really somewhere`).toBe(true);
            }
          }
        }
        // Nothing is kept that nobody wants: releasing everything forgets everything.
        for (const [client, keys] of sim.wants) {
          if (keys.size > 0) sim.handle({ type: 'client-releases-keys', client, keys: [...keys], stimulusId: 'end' });
        }
        expect(s.counts()).toEqual({ released: 0, waiting: 0, 'no-worker': 0, processing: 0, memory: 0, erred: 0, forgotten: 0 });
      }),
      { numRuns: 300 },
    );
  });
});
