/**
 * Errors of the scheduler's state machine (thrown: bugs, or bad use in validate mode), and the
 * exceptions the scheduler itself reports for tasks (sent to clients like a worker's exception).
 */
import type { Key, Opaque } from '../messages.js';
import { Serialize } from '../protocol/index.js';

/** A transition that the table does not allow. */
export class TransitionError extends Error {
  override name = 'TransitionError';
  constructor(
    readonly key: Key,
    readonly start: string,
    readonly finish: string,
    readonly stimulusId: string,
    detail = 'no such transition in the table',
  ) {
    super(`impossible transition of '${key}' from ${start} to ${finish} (stimulus ${stimulusId}): ${detail}`);
  }
}

/** Validate mode found the state inconsistent after an event. */
export class InvariantError extends Error {
  override name = 'InvariantError';
  constructor(
    readonly stimulusId: string,
    readonly problems: readonly string[],
  ) {
    super(`scheduler state invalid after ${stimulusId}:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  … ${problems.length - 20} more` : ''}`);
  }
}

/**
 * An exception the scheduler raises for a task (it never decodes the workers' ones): an Error with
 * the given name and message and no stack (the scheduler's stack says nothing to the user), marked
 * for serialisation like any value.
 */
export function schedulerException(name: string, message: string): Opaque {
  const e = new Error(message);
  e.name = name;
  e.stack = `${name}: ${message}`;
  return new Serialize(e);
}

const list = (keys: readonly Key[]) => keys.map((k) => `'${k}'`).join(', ');

export function missingDependencyException(key: Key, missing: readonly Key[]): Opaque {
  return schedulerException(
    'MissingDependencyError',
    `task '${key}' depends on ${list(missing)}, which the scheduler does not know: ` +
      'neither part of this graph nor held by the cluster (released before this graph arrived?)',
  );
}

export function cycleException(key: Key, cycle: readonly Key[]): Opaque {
  const shown = cycle.length > 10 ? [...cycle.slice(0, 10), '…'] : cycle;
  return schedulerException('CycleError', `task '${key}' is in or after a dependency cycle among ${list(shown)}`);
}

export function unknownKeyException(key: Key): Opaque {
  return schedulerException('KeyError', `key '${key}' is not known to the scheduler (never submitted, or already released)`);
}

export function lostDataException(key: Key): Opaque {
  return schedulerException(
    'LostDataError',
    `the data of '${key}' is lost: it was put on the cluster directly (scatter), so the scheduler cannot ` +
      'recompute it, and no worker that held it remains',
  );
}

export function killedWorkerException(key: Key, deaths: number, last: string): Opaque {
  return schedulerException(
    'KilledWorker',
    `task '${key}' was running on ${deaths} workers that died (the last: ${last}); it is not tried again`,
  );
}
