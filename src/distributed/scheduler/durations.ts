/**
 * Expected compute time per key prefix, from the durations workers report: an exponential moving
 * average (each new measurement counts half), as dask keeps `task_duration`. A prefix never
 * measured gets `unknown` seconds.
 */
import type { StartStop } from '../messages.js';

export class TaskDurations {
  readonly #byPrefix = new Map<string, number>();

  constructor(readonly unknown: number) {}

  get(prefix: string): number {
    return this.#byPrefix.get(prefix) ?? this.unknown;
  }

  known(prefix: string): boolean {
    return this.#byPrefix.has(prefix);
  }

  /** Records a measurement; true when it was the first of its prefix. */
  observe(prefix: string, seconds: number): boolean {
    if (!Number.isFinite(seconds) || seconds < 0) return false;
    const old = this.#byPrefix.get(prefix);
    this.#byPrefix.set(prefix, old === undefined ? seconds : 0.5 * old + 0.5 * seconds);
    return old === undefined;
  }

  entries(): Record<string, number> {
    return Object.fromEntries(this.#byPrefix);
  }
}

/** Seconds spent computing, from a task's start/stop records (transfers not counted); undefined if none. */
export function computeSeconds(startstops: readonly StartStop[] | undefined): number | undefined {
  if (!startstops) return undefined;
  let total: number | undefined;
  for (const s of startstops) if (s.action === 'compute') total = (total ?? 0) + (s.stop - s.start);
  return total;
}
