/**
 * Shape checks of the messages the scheduler server receives, before they reach the state machine.
 * The state machine trusts its events (a bad one could leave it half changed), so a message that
 * does not have the fields of its op is refused here: the server logs it and closes that
 * connection. Payloads (`run`, `exception`) are never looked into: they stay opaque.
 */
import { formatAddress, parseAddress } from '../comm/address.js';
import type { Address } from '../messages.js';

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isRecord = (v: unknown): v is Fields => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
};
const optional = (v: unknown, test: (v: unknown) => boolean) => v === undefined || test(v);

function recordOf(v: unknown, test: (x: unknown) => boolean): boolean {
  return isRecord(v) && Object.values(v).every(test);
}

type Test = [(v: unknown) => boolean, string];
/** Field tests, as a list: built once per op, as every message of the op is checked against them. */
type Tests = readonly (readonly [string, (v: unknown) => boolean, string])[];

function tests(t: Record<string, Test>): Tests {
  return Object.entries(t).map(([field, [test, what]]) => [field, test, what] as const);
}

/** The first field of `msg` that fails its test, as a message; undefined when all pass. */
function check(msg: Fields, tests: Tests): string | undefined {
  for (const [field, test, what] of tests) {
    if (!test(msg[field])) return `'${msg.op}' needs '${field}' to be ${what}`;
  }
  return undefined;
}

const KEY: [(v: unknown) => boolean, string] = [isString, 'a string'];
const KEYS: [(v: unknown) => boolean, string] = [isStringArray, 'an array of strings'];
const STIMULUS: [(v: unknown) => boolean, string] = [isString, 'a string'];
const OPT_STIMULUS: [(v: unknown) => boolean, string] = [(v) => optional(v, isString), 'a string when given'];
const OPT_RUN_ID: [(v: unknown) => boolean, string] = [(v) => optional(v, isNumber), 'a number when given'];
const OPAQUE: [(v: unknown) => boolean, string] = [(v) => v !== undefined && v !== null, 'present'];
const STARTSTOPS: [(v: unknown) => boolean, string] = [
  (v) => Array.isArray(v) && v.every((s) => isRecord(s) && isString(s.action) && isNumber(s.start) && isNumber(s.stop)),
  'an array of { action, start, stop }',
];
const WHO_HAS: [(v: unknown) => boolean, string] = [(v) => recordOf(v, isStringArray), 'an object of key -> array of addresses'];
const NBYTES: [(v: unknown) => boolean, string] = [(v) => recordOf(v, isNumber), 'an object of key -> number'];

function checkTaskInput(key: string, t: unknown): string | undefined {
  if (!isRecord(t)) return `task '${key}' must be an object { run, deps }`;
  if (t.run === undefined || t.run === null) return `task '${key}' has no 'run'`;
  if (!isStringArray(t.deps)) return `task '${key}' needs 'deps' to be an array of strings`;
  if (!optional(t.priority, isNumber)) return `task '${key}' needs 'priority' to be a number when given`;
  if (!optional(t.workers, isStringArray)) return `task '${key}' needs 'workers' to be an array of strings when given`;
  if (!optional(t.allowOtherWorkers, (v) => typeof v === 'boolean')) return `task '${key}' needs 'allowOtherWorkers' to be a boolean when given`;
  return undefined;
}

const UPDATE_GRAPH = tests({ tasks: [isRecord, 'an object of key -> task'], keys: KEYS, stimulusId: OPT_STIMULUS });
const KEYS_ONLY = tests({ keys: KEYS });
const UPDATE_DATA = tests({ whoHas: WHO_HAS, nbytes: NBYTES });
const RESTART = tests({ id: KEY });

/** What is wrong with a message on a client's stream (its op is known to be a ClientToScheduler op). */
export function checkClientMessage(msg: Fields): string | undefined {
  switch (msg.op) {
    case 'update-graph': {
      const p = check(msg, UPDATE_GRAPH);
      if (p !== undefined) return p;
      for (const [key, t] of Object.entries(msg.tasks as Fields)) {
        const q = checkTaskInput(key, t);
        if (q !== undefined) return `'update-graph': ${q}`;
      }
      return undefined;
    }
    case 'client-desires-keys':
    case 'client-releases-keys':
    case 'cancel-keys':
      return check(msg, KEYS_ONLY);
    case 'update-data':
      return check(msg, UPDATE_DATA);
    case 'restart':
      return check(msg, RESTART);
    case 'close-client':
      return undefined;
    default:
      return `unknown client operation '${String(msg.op)}'`;
  }
}

const TASK_FINISHED = tests({
  key: KEY,
  nbytes: [isNumber, 'a number'],
  type: [isString, 'a string'],
  startstops: STARTSTOPS,
  stimulusId: STIMULUS,
  runId: OPT_RUN_ID,
});
const TASK_ERRED = tests({
  key: KEY,
  exception: OPAQUE,
  traceback: [(v) => optional(v, isString), 'a string when given'],
  startstops: STARTSTOPS,
  stimulusId: STIMULUS,
  runId: OPT_RUN_ID,
});
const RELEASE_WORKER_DATA = tests({ key: KEY, stimulusId: STIMULUS });
const MISSING_DATA = tests({ key: KEY, errantWorker: [isString, 'a string'], stimulusId: STIMULUS });
const ADD_KEYS = tests({ keys: KEYS, nbytes: NBYTES, stimulusId: STIMULUS });
const STEAL_RESPONSE = tests({ key: KEY, state: [isString, 'a string'], stimulusId: STIMULUS });

/** What is wrong with a message on a worker's stream. */
export function checkWorkerMessage(msg: Fields): string | undefined {
  switch (msg.op) {
    case 'task-finished':
      return check(msg, TASK_FINISHED);
    case 'task-erred':
      return check(msg, TASK_ERRED);
    case 'release-worker-data':
      return check(msg, RELEASE_WORKER_DATA);
    case 'missing-data':
      return check(msg, MISSING_DATA);
    case 'add-keys':
      return check(msg, ADD_KEYS);
    case 'steal-response':
      return check(msg, STEAL_RESPONSE);
    default:
      return `unknown worker operation '${String(msg.op)}'`;
  }
}

/** What is wrong with a register-worker request. */
export function checkRegistration(msg: Fields): string | undefined {
  return check(msg, REGISTRATION);
}

const REGISTRATION = tests({
  address: [(v) => isString(v) && bareAddress(v) !== undefined, "an address 'host:port'"],
  name: [isString, 'a string'],
  nthreads: [(v) => Number.isSafeInteger(v) && (v as number) >= 1, 'a positive integer'],
  memoryLimit: [(v) => optional(v, isNumber), 'a number'],
  host: [(v) => optional(v, isString), 'a string'],
  pid: [(v) => optional(v, isNumber), 'a number'],
  keys: [(v) => optional(v, isStringArray), 'an array of strings when given'],
  nbytes: [(v) => optional(v, (x) => recordOf(x, isNumber)), 'an object of key -> number when given'],
});

/** `tcp://host:port` or `host:port` as the state machines name workers (`host:port`); undefined if not an address. */
export function bareAddress(address: string): Address | undefined {
  try {
    const { host, port } = parseAddress(address);
    return formatAddress(host, port).slice('tcp://'.length);
  } catch {
    return undefined;
  }
}

export function isStringList(v: unknown): v is string[] {
  return isStringArray(v);
}
