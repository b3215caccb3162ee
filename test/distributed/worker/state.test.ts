import { describe, expect, it } from 'vitest';
import { Serialize } from '../../../src/distributed/protocol/index.js';
import { InvalidTransitionError, InvalidWorkerStateError, isAllowed } from '../../../src/distributed/worker/transitions.js';
import { WorkerState } from '../../../src/distributed/worker/state.js';
import {
  A,
  addKeys,
  arrived,
  B,
  C,
  compute,
  done,
  execute,
  failed,
  finished,
  free,
  gather,
  LOCAL,
  missingData,
  send,
  steal,
  stealResponse,
  unreachable,
  W,
  worker,
} from './helpers.js';

const compute12 = { action: 'compute', start: 1, stop: 2 };
const transferFrom = (source: string) => ({ action: 'transfer', start: 3, stop: 4, source });

describe('computing', () => {
  it('runs a task whose dependencies are here at once', () => {
    const w = worker();
    expect(w.handle(compute('x'))).toEqual([execute('x')]);
    expect(w.handle(done('x'))).toEqual([finished('x')]);
    expect(w.handle(compute('y', { x: [W] }))).toEqual([execute('y', ['x'])]);
    expect(w.handle(done('y'))).toEqual([finished('y')]);
    expect(w.data).toEqual(
      new Map([
        ['x', 'v:x'],
        ['y', 'v:y'],
      ]),
    );
  });

  it('fetches two dependencies from two peers at once and runs when both are here', () => {
    const w = worker();
    expect(w.handle(compute('z', { x: [A], y: [B] }, { nbytes: { x: 100, y: 200 } }))).toEqual([
      gather(A, ['x'], 100),
      gather(B, ['y'], 200),
    ]);
    expect(w.taskState('z')?.state).toBe('waiting');
    expect(w.taskState('x')).toMatchObject({ state: 'flight', comingFrom: A });
    expect(w.handle(arrived(A, { x: 1 }, { nbytes: { x: 100 } }))).toEqual([addKeys({ x: 100 })]);
    expect(w.handle(arrived(B, { y: 2 }, { nbytes: { y: 200 } }))).toEqual([addKeys({ y: 200 }), execute('z', ['x', 'y'])]);
    expect(w.handle(done('z'))).toEqual([finished('z', [transferFrom(A), transferFrom(B), compute12])]);
  });

  it('fetches a key that several tasks need once, and its arrival wakes them all', () => {
    const w = worker({ nthreads: 2 });
    expect(w.handle(compute('a', { x: [A] }))).toEqual([gather(A, ['x'])]);
    expect(w.handle(compute('b', { x: [A] }))).toEqual([]);
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([addKeys({ x: 8 }), execute('a', ['x']), execute('b', ['x'])]);
  });

  it('runs at most nthreads tasks, smallest priority first', () => {
    const w = worker({ nthreads: 1 });
    expect(w.handle(compute('a', {}, { priority: 3 }))).toEqual([execute('a')]);
    expect(w.handle(compute('b', {}, { priority: 2 }))).toEqual([]);
    expect(w.handle(compute('c', {}, { priority: 1 }))).toEqual([]);
    expect(w.readyCount).toBe(2);
    expect(w.handle(done('a'))).toEqual([finished('a'), execute('c')]);
    expect(w.handle(done('c'))).toEqual([finished('c'), execute('b')]);
    expect(w.handle(done('b'))).toEqual([finished('b')]);
  });

  it('breaks priority ties by arrival', () => {
    const w = worker({ nthreads: 2 });
    w.handle(compute('blocker1'));
    w.handle(compute('blocker2'));
    w.handle(compute('p'));
    w.handle(compute('q'));
    expect(w.handle(done('blocker1'))).toEqual([finished('blocker1'), execute('p')]);
    expect(w.handle(done('blocker2'))).toEqual([finished('blocker2'), execute('q')]);
  });

  it('reports a failure with the opaque exception', () => {
    const w = worker();
    w.handle(compute('x'));
    expect(w.handle(failed('x'))).toEqual([
      send({
        op: 'task-erred',
        key: 'x',
        exception: new Serialize('boom:x'),
        traceback: 'tb',
        startstops: [compute12],
      }),
    ]);
    expect(w.taskState('x')?.state).toBe('error');
    expect(w.data.has('x')).toBe(false);
  });

  it('answers a repeated compute-task from memory or error without running again', () => {
    const w = worker();
    w.handle(compute('x'));
    w.handle(done('x'));
    expect(w.handle(compute('x'))).toEqual([finished('x')]);
    w.handle(compute('y'));
    const erred = send({ op: 'task-erred', key: 'y', exception: new Serialize('boom:y'), traceback: 'tb', startstops: [compute12] });
    expect(w.handle(failed('y'))).toEqual([erred]);
    expect(w.handle(compute('y'))).toEqual([erred]);
  });

  it('waits for a dependency that is being computed here', () => {
    const w = worker({ nthreads: 2 });
    expect(w.handle(compute('x'))).toEqual([execute('x')]);
    expect(w.handle(compute('z', { x: [] }))).toEqual([]);
    expect(w.taskState('z')).toMatchObject({ state: 'waiting', waitingFor: ['x'] });
    expect(w.handle(done('x'))).toEqual([finished('x'), execute('z', ['x'])]);
  });

  it('fetches a dependency that erred here from the peer the scheduler names', () => {
    const w = worker();
    w.handle(compute('x'));
    w.handle(failed('x'));
    expect(w.handle(compute('z', { x: [A] }))).toEqual([gather(A, ['x'])]);
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([addKeys({ x: 8 }), execute('z', ['x'])]);
  });
});

describe('compute-task for a key being fetched', () => {
  it('lets the fetch finish and reports its value as the result', () => {
    const w = worker();
    expect(w.handle(compute('z', { x: [A] }))).toEqual([gather(A, ['x'])]);
    expect(w.handle(compute('x'))).toEqual([]);
    expect(w.taskState('x')).toMatchObject({ state: 'flight', compute: true });
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([
      send({ op: 'task-finished', key: 'x', nbytes: 8, type: 'unknown', startstops: [transferFrom(A)] }),
      execute('z', ['x']),
    ]);
  });

  it('computes it here when the fetch fails', () => {
    const w = worker({ nthreads: 2 });
    w.handle(compute('z', { x: [A] }));
    w.handle(compute('x'));
    expect(w.handle(arrived(A, {}))).toEqual([missingData('x', A), execute('x')]);
    expect(w.handle(done('x'))).toEqual([finished('x'), execute('z', ['x'])]);
  });

  it('computes a missing key here', () => {
    const w = worker({ nthreads: 2 });
    w.handle(compute('z', { x: [A] }));
    w.handle(arrived(A, {}));
    expect(w.handle(compute('x'))).toEqual([execute('x')]);
  });

  it('computes a queued key here instead of fetching it', () => {
    const w = worker({ nthreads: 2, transferLimits: { maxConcurrentIncoming: 1 } });
    expect(w.handle(compute('z', { x: [A], y: [B] }))).toEqual([gather(A, ['x'])]);
    expect(w.handle(compute('y'))).toEqual([execute('y')]);
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([addKeys({ x: 8 })]);
    expect(w.handle(done('y'))).toEqual([finished('y'), execute('z', ['x', 'y'])]);
  });
});

describe('fetching', () => {
  it('groups the keys one peer holds into one request, up to maxBytesPerFetch', () => {
    const w = worker({ transferLimits: { maxBytesPerFetch: 250 } });
    expect(w.handle(compute('z', { x: [A], y: [A], u: [A] }, { nbytes: { x: 100, y: 100, u: 100 } }))).toEqual([
      gather(A, ['x', 'y'], 200),
    ]);
    // One request per peer at a time: u waits for the first reply.
    expect(w.handle(arrived(A, { x: 1, y: 2 }))).toEqual([addKeys({ x: 8, y: 8 }), gather(A, ['u'], 100)]);
    expect(w.handle(arrived(A, { u: 3 }))).toEqual([addKeys({ u: 8 }), execute('z', ['x', 'y', 'u'])]);
  });

  it('sends a key larger than the limit alone', () => {
    const w = worker({ transferLimits: { maxBytesPerFetch: 10 } });
    expect(w.handle(compute('z', { x: [A] }, { nbytes: { x: 1000 } }))).toEqual([gather(A, ['x'], 1000)]);
  });

  it('keeps at most maxConcurrentIncoming requests out', () => {
    const w = worker({ transferLimits: { maxConcurrentIncoming: 1 } });
    expect(w.handle(compute('z', { x: [A], y: [B] }))).toEqual([gather(A, ['x'])]);
    expect(w.inFlight()).toEqual([{ peer: A, keys: ['x'], totalNbytes: 1024 }]);
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([addKeys({ x: 8 }), gather(B, ['y'])]);
  });

  it('fetches the most urgent keys first', () => {
    const w = worker({ transferLimits: { maxConcurrentIncoming: 1 } });
    expect(w.handle(compute('blocker', { k: [C] }))).toEqual([gather(C, ['k'])]);
    w.handle(compute('late', { x: [A] }, { priority: 5 }));
    w.handle(compute('soon', { y: [B] }, { priority: 1 }));
    expect(w.handle(arrived(C, { k: 0 }))).toEqual([addKeys({ k: 8 }), execute('blocker', ['k']), gather(B, ['y'])]);
  });

  it('picks among holders with the fewest requests out', () => {
    const w = worker({ transferLimits: { maxIncomingPerPeer: 2 } });
    expect(w.handle(compute('z', { x: [A] }))).toEqual([gather(A, ['x'])]);
    expect(w.handle(compute('z2', { y: [A, B] }))).toEqual([gather(B, ['y'])]);
    // With both peers at one request, A may take a second.
    expect(w.handle(compute('z3', { u: [A] }))).toEqual([gather(A, ['u'])]);
    expect(w.handle(arrived(A, { u: 1 }, { keys: ['u'] }))).toEqual([addKeys({ u: 8 }), execute('z3', ['u'])]);
  });

  it('prefers a holder on this host, then picks at random from a seeded generator', () => {
    expect(worker().handle(compute('z', { x: [A, LOCAL, B] }))).toEqual([gather(LOCAL, ['x'])]);
    const pick = (seed: number) =>
      (worker({ seed }).handle(compute('z', { x: [A, B, C] }))[0] as { worker: string }).worker;
    const picks = Array.from({ length: 60 }, (_, seed) => pick(seed));
    expect(new Set(picks)).toEqual(new Set([A, B, C]));
    expect(Array.from({ length: 60 }, (_, seed) => pick(seed))).toEqual(picks);
  });

  it('tries the next holder when a peer lacks a key, then reports it missing', () => {
    const w = worker();
    expect(w.handle(compute('z', { x: [LOCAL, A] }))).toEqual([gather(LOCAL, ['x'])]);
    expect(w.handle(arrived(LOCAL, {}))).toEqual([missingData('x', LOCAL), gather(A, ['x'])]);
    expect(w.handle(arrived(A, {}))).toEqual([missingData('x', A)]);
    expect(w.taskState('x')).toMatchObject({ state: 'missing', whoHas: [] });
    expect(w.missingKeys()).toEqual(['x']);
    // New holders (the server asked the scheduler's who-has) put it back in fetch.
    expect(w.handle({ type: 'refresh-who-has', whoHas: { x: [B] }, stimulusId: 'find-missing' })).toEqual([
      gather(B, ['x']),
    ]);
    expect(w.handle(arrived(B, { x: 1 }))).toEqual([addKeys({ x: 8 }), execute('z', ['x'])]);
  });

  it('leaves missing when a later compute-task names holders', () => {
    const w = worker();
    w.handle(compute('z', { x: [A] }));
    w.handle(arrived(A, {}));
    expect(w.taskState('x')?.state).toBe('missing');
    expect(w.handle(compute('z2', { x: [B] }))).toEqual([gather(B, ['x'])]);
  });

  it('skips an unreachable peer for every key, and reports keys it was the last holder of', () => {
    const w = worker();
    expect(w.handle(compute('z', { x: [LOCAL, B], y: [LOCAL] }))).toEqual([gather(LOCAL, ['x', 'y'])]);
    expect(w.handle(unreachable(LOCAL, ['x', 'y']))).toEqual([missingData('y', LOCAL), gather(B, ['x'])]);
    expect(w.taskState('y')?.state).toBe('missing');
  });

  it('drops an unreachable peer from keys still queued for it', () => {
    const w = worker({ transferLimits: { maxBytesPerFetch: 1 } });
    expect(w.handle(compute('z', { x: [A], y: [A, B] }))).toEqual([gather(A, ['x']), gather(B, ['y'])]);
    w.handle(compute('z2', { u: [A] }));
    expect(w.handle(unreachable(A, ['x']))).toEqual([missingData('x', A), missingData('u', A)]);
    expect(w.taskState('y')?.whoHas).toEqual([B]);
  });

  it('reports a dependency the scheduler thinks is here but is not', () => {
    const w = worker();
    expect(w.handle(compute('z', { x: [W] }))).toEqual([missingData('x', W)]);
    expect(w.taskState('x')?.state).toBe('missing');
  });
});

describe('free-keys', () => {
  it('lets an executing task finish and drops its result (cancelled)', () => {
    const w = worker();
    expect(w.handle(compute('x'))).toEqual([execute('x')]);
    expect(w.handle(free(['x'], 'free-x'))).toEqual([]);
    expect(w.taskState('x')).toMatchObject({ state: 'cancelled', previous: 'executing' });
    expect(w.executingCount).toBe(1);
    expect(w.handle(done('x'))).toEqual([]);
    expect(w.taskState('x')).toBeUndefined();
    expect(w.data.size).toBe(0);
    expect(w.executingCount).toBe(0);
    expect(w.story('x').map((r) => [r.start, r.finish])).toEqual([
      ['released', 'ready'],
      ['ready', 'executing'],
      ['executing', 'cancelled'],
      ['cancelled', 'released'],
    ]);
    expect(w.story('x')[2].stimulusId).toBe('free-x');
  });

  it('drops a failure of a cancelled task as well', () => {
    const w = worker();
    w.handle(compute('x'));
    w.handle(free(['x']));
    expect(w.handle(failed('x'))).toEqual([]);
    expect(w.keys()).toEqual([]);
  });

  it('answers with the run id of the latest compute-task, also after resuming', () => {
    const w = worker();
    w.handle(compute('x', {}, { runId: 1 }));
    w.handle(free(['x']));
    w.handle(compute('x', {}, { runId: 2 }));
    expect(w.handle(done('x'))).toEqual([send({ op: 'task-finished', key: 'x', nbytes: 8, type: 'string', startstops: [compute12], runId: 2 })]);
    w.handle(compute('y', {}, { runId: 7 }));
    expect(w.handle(failed('y'))).toEqual([
      send({ op: 'task-erred', key: 'y', exception: new Serialize('boom:y'), traceback: 'tb', startstops: [compute12], runId: 7 }),
    ]);
  });

  it('resumes a cancelled task asked for again instead of running it twice', () => {
    const w = worker();
    w.handle(compute('x'));
    w.handle(free(['x']));
    expect(w.handle(compute('x'))).toEqual([]);
    expect(w.taskState('x')?.state).toBe('executing');
    expect(w.handle(done('x'))).toEqual([finished('x')]);
  });

  it('cancels the fetches only a freed task needed, and drops what arrives', () => {
    const w = worker();
    expect(w.handle(compute('z', { x: [A], y: [B] }))).toEqual([gather(A, ['x']), gather(B, ['y'])]);
    w.handle(compute('z2', { y: [B] }));
    expect(w.handle(free(['z']))).toEqual([]);
    expect(w.taskState('x')).toMatchObject({ state: 'cancelled', previous: 'flight' });
    expect(w.taskState('y')?.state).toBe('flight'); // z2 still needs it
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([]);
    expect(w.taskState('x')).toBeUndefined();
    expect(w.data.has('x')).toBe(false);
    expect(w.handle(arrived(B, { y: 2 }))).toEqual([addKeys({ y: 8 }), execute('z2', ['y'])]);
  });

  it('uses a cancelled fetch that is needed again', () => {
    const w = worker();
    w.handle(compute('z', { x: [A] }));
    w.handle(free(['z']));
    expect(w.handle(compute('z2', { x: [A] }))).toEqual([]);
    expect(w.taskState('x')?.state).toBe('flight');
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([addKeys({ x: 8 }), execute('z2', ['x'])]);
  });

  it('keeps a dependency that a local task still needs, and drops it after', () => {
    const w = worker({ nthreads: 1 });
    w.handle(compute('x'));
    w.handle(done('x'));
    expect(w.handle(compute('b'))).toEqual([execute('b')]);
    expect(w.handle(compute('z', { x: [W] }))).toEqual([]);
    expect(w.handle(free(['x']))).toEqual([]);
    expect(w.taskState('x')).toMatchObject({ state: 'memory', wanted: false, dependents: ['z'] });
    expect(w.data.get('x')).toBe('v:x');
    expect(w.handle(done('b'))).toEqual([finished('b'), execute('z', ['x'])]);
    expect(w.data.has('x')).toBe(true); // an input of a running task
    expect(w.handle(done('z'))).toEqual([finished('z')]);
    expect(w.taskState('x')).toBeUndefined();
    expect([...w.data.keys()]).toEqual(['b', 'z']);
  });

  it('releases queued work and data at once', () => {
    const w = worker({ nthreads: 1 });
    w.handle(compute('a'));
    w.handle(compute('b'));
    w.handle(compute('m'));
    expect(w.handle(free(['b', 'unknown']))).toEqual([]);
    expect(w.handle(done('a'))).toEqual([finished('a'), execute('m')]);
    w.handle(done('m'));
    expect(w.handle(free(['a', 'm']))).toEqual([]);
    expect(w.keys()).toEqual([]);
    expect(w.data.size).toBe(0);
  });
});

describe('steal-request', () => {
  it('answers unknown for a key it does not have', () => {
    expect(worker().handle(steal('nope'))).toEqual([stealResponse('nope', 'unknown')]);
  });

  it('gives up a ready task', () => {
    const w = worker({ nthreads: 1 });
    w.handle(compute('a'));
    w.handle(compute('b'));
    expect(w.handle(steal('b'))).toEqual([stealResponse('b', 'released')]);
    expect(w.taskState('b')).toBeUndefined();
    expect(w.handle(done('a'))).toEqual([finished('a')]);
  });

  it('gives up a waiting task and the fetches only it needed', () => {
    const w = worker();
    w.handle(compute('z', { x: [A] }));
    expect(w.handle(steal('z'))).toEqual([stealResponse('z', 'released')]);
    expect(w.taskState('z')).toBeUndefined();
    expect(w.taskState('x')?.state).toBe('cancelled');
  });

  it('gives up a queued fetch', () => {
    const w = worker({ transferLimits: { maxConcurrentIncoming: 1 } });
    w.handle(compute('z', { x: [A] }));
    expect(w.handle({ type: 'acquire-replicas', whoHas: { y: [B] }, nbytes: {}, stimulusId: 'rep' })).toEqual([]);
    expect(w.taskState('y')?.state).toBe('fetch');
    expect(w.handle(steal('y'))).toEqual([stealResponse('y', 'released')]);
    expect(w.taskState('y')).toBeUndefined();
    expect(w.handle(arrived(A, { x: 1 }))).toEqual([addKeys({ x: 8 }), execute('z', ['x'])]);
  });

  it('refuses for running, finished and erred tasks', () => {
    const w = worker({ nthreads: 2 });
    w.handle(compute('a'));
    w.handle(compute('e'));
    expect(w.handle(steal('a'))).toEqual([stealResponse('a', 'running')]);
    w.handle(done('a'));
    expect(w.handle(steal('a'))).toEqual([stealResponse('a', 'memory')]);
    w.handle(failed('e'));
    expect(w.handle(steal('e'))).toEqual([stealResponse('e', 'running')]);
    expect(w.taskState('a')?.state).toBe('memory');
  });

  it('keeps a task that a local task needs as input', () => {
    const w = worker({ nthreads: 1 });
    w.handle(compute('blocker'));
    w.handle(compute('x'));
    w.handle(compute('z', { x: [] }));
    expect(w.handle(steal('x'))).toEqual([stealResponse('x', 'running')]);
    expect(w.taskState('x')?.state).toBe('ready');
  });
});

describe('replicas and scatter', () => {
  it('stores scattered values and reports them', () => {
    const w = worker();
    expect(w.handle({ type: 'update-data', data: { x: 1 }, nbytes: { x: 10 }, stimulusId: 's' })).toEqual([
      addKeys({ x: 10 }),
    ]);
    expect(w.handle(compute('z', { x: [W] }))).toEqual([execute('z', ['x'])]);
  });

  it('fetches replicas, after the dependencies of tasks', () => {
    const w = worker({ transferLimits: { maxConcurrentIncoming: 1 } });
    expect(w.handle({ type: 'acquire-replicas', whoHas: { r: [A] }, nbytes: { r: 50 }, stimulusId: 'rep' })).toEqual([
      gather(A, ['r'], 50),
    ]);
    w.handle({ type: 'acquire-replicas', whoHas: { r2: [B] }, nbytes: {}, stimulusId: 'rep2' });
    w.handle(compute('z', { x: [C] }));
    expect(w.handle(arrived(A, { r: 1 }, { nbytes: { r: 50 } }))).toEqual([addKeys({ r: 50 }), gather(C, ['x'])]);
    expect(w.taskState('r')).toMatchObject({ state: 'memory', wanted: true });
    expect(w.handle(free(['r']))).toEqual([]);
    expect(w.data.has('r')).toBe(false);
  });

  it('lets a scatter overtake a running task and ignores the late result', () => {
    const w = worker();
    w.handle(compute('x'));
    expect(w.handle({ type: 'update-data', data: { x: 'scattered' }, nbytes: { x: 3 }, stimulusId: 's' })).toEqual([
      addKeys({ x: 3 }),
    ]);
    expect(w.executingCount).toBe(1);
    expect(w.handle(done('x'))).toEqual([]);
    expect(w.data.get('x')).toBe('scattered');
    expect(w.executingCount).toBe(0);
  });
});

describe('pause', () => {
  it('starts nothing while paused', () => {
    const w = worker();
    w.handle({ type: 'pause' });
    expect(w.handle(compute('x'))).toEqual([]);
    expect(w.handle(compute('z', { y: [A] }))).toEqual([]);
    expect(w.handle({ type: 'unpause' })).toEqual([execute('x'), gather(A, ['y'])]);
  });
});

describe('validation and debugging', () => {
  it('rejects bad options with TypeErrors', () => {
    expect(() => new WorkerState({ address: W, nthreads: 0 })).toThrow(/nthreads must be a positive integer/);
    expect(() => new WorkerState({ address: '', nthreads: 1 })).toThrow(TypeError);
    expect(() => new WorkerState({ address: W, nthreads: 1, transferLimits: { maxIncomingPerPeer: 1.5 } })).toThrow(
      /maxIncomingPerPeer/,
    );
  });

  it('flags replies for work that is not out, in validate mode', () => {
    expect(() => worker().handle(done('nope'))).toThrow(InvalidWorkerStateError);
    expect(worker({ validate: false }).handle(done('nope'))).toEqual([]);
    expect(() => worker().handle(arrived(A, { x: 1 }))).toThrow(/no such work is out/);
  });

  it('has a closed transition table whose errors name key, states and stimulus', () => {
    expect(isAllowed('memory', 'executing')).toBe(false);
    expect(isAllowed('ready', 'executing')).toBe(true);
    const e = new InvalidTransitionError('x', 'memory', 'executing', 'stim-1');
    expect(e.message).toBe("worker task 'x': invalid transition memory -> executing (stimulus stim-1)");
  });

  it('keeps a bounded story per key', () => {
    const w = worker({ logLength: 3 });
    w.handle(compute('x', {}, { stimulusId: 'c1' }));
    w.handle(done('x', 1, 'd1'));
    expect(w.story('x')).toEqual([
      { key: 'x', start: 'released', finish: 'ready', stimulusId: 'c1', seq: 0 },
      { key: 'x', start: 'ready', finish: 'executing', stimulusId: 'c1', seq: 1 },
      { key: 'x', start: 'executing', finish: 'memory', stimulusId: 'd1', seq: 2 },
    ]);
    w.handle(free(['x'], 'f1'));
    expect(w.story().map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('rejects an unknown event and keeps working', () => {
    const w = worker();
    expect(() => w.handle({ type: 'bogus' } as never)).toThrow(/unknown event type/);
    expect(w.handle(compute('x'))).toEqual([execute('x')]);
  });
});
