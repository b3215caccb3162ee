/**
 * Measured run times per function (by its shipping id), across computations in this process, as
 * distributed measures durations per key prefix. The threads scheduler sizes batches from them
 * and runs functions that are cheaper than a thread round trip on the main thread.
 */
const ALPHA = 0.3;
const means = new Map<string, number>();

export function recordDuration(id: string, ms: number): void {
  const m = means.get(id);
  means.set(id, m === undefined ? ms : m + ALPHA * (ms - m));
}

/** The running mean in milliseconds, or undefined before the first measurement. */
export function expectedDuration(id: string): number | undefined {
  return means.get(id);
}

/** Forgets every measurement (tests). */
export function resetDurations(): void {
  means.clear();
}
