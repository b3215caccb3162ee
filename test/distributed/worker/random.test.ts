/**
 * Random runs of one worker against a simulated scheduler and peers, validate mode on.
 *
 * The scheduler sends compute-tasks for a random DAG over local tasks (t*) and remote keys (r*),
 * naming holders as a scheduler would: this worker for what it finished, nobody for what it is
 * still computing, the listed peers for remote keys. Peers may lack keys they are listed for, or
 * be unreachable. Executions succeed or fail, and replies come back, in random order; now and then
 * the scheduler frees keys, steals tasks, asks for replicas, scatters, pauses the worker. It acts on
 * what the worker reports: an erred task frees its dependents, missing-data drops the errant
 * holder, and the server's who-has poll gives missing keys a holder that has everything.
 *
 * When nothing is left to do, every task the scheduler still expects must be in memory (with its
 * value) or in error, nothing may be left fetching, waiting or running, and freeing every key
 * must leave the worker empty.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Serialize } from '../../../src/distributed/protocol/index.js';
import type { Address, Key, WorkerToScheduler } from '../../../src/distributed/messages.js';
import type { WorkerEvent, WorkerInstruction } from '../../../src/distributed/worker/events.js';
import { seededRandom } from '../../../src/distributed/worker/transfers.js';
import { WorkerState } from '../../../src/distributed/worker/state.js';

const SELF = 'self:1';
const GOOD = 'good:1'; // holds every key
const PEERS = ['p0:1', 'p1:1', 'p2:1', 'p3:1'];

type Status = 'unsent' | 'sent' | 'memory' | 'error' | 'dropped' | 'moved';

interface Params {
  readonly seed: number;
  readonly nTasks: number;
  readonly nRemote: number;
  readonly nthreads: number;
  readonly maxIncomingPerPeer: number;
  readonly maxConcurrentIncoming: number;
  readonly maxBytesPerFetch: number;
}

class Sim {
  readonly w: WorkerState;
  private readonly rnd: () => number;
  private readonly deps = new Map<Key, Key[]>();
  private readonly status = new Map<Key, Status>();
  /** Remote keys: the holders the scheduler believes in. */
  private readonly holders = new Map<Key, Address[]>();
  private readonly lacks = new Set<string>(); // `${peer} ${key}`
  private readonly dead = new Set<Address>();
  private readonly executes: Key[] = [];
  private readonly gathers: { worker: Address; keys: Key[] }[] = [];
  private readonly pending: WorkerEvent[] = [];
  private paused = false;
  private scattered = 0;
  private readonly runIds = new Map<Key, number>();
  private n = 0;
  steps = 0;

  constructor(private readonly p: Params) {
    this.rnd = seededRandom(p.seed);
    this.w = new WorkerState({
      address: SELF,
      nthreads: p.nthreads,
      validate: true,
      seed: p.seed,
      transferLimits: {
        maxIncomingPerPeer: p.maxIncomingPerPeer,
        maxConcurrentIncoming: p.maxConcurrentIncoming,
        maxBytesPerFetch: p.maxBytesPerFetch,
      },
    });
    for (const peer of PEERS) if (this.rnd() < 0.15) this.dead.add(peer);
    for (let i = 0; i < p.nRemote; i++) {
      const key = `r${i}`;
      const listed = PEERS.filter(() => this.rnd() < 0.5);
      if (listed.length === 0) listed.push(this.pick(PEERS));
      for (const peer of listed) if (this.rnd() < 0.25) this.lacks.add(`${peer} ${key}`);
      this.holders.set(key, listed);
    }
    for (let i = 0; i < p.nTasks; i++) {
      const key = `t${i}`;
      const pool = [...Array.from({ length: i }, (_, j) => `t${j}`), ...this.holders.keys()];
      this.deps.set(key, pool.length === 0 ? [] : pool.filter(() => this.rnd() < 2.5 / pool.length));
      this.status.set(key, 'unsent');
    }
  }

  run(): void {
    for (;;) {
      this.dropOrphans();
      const core = this.coreActions();
      const extra = this.steps < 200 ? this.extraActions() : [];
      if (core.length === 0 && !this.paused) break;
      if (extra.length > 0 && (core.length === 0 || this.rnd() < 0.2)) this.pick(extra)();
      else if (core.length > 0) this.pick(core)();
      else this.deliver({ type: 'unpause' });
      while (this.pending.length > 0) this.deliver(this.pending.shift()!);
      if (++this.steps > 20_000) throw new Error('the simulation does not settle');
    }
  }

  check(): void {
    const w = this.w;
    expect(w.executingCount).toBe(0);
    expect(w.inFlight()).toEqual([]);
    for (const [key, status] of this.status) {
      expect(status, key).not.toBe('sent');
      if (status === 'memory') {
        expect(w.taskState(key)?.state, key).toBe('memory');
        expect(w.data.get(key), key).toBe(`v:${key}`);
      }
      if (status === 'error') expect(w.taskState(key)?.state, key).toBe('error');
    }
    for (const key of w.keys()) expect(['memory', 'error'], key).toContain(w.taskState(key)!.state);
    this.deliver({ type: 'free-keys', keys: w.keys(), stimulusId: 'free-all' });
    expect(w.keys()).toEqual([]);
    expect(w.data.size).toBe(0);
  }

  // ---- actions

  private coreActions(): (() => void)[] {
    const out: (() => void)[] = [];
    const sendable = [...this.status].filter(([k, s]) => s === 'unsent' && this.deps.get(k)!.every((d) => this.ready(d)));
    if (sendable.length > 0) out.push(() => this.sendCompute(this.pick(sendable)[0]));
    if (this.executes.length > 0) out.push(() => this.finishExecute());
    if (this.gathers.length > 0) out.push(() => this.answerGather());
    if (this.w.missingKeys().length > 0) out.push(() => this.findMissing());
    return out;
  }

  private extraActions(): (() => void)[] {
    const withStatus = (...s: Status[]) => [...this.status].filter(([, st]) => s.includes(st)).map(([k]) => k);
    const out: (() => void)[] = [];
    const live = withStatus('sent', 'memory', 'error');
    if (live.length > 0) out.push(() => this.cancel(this.pick(live)));
    const stealable = [...withStatus('sent', 'memory'), 'never-heard-of'];
    out.push(() => this.steal(this.pick(stealable)));
    const here = withStatus('sent', 'memory');
    if (here.length > 0) out.push(() => this.moveElsewhere(this.pick(here)));
    const again = withStatus('dropped', 'moved').filter((k) => this.deps.get(k)!.every((d) => this.ready(d)));
    if (again.length > 0) out.push(() => this.sendCompute(this.pick(again)));
    const erred = withStatus('error');
    if (erred.length > 0) out.push(() => this.status.set(this.pick(erred), 'moved')); // retried elsewhere
    if (this.holders.size > 0) out.push(() => this.replicate(this.pick([...this.holders.keys()])));
    out.push(() => this.scatter(this.rnd() < 0.5 ? this.pick([...this.status.keys()]) : `s${this.scattered++}`));
    out.push(() => this.deliver({ type: this.paused ? 'unpause' : 'pause' }));
    return out;
  }

  private sendCompute(key: Key): void {
    const whoHas: Record<Key, Address[]> = {};
    const nbytes: Record<Key, number> = {};
    for (const d of this.deps.get(key)!) {
      whoHas[d] = this.whereIs(d);
      nbytes[d] = 100 + Math.floor(this.rnd() * 900);
    }
    this.status.set(key, 'sent');
    this.runIds.set(key, this.n);
    this.deliver({
      type: 'compute-task',
      key,
      run: new Serialize(key),
      priority: Math.floor(this.rnd() * 5),
      whoHas,
      nbytes,
      stimulusId: this.sid('compute'),
      runId: this.runIds.get(key),
    });
  }

  private finishExecute(): void {
    const key = this.take(this.executes);
    const stimulusId = this.sid('execute');
    if (this.rnd() < 0.15) {
      this.deliver({ type: 'execute-failure', key, exception: new Serialize('boom'), start: 0, stop: 1, stimulusId });
    } else {
      this.deliver({ type: 'execute-success', key, value: `v:${key}`, nbytes: 8, typeName: 'string', start: 0, stop: 1, stimulusId });
    }
  }

  private answerGather(): void {
    const g = this.take(this.gathers);
    const stimulusId = this.sid('gather');
    if (this.dead.has(g.worker)) {
      this.deliver({ type: 'gather-dep-failure', worker: g.worker, keys: g.keys, error: 'unreachable', stimulusId });
      return;
    }
    const data: Record<Key, unknown> = {};
    const nbytes: Record<Key, number> = {};
    for (const key of g.keys) {
      if (!this.has(g.worker, key)) continue;
      data[key] = `v:${key}`;
      nbytes[key] = 8;
    }
    const keys = this.p.maxIncomingPerPeer > 1 || this.rnd() < 0.5 ? { keys: g.keys } : {};
    this.deliver({ type: 'gather-dep-success', worker: g.worker, data, nbytes, start: 0, stop: 1, stimulusId, ...keys });
  }

  private findMissing(): void {
    const whoHas = Object.fromEntries(this.w.missingKeys().map((k) => [k, [GOOD]]));
    for (const k of Object.keys(whoHas)) if (this.holders.has(k)) this.holders.set(k, [GOOD]);
    this.deliver({ type: 'refresh-who-has', whoHas, stimulusId: this.sid('who-has') });
  }

  /** The client cancelled `key`: it and everything computed from it are freed. */
  private cancel(key: Key): void {
    const gone = this.dependentsOf(key);
    const sent = gone.filter((k) => this.status.get(k) !== 'unsent');
    for (const k of gone) this.status.set(k, 'dropped');
    this.deliver({ type: 'free-keys', keys: sent, stimulusId: this.sid('free') });
  }

  private steal(key: Key): void {
    const out = this.deliver({ type: 'steal-request', key, stimulusId: this.sid('steal') });
    const reply = out.find((i) => i.type === 'send' && i.msg.op === 'steal-response');
    expect(reply, `steal-response for ${key}`).toBeDefined();
    const state = (reply as { msg: { state: string } }).msg.state;
    if (state === 'released') this.status.set(key, 'moved');
  }

  /** The scheduler moves the task or its copy elsewhere and frees it here. */
  private moveElsewhere(key: Key): void {
    this.status.set(key, 'moved');
    this.deliver({ type: 'free-keys', keys: [key], stimulusId: this.sid('move') });
  }

  private replicate(key: Key): void {
    this.deliver({ type: 'acquire-replicas', whoHas: { [key]: this.whereIs(key) }, nbytes: { [key]: 50 }, stimulusId: this.sid('replicate') });
  }

  /** A client scatters a value under a new key, or over one of the graph's keys. */
  private scatter(key: Key): void {
    if (this.status.has(key)) this.status.set(key, 'memory');
    this.deliver({ type: 'update-data', data: { [key]: `v:${key}` }, nbytes: { [key]: 8 }, stimulusId: this.sid('scatter') });
  }

  // ---- the worker's instructions

  private deliver(ev: WorkerEvent): WorkerInstruction[] {
    if (ev.type === 'pause') this.paused = true;
    if (ev.type === 'unpause') this.paused = false;
    const out = this.w.handle(ev);
    for (const i of out) {
      if (i.type === 'execute') this.executes.push(i.key);
      else if (i.type === 'gather-dep') this.gathers.push({ worker: i.worker, keys: i.keys });
      else this.received(i.msg);
    }
    return out;
  }

  private received(msg: WorkerToScheduler): void {
    switch (msg.op) {
      case 'task-finished':
        expect(this.status.get(msg.key), `task-finished ${msg.key}`).toBe('sent');
        expect(msg.runId, `run id of ${msg.key}`).toBe(this.runIds.get(msg.key));
        this.status.set(msg.key, 'memory');
        break;
      case 'task-erred':
        expect(this.status.get(msg.key), `task-erred ${msg.key}`).toBe('sent');
        expect(msg.runId, `run id of ${msg.key}`).toBe(this.runIds.get(msg.key));
        this.status.set(msg.key, 'error');
        this.erred(msg.key);
        break;
      case 'missing-data': {
        const list = this.holders.get(msg.key);
        if (list) this.holders.set(msg.key, list.filter((p) => p !== msg.errantWorker));
        break;
      }
      default:
    }
  }

  /** Dependents of an erred task err too: those sent are freed on the worker. */
  private erred(key: Key): void {
    const gone = this.dependentsOf(key).filter((k) => k !== key);
    const sent = gone.filter((k) => this.status.get(k) === 'sent' || this.status.get(k) === 'memory');
    for (const k of gone) if (this.status.get(k) !== 'error') this.status.set(k, 'dropped');
    if (sent.length > 0) this.pending.push({ type: 'free-keys', keys: sent, stimulusId: this.sid('dependents-erred') });
  }

  // ---- the simulated world

  /** A dependency a compute-task can name: finished, being computed here, or elsewhere. */
  private ready(d: Key): boolean {
    const s = this.status.get(d);
    return s === undefined || s === 'sent' || s === 'memory' || s === 'moved';
  }

  private dropOrphans(): void {
    for (const [k, s] of this.status) {
      if (s !== 'unsent') continue;
      const bad = this.deps.get(k)!.some((d) => ['error', 'dropped'].includes(this.status.get(d) ?? ''));
      if (bad) this.status.set(k, 'dropped');
    }
  }

  private whereIs(key: Key): Address[] {
    const s = this.status.get(key);
    if (s === 'memory') return [SELF];
    if (s === 'sent') return [];
    if (s === 'moved') return [GOOD];
    const list = this.holders.get(key)!;
    return list.length > 0 ? [...list] : [GOOD];
  }

  private has(peer: Address, key: Key): boolean {
    if (peer === GOOD) return true;
    return this.holders.has(key) && !this.lacks.has(`${peer} ${key}`);
  }

  /** `key` and every task computed from it, transitively. */
  private dependentsOf(key: Key): Key[] {
    const out = new Set([key]);
    for (const [k] of this.status) if (this.deps.get(k)!.some((d) => out.has(d))) out.add(k);
    return [...out];
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  private take<T>(xs: T[]): T {
    return xs.splice(Math.floor(this.rnd() * xs.length), 1)[0];
  }

  private sid(what: string): string {
    return `${what}-${this.n++}`;
  }
}

describe('random runs (validate mode)', () => {
  it('always ends with every expected key in memory or error, and nothing stuck', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          nTasks: fc.integer({ min: 1, max: 24 }),
          nRemote: fc.integer({ min: 0, max: 6 }),
          nthreads: fc.integer({ min: 1, max: 3 }),
          maxIncomingPerPeer: fc.integer({ min: 1, max: 2 }),
          maxConcurrentIncoming: fc.integer({ min: 1, max: 3 }),
          maxBytesPerFetch: fc.constantFrom(150, 1000, 50e6),
        }),
        (p) => {
          const sim = new Sim(p);
          sim.run();
          sim.check();
        },
      ),
      { numRuns: 400 },
    );
  });
});
