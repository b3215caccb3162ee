/**
 * Work stealing in the scheduler's state machine (steal.ts): tasks piled on one worker because
 * their input is there move to an idle worker while they would finish sooner there, from the
 * scheduler's backlog first and with steal-request / steal-response for tasks already sent.
 */
import { describe, expect, it } from 'vitest';
import type { Instruction } from '../../../src/distributed/scheduler/index.js';
import { computes, graph, Harness } from './helpers.js';

const A = 'alice:8000';
const B = 'bob:8000';

/** Tasks t0..t(n-1), each needing `d`. */
function onD(n: number, opts: Record<string, object> = {}) {
  const deps: Record<string, string[]> = {};
  for (let i = 0; i < n; i++) deps[`t${i}`] = ['d'];
  return graph(deps, opts);
}
const keys = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);

/** alice holds `d` (`nbytes`), bob has nothing; one client 'c'. */
function uneven(nbytes = 1000, options: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(options);
  h.addWorker(A, { name: 'alice', host: 'hostA' });
  h.addWorker(B, { name: 'bob', host: 'hostB' });
  h.addClient('c');
  h.scatter('c', { d: [A] }, { d: nbytes });
  return h;
}

const stealRequests = (out: readonly Instruction[]) =>
  out.flatMap((i) => (i.type === 'send-worker' && i.msg.op === 'steal-request' ? [[i.worker, i.msg.key]] : []));

describe('work stealing from the backlog', () => {
  it('moves queued tasks to the idle worker until both would finish together', () => {
    const h = uneven();
    const out = h.submit('c', onD(10), keys(10));
    // decide-worker puts all ten on alice (she has d); alice is sent 2 (a thread + 1 queued) and
    // bob, idle, takes queued ones: 0.5 s each (not measured yet), so 5 and 5.
    const sent = computes(out);
    expect(sent.filter(([w]) => w === A).map(([, k]) => k)).toEqual(['t0', 't1']);
    expect(sent.filter(([w]) => w === B)).toHaveLength(2);
    const p = h.s.processing();
    expect(p[A]).toHaveLength(5);
    expect(p[B]).toHaveLength(5);
    expect(p[B]).not.toContain('t0');
    expect(p[B]).not.toContain('t1');
    // bob is told to fetch d from alice.
    const toBob = out.find((i) => i.type === 'send-worker' && i.worker === B && i.msg.op === 'compute-task');
    expect(toBob).toMatchObject({ msg: { whoHas: { d: [A] }, nbytes: { d: 1000 } } });
    const steals = h.s.steals();
    expect(steals).toHaveLength(5);
    expect(steals.every((s) => s.victim === A && s.thief === B && s.how === 'backlog')).toBe(true);
    expect(h.s.occupancy()).toEqual({ [A]: 2.5, [B]: 2.5 });
  });

  it('leaves a balanced cluster alone', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: [], c: [], d: [], e: [], f: [] }), ['a', 'b', 'c', 'd', 'e', 'f']);
    expect(h.s.steals()).toEqual([]);
    expect(h.s.processing()[A]).toHaveLength(3);
  });

  it('feeds a worker that becomes idle later, when its own work runs out first', () => {
    const h = uneven(1000);
    h.submit('c', onD(10), keys(10));
    // 5 and 5 after the first balance; bob runs his five fast (10 ms each, now the measured
    // duration of every t task), while alice has not finished any: 3 wait in her backlog.
    const mine = h.s.processing()[B];
    let last: Instruction[] = [];
    for (const key of mine) last = h.finish(B, key, { seconds: 0.01 });
    // Idle again, bob takes from alice's backlog in the event that made him idle.
    const taken = computes(last).filter(([w]) => w === B);
    expect(taken.length).toBeGreaterThan(0);
    expect(h.s.steals().slice(5).every((s) => s.thief === B && s.how === 'backlog' && s.stimulusId === h.s.steals().at(-1)!.stimulusId)).toBe(true);
    expect(h.s.processing()[A].length).toBeLessThan(5);
  });

  it('keeps tasks whose input costs more to move than waiting does (the cost rule)', () => {
    // d is 1 GB: 10 s at 100 MB/s, against 10 tasks of 0.5 s on alice.
    const h = uneven(1e9);
    h.submit('c', onD(10), keys(10));
    expect(h.s.processing()[B]).toEqual([]);
    expect(h.s.steals()).toEqual([]);
  });

  it('counts an input on its way to the thief once: the first steal pays for the rest', () => {
    // 200 MB: 2 s to move. Paid by every task, bob would take 3 (the 4th: 2 s + 2 s > alice's
    // 3.5 s); paid once, the balance alone decides: 5.
    const h = uneven(200e6);
    h.submit('c', onD(10), keys(10));
    expect(h.s.processing()[B]).toHaveLength(5);
  });

  it('weighs transfers by the bandwidth option', () => {
    const h = uneven(1e9, { bandwidth: 1e12 });
    h.submit('c', onD(10), keys(10));
    expect(h.s.processing()[B]).toHaveLength(5);
  });

  it('steals nothing with workStealing: false', () => {
    const h = uneven(1000, { workStealing: false });
    h.submit('c', onD(10), keys(10));
    expect(h.s.processing()[B]).toEqual([]);
    expect(h.s.steals()).toEqual([]);
  });

  it('validates its options', () => {
    expect(() => new Harness({ workStealing: 'yes' as unknown as boolean })).toThrow('workStealing must be a boolean, got yes');
    expect(() => new Harness({ bandwidth: 0 })).toThrow('bandwidth must be a positive number of bytes per second');
    expect(() => new Harness({ bandwidth: -1 })).toThrow('bandwidth must be a non-negative number');
  });
});

describe('work stealing and restrictions', () => {
  it('never moves a task restricted to its worker, strict or loose', () => {
    const strict = uneven();
    strict.submit('c', onD(10, Object.fromEntries(keys(10).map((k) => [k, { workers: ['alice'] }]))), keys(10));
    expect(strict.s.processing()[B]).toEqual([]);
    const loose = uneven();
    loose.submit('c', onD(10, Object.fromEntries(keys(10).map((k) => [k, { workers: ['alice'], allowOtherWorkers: true }]))), keys(10));
    expect(loose.s.processing()[B]).toEqual([]);
  });

  it('moves restricted tasks to a worker the restriction names (by host, address or name)', () => {
    for (const allowed of [['hostA', 'hostB'], [A, B], ['alice', 'bob']]) {
      const h = uneven();
      h.submit('c', onD(10, Object.fromEntries(keys(10).map((k) => [k, { workers: allowed }]))), keys(10));
      expect(h.s.processing()[B]).toHaveLength(5);
    }
  });

  it('moves a loosely restricted task anywhere when no worker it names is connected', () => {
    const h = uneven();
    h.submit('c', onD(10, Object.fromEntries(keys(10).map((k) => [k, { workers: ['carol'], allowOtherWorkers: true }]))), keys(10));
    expect(h.s.processing()[B]).toHaveLength(5);
  });
});

describe('work stealing of tasks already sent (steal-request)', () => {
  /** alice alone gets t0..t4, all sent (a thread + 4 queued); then bob joins. */
  function sentToAlice(): { h: Harness; out: Instruction[] } {
    const h = new Harness({ workerQueue: { minTasks: 4 } });
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ t0: [], t1: [], t2: [], t3: [], t4: [] }), keys(5));
    expect(h.s.processing()[A]).toHaveLength(5);
    const out = h.addWorker(B);
    return { h, out };
  }

  it('asks the busy worker for the task it would run last, one per idle thread', () => {
    const { out } = sentToAlice();
    expect(stealRequests(out)).toEqual([[A, 't4']]);
    expect(computes(out)).toEqual([]);
  });

  it("places the task on the thief when the victim answers 'released'", () => {
    const { h } = sentToAlice();
    const out = h.s.handle({ type: 'steal-response', worker: A, key: 't4', state: 'released', stimulusId: 'r1' });
    expect(computes(out)).toContainEqual([B, 't4']);
    expect(h.s.task('t4')?.processingOn).toBe(B);
    expect(h.s.steals()).toEqual([{ key: 't4', victim: A, thief: B, how: 'request', stimulusId: 'r1' }]);
  });

  it("keeps the task where it is when the victim answers 'running', and asks for the next one instead", () => {
    const { h } = sentToAlice();
    const out = h.s.handle({ type: 'steal-response', worker: A, key: 't4', state: 'running', stimulusId: 'r1' });
    expect(h.s.task('t4')?.processingOn).toBe(A);
    expect(stealRequests(out)).toEqual([[A, 't3']]);
    const again = h.s.handle({ type: 'steal-response', worker: A, key: 't3', state: 'running', stimulusId: 'r2' });
    expect(stealRequests(again)).toEqual([[A, 't2']]);
  });

  it('ignores an answer for a task that finished meanwhile, and an answer nobody asked for', () => {
    const { h } = sentToAlice();
    h.finish(A, 't4');
    const out = h.s.handle({ type: 'steal-response', worker: A, key: 't4', state: 'released', stimulusId: 'r1' });
    expect(computes(out)).toEqual([]);
    expect(h.s.taskState('t4')).toBe('memory');
    h.s.handle({ type: 'steal-response', worker: B, key: 'nope', state: 'unknown', stimulusId: 'r2' });
    expect(h.s.notes().at(-1)?.message).toMatch("steal-response 'nope' (unknown) from bob:8000 answers no steal-request");
  });

  it('forgets a request whose victim left: the task is placed again, and bob may steal again', () => {
    const { h } = sentToAlice();
    h.removeWorker(A);
    expect(h.s.processing()[B]).toHaveLength(5);
    const out = h.s.handle({ type: 'steal-response', worker: A, key: 't4', state: 'released', stimulusId: 'late' });
    expect(out).toEqual([]);
  });
});
