/** Topological sort with cycle detection; the error names the keys that form the cycle. */
import { CycleError } from './errors.js';
import { normalize, type NormalGraph } from './normalize.js';
import type { Graph, Key } from './spec.js';

const WHITE = 0;
const GREY = 1;
const BLACK = 2;

/**
 * Node indices with every dependency before its dependents. Iterative depth-first search, so a
 * chain of a million tasks does not overflow the stack; a grey node met again closes a cycle.
 */
export function toposortIndices(g: NormalGraph, roots?: readonly number[]): number[] {
  const n = g.keys.length;
  const color = new Uint8Array(n);
  const next = new Int32Array(n); // position in the dependency list being explored
  const out: number[] = [];
  const stack: number[] = [];
  const starts = roots ?? Array.from({ length: n }, (_, i) => i);
  for (const root of starts) {
    if (color[root] !== WHITE) continue;
    stack.push(root);
    color[root] = GREY;
    while (stack.length > 0) {
      const v = stack[stack.length - 1];
      const deps = g.dependencies[v];
      if (next[v] < deps.length) {
        const d = deps[next[v]++];
        if (color[d] === WHITE) {
          color[d] = GREY;
          stack.push(d);
        } else if (color[d] === GREY) {
          throw new CycleError(cycleKeys(g, stack, d));
        }
      } else {
        stack.pop();
        color[v] = BLACK;
        out.push(v);
      }
    }
  }
  return out;
}

function cycleKeys(g: NormalGraph, stack: readonly number[], start: number): Key[] {
  const from = stack.lastIndexOf(start);
  // The stack runs from dependents down to dependencies; print it in that direction.
  return [...stack.slice(from), start].map((i) => g.keys[i]);
}

/** The keys of a graph in an order where every key comes after the keys it depends on. */
export function toposort(graph: Graph): Key[] {
  const g = normalize(graph);
  return toposortIndices(g).map((i) => g.keys[i]);
}

/** Throws a CycleError if the graph has a cycle. */
export function assertAcyclic(g: NormalGraph, roots?: readonly number[]): void {
  toposortIndices(g, roots);
}
