/** The adapters the server uses to turn stream messages into events. */
import { describe, expect, it } from 'vitest';
import { clientEvent, workerEvent } from '../../../src/distributed/scheduler/index.js';
import { graph, runOf } from './helpers.js';

describe('clientEvent', () => {
  it('keeps a stimulus id the message carries, and uses the given one otherwise', () => {
    const tasks = graph({ x: [] });
    expect(clientEvent('c', { op: 'update-graph', tasks, keys: ['x'], stimulusId: 'mine' }, 'srv-1')).toEqual({
      type: 'update-graph', client: 'c', tasks, keys: ['x'], stimulusId: 'mine',
    });
    expect(clientEvent('c', { op: 'update-graph', tasks, keys: ['x'] }, 'srv-1').stimulusId).toBe('srv-1');
    expect(clientEvent('c', { op: 'cancel-keys', keys: ['x'] }, 'srv-2')).toEqual({ type: 'cancel-keys', client: 'c', keys: ['x'], stimulusId: 'srv-2' });
    expect(clientEvent('c', { op: 'close-client' }, 'srv-3')).toEqual({ type: 'remove-client', client: 'c', stimulusId: 'srv-3' });
  });
});

describe('workerEvent', () => {
  it("adds the sender and carries task-finished's type as typename", () => {
    const msg = { op: 'task-finished', key: 'x', nbytes: 8, type: 'number', startstops: [], stimulusId: 's', runId: 3 } as const;
    expect(workerEvent('w:1', { ...msg, startstops: [] })).toEqual({
      type: 'task-finished', worker: 'w:1', key: 'x', nbytes: 8, typename: 'number', startstops: [], stimulusId: 's', runId: 3,
    });
    expect(workerEvent('w:1', { op: 'task-erred', key: 'x', exception: runOf('e'), startstops: [], stimulusId: 's' })).toMatchObject({
      type: 'task-erred', worker: 'w:1', key: 'x',
    });
  });

  it('passes steal-response on to work stealing', () => {
    expect(workerEvent('w:1', { op: 'steal-response', key: 'x', state: 'running', stimulusId: 's' })).toEqual({
      type: 'steal-response', worker: 'w:1', key: 'x', state: 'running', stimulusId: 's',
    });
  });
});
