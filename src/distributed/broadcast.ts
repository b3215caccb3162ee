/**
 * Broadcast trees (`broadcast-data`, messages.ts): how scatter with `broadcast` puts the same
 * values on many workers without the client sending one copy per worker.
 *
 * The tree has the client at its root and every node passes the data to at most `b` others
 * (`broadcastForest`: the client's children, each with its subtree), so the client sends `b`
 * copies and the data is about log_b(n) hops from every worker. `forwardTo` is what every node does,
 * client and workers alike: send to each child at once with the child's own subtree, and when a
 * child cannot be reached (gone, or failing), send to its children instead, so that one lost
 * worker does not cut off the workers below it.
 *
 * A tree comes from a client, so a worker checks it (`checkForwardTree`) before keeping or sending
 * anything: a list of `{ address, forward }` nodes, every address a 'host:port', no address twice
 * and never the worker's own (either would send the data round in circles), at most MAX_NODES
 * nodes and MAX_DEPTH levels. Sending data on to another worker is nothing a client could not
 * already do with a task, so forwarding adds no power; the checks keep a bad tree from looping.
 */
import { formatAddress, parseAddress } from './comm/address.js';
import type { Address, ForwardNode, WorkerRpc } from './messages.js';

/** More workers than any cluster we know of; bounds the work a malformed tree can ask for. */
export const MAX_NODES = 100_000;
export const MAX_DEPTH = 64;
/** For one child to take the data and answer for its whole subtree. */
export const FORWARD_TIMEOUT_MS = 120_000;

type Reply = WorkerRpc['broadcast-data']['res'];

/**
 * The subtrees below a root that is not in `addresses` (the client), level by level: each level
 * holds up to `b` times as many workers as the one above, and its workers are dealt to the
 * nodes above in turn, so a last level that is not full is spread over all of them (4 workers:
 * the client sends to a and b, a to c, b to d).
 */
export function broadcastForest(addresses: readonly Address[], b: number): ForwardNode[] {
  type Mutable = { address: Address; forward: Mutable[] };
  const root: Mutable = { address: '', forward: [] };
  let level: Mutable[] = [root];
  for (let at = 0; at < addresses.length; ) {
    const next: Mutable[] = [];
    for (let i = 0; i < level.length * b && at < addresses.length; i++, at++) {
      const node: Mutable = { address: addresses[at], forward: [] };
      level[i % level.length].forward.push(node);
      next.push(node);
    }
    level = next;
  }
  return root.forward;
}

/**
 * Sends to every node at once (`send(address, subtree)`) and merges the replies: who now holds
 * the data, which nodes failed (their children are then sent to from here), and the sizes.
 */
export async function forwardTo(
  nodes: readonly ForwardNode[],
  send: (address: Address, forward: readonly ForwardNode[]) => Promise<Reply>,
): Promise<Reply> {
  const holders: Address[] = [];
  const failed: Record<Address, string> = {};
  const nbytes: Reply['nbytes'] = {};
  const one = async (node: ForwardNode): Promise<void> => {
    try {
      const reply = await send(node.address, node.forward);
      if (!Array.isArray(reply?.holders)) throw new Error('malformed broadcast-data reply');
      holders.push(...reply.holders);
      Object.assign(failed, reply.failed);
      Object.assign(nbytes, reply.nbytes);
    } catch (e) {
      failed[node.address] = e instanceof Error ? e.message : String(e);
      await Promise.all(node.forward.map(one));
    }
  };
  await Promise.all(nodes.map(one));
  return { holders, failed, nbytes };
}

/** The tree below worker `self`, addresses as 'host:port'; a TypeError naming what is wrong otherwise. */
export function checkForwardTree(forward: unknown, self: Address): ForwardNode[] {
  const seen = new Set<Address>([self]);
  const walk = (nodes: unknown, depth: number, where: string): ForwardNode[] => {
    if (!Array.isArray(nodes)) throw new TypeError(`broadcast-data: ${where} must be an array of { address, forward } nodes`);
    if (depth > MAX_DEPTH) throw new TypeError(`broadcast-data: the tree is deeper than ${MAX_DEPTH} levels`);
    return nodes.map((n: unknown, i): ForwardNode => {
      const at = `${where}[${i}]`;
      if (typeof n !== 'object' || n === null) throw new TypeError(`broadcast-data: ${at} is not a { address, forward } node`);
      const { address, forward: below } = n as { address?: unknown; forward?: unknown };
      const bare = typeof address === 'string' ? hostPort(address) : undefined;
      if (bare === undefined) throw new TypeError(`broadcast-data: ${at}.address must be a worker address 'host:port', got ${JSON.stringify(address)}`);
      if (seen.has(bare)) throw new TypeError(`broadcast-data: ${at}.address ${bare} appears twice in the tree (or is this worker)`);
      seen.add(bare);
      if (seen.size > MAX_NODES) throw new TypeError(`broadcast-data: the tree has more than ${MAX_NODES} workers`);
      return { address: bare, forward: walk(below ?? [], depth + 1, `${at}.forward`) };
    });
  };
  return walk(forward, 1, 'forward');
}

/** 'host:port' as workers name themselves, or undefined for something that is not an address. */
function hostPort(address: string): Address | undefined {
  try {
    const { host, port } = parseAddress(address);
    return formatAddress(host, port).slice('tcp://'.length);
  } catch {
    return undefined;
  }
}
