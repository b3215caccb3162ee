/**
 * Worker lists as users write them (`workers=` of the queries, replicate and rebalance): each entry
 * is an address (`host:port`, with or without `tcp://`), a host (every worker on it) or a worker's
 * `--name`, as the data-locality page allows for restrictions. Resolved to the addresses of the
 * connected workers, in registration order.
 *
 * Decision: an entry that matches no connected worker is an error naming it (and listing who is
 * connected), rather than an empty answer: a misspelt name would otherwise silently select
 * nothing (replicate) or report an empty worker (hasWhat).
 */
import type { Address, WorkerIdentity } from '../messages.js';
import { normalizeRestriction } from './decide-worker.js';

export class UnknownWorkerError extends Error {
  override name = 'UnknownWorkerError';
}

/** The addresses `entries` name among `workers` (all of them when `entries` is undefined). */
export function resolveWorkers(entries: readonly string[] | undefined, workers: Record<Address, WorkerIdentity>, where: string): Address[] {
  const all = Object.values(workers);
  if (entries === undefined) return all.map((w) => w.address);
  const chosen = new Set<Address>();
  const unknown: string[] = [];
  for (const raw of entries) {
    const entry = normalizeRestriction(raw);
    const hits = all.filter((w) => w.address === entry || w.host === entry || w.name === entry);
    if (hits.length === 0) unknown.push(raw);
    for (const w of hits) chosen.add(w.address);
  }
  if (unknown.length > 0) {
    const known = all.length === 0 ? 'none is connected' : `connected: ${all.map((w) => (w.name === w.address ? w.address : `${w.address} ('${w.name}')`)).join(', ')}`;
    throw new UnknownWorkerError(`${where}: 'workers' entr${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((u) => `'${u}'`).join(', ')} name${unknown.length === 1 ? 's' : ''} no connected worker (${known})`);
  }
  return all.map((w) => w.address).filter((a) => chosen.has(a));
}
