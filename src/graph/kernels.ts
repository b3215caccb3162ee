/** Kernels of the graph layer itself: the small functions delayed and compute put into graphs. */
import { defineKernel } from './shipping/registry.js';

/** Rebuilds an object from its keys and (resolved) values: how delayed passes objects of Delayed. */
export const buildObject = defineKernel('core.buildObject', (keys: string[], values: unknown[]) => {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) o[keys[i]] = values[i];
  return o;
});

/** Rebuilds a Map from resolved entries. */
export const buildMap = defineKernel('core.buildMap', (entries: [unknown, unknown][]) => new Map(entries));

/** Rebuilds a Set from resolved items. */
export const buildSet = defineKernel('core.buildSet', (items: unknown[]) => new Set(items));

/** Returns its argument: the task of an alias or a persisted value. */
export const identity = defineKernel('core.identity', <T>(x: T): T => x);
