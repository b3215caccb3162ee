/**
 * The arrays' graph optimisation (`DaskArray.daskOptimize`), run after cull and before the
 * generic fusion of linear chains: blockwise fusion of elementwise expressions.
 *
 * An elementwise block whose only use is one operand of another elementwise task, or the block
 * of a built-in reduction's per-block task, need not exist: the chain of elementwise tasks
 * becomes one expression (chunk/fused.ts) computed slab by slab through cache-sized scratch.
 * Feeding a reduction (`x.add(x.T).mean({ axis: 0 })`), the expression goes straight into the
 * partial and no block of the elementwise result is ever allocated; otherwise the last block of
 * the chain is the only one made. A block that is requested, used by two tasks, or referenced
 * twice by one (`a.mul(a)`) is left as it is, so nothing is computed twice. Expressions stop
 * growing at MAX_STEPS operations; the rest of a longer chain forms expressions of its own.
 * Tiled reductions may differ from reducing the materialised block in the last bits (the sums
 * run in another order), as the streamed reductions of random arrays do.
 */
import { isTask, Literal, type Graph, type Key } from '../../graph/spec.js';
import { binary, ternary, unary } from './chunk/elemwise.js';
import { fusedChunk, fusedElemwise, type Expr } from './chunk/fused.js';
import { PIECEWISE_CHUNKS } from './chunk/reduce.js';

const ELEMWISE = new Set<Function>([unary, binary, ternary]);
const MAX_STEPS = 32;

function isElemwise(x: unknown): x is readonly [Function, string, string, ...unknown[]] {
  return isTask(x) && ELEMWISE.has(x[0]);
}

/** `[chunk, block, ctx, lo]` of a built-in reduction, whose block may come in pieces. */
function isPiecewiseChunk(x: unknown): x is readonly [Function, unknown, unknown, unknown] {
  return isTask(x) && x.length === 4 && PIECEWISE_CHUNKS.has(x[0]);
}

/** How often each key of the graph is referenced inside `x`. */
function countRefs(x: unknown, graph: Graph, out: Map<Key, number>): void {
  if (typeof x === 'string') {
    if (Object.hasOwn(graph, x)) out.set(x, (out.get(x) ?? 0) + 1);
  } else if (Array.isArray(x) && !(x instanceof Literal)) {
    for (const y of x) countRefs(y, graph, out);
  }
}

export function fuseElementwise(graph: Graph, keys: readonly Key[]): Graph {
  const requested = new Set(keys);
  // For each key: the tasks that use it, the last of them, and how often that one names it.
  const users = new Map<Key, { tasks: number; by: Key; refs: number }>();
  const refs = new Map<Key, number>();
  for (const key of Object.keys(graph)) {
    if (!isTask(graph[key])) continue;
    refs.clear();
    countRefs(graph[key], graph, refs);
    for (const [r, n] of refs) {
      const u = users.get(r);
      if (u) Object.assign(u, { tasks: u.tasks + 1, by: key, refs: n });
      else users.set(r, { tasks: 1, by: key, refs: n });
    }
  }
  const inlinable = (key: unknown): key is Key => {
    if (typeof key !== 'string' || requested.has(key) || !isElemwise(graph[key])) return false;
    const u = users.get(key);
    if (!u || u.tasks !== 1 || u.refs !== 1) return false;
    const user = graph[u.by];
    return isElemwise(user) || (isPiecewiseChunk(user) && user[1] === key);
  };

  const out: Graph = { ...graph };
  const roots: Key[] = Object.keys(graph).filter((key) => !inlinable(key));
  for (let j = 0; j < roots.length; j++) {
    const key = roots[j];
    const task = graph[key];
    let steps = 0;
    // Keys inlined in turn are deleted; a chain cut at MAX_STEPS leaves its rest as a new root.
    const expr = (k: Key): Expr => {
      const [, op, dtype, ...operands] = graph[k] as readonly [Function, string, Expr[1], ...unknown[]];
      steps++;
      const args = operands.map((a) => {
        if (!inlinable(a)) return a;
        if (steps >= MAX_STEPS) {
          roots.push(a);
          return a;
        }
        delete out[a];
        return expr(a);
      });
      return [op, dtype, ...(args as Expr[2][])];
    };
    if (isPiecewiseChunk(task) && inlinable(task[1])) {
      delete out[task[1]];
      out[key] = [fusedChunk, task[0], PIECEWISE_CHUNKS.get(task[0]), expr(task[1]), task[2], task[3]];
    } else if (isElemwise(task) && task.slice(3).some(inlinable)) {
      out[key] = [fusedElemwise, expr(key)];
    }
  }
  return out;
}
