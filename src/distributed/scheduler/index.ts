/** The scheduler's state machine (the TCP server that wraps it lives beside it, later). */
export { SchedulerState, type SchedulerOptions, type TaskInfo } from './state.js';
export {
  clientEvent,
  workerEvent,
  type ClientEvent,
  type ClusterEvent,
  type Instruction,
  type SchedulerEvent,
  type SchedulerEventType,
  type WorkerEvent,
  type WorkerOp,
} from './events.js';
export { TASK_STATES, type TaskStateName } from './model.js';
export type { Note, TransitionRecord } from './story.js';
export { InvariantError, TransitionError } from './errors.js';
export { allowed as transitionAllowed } from './transitions.js';
