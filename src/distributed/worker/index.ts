/**
 * The worker: its synchronous state machine (this folder) and, wrapped around it, the server that
 * feeds it events and performs its instructions.
 */
export { WorkerState, type WorkerStateOptions } from './state.js';
export type { WorkerEvent, WorkerEventType, WorkerInstruction } from './events.js';
export { TASK_STATES, type TaskStateName, type TaskSnapshot } from './task.js';
export { InvalidTransitionError, InvalidWorkerStateError, type TransitionRecord } from './transitions.js';
export { DEFAULT_TRANSFER_LIMITS, type TransferLimits, type GatherRequest } from './transfers.js';
