/**
 * Peak resident set size of this process. Linux copies `ru_maxrss` into a child at fork and keeps
 * it across exec, so `process.resourceUsage().maxRSS` in a child started by a large parent reports
 * the parent's peak; VmHWM in /proc/self/status belongs to this process image alone.
 */
import { readFileSync } from 'node:fs';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}
