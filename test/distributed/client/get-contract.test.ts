/** The get contract (test/schedulers/get-contract.ts) against `client.get` on an in-process cluster. */
import { afterAll, beforeAll } from 'vitest';
import { Client, LocalCluster } from '../../../src/distributed/index.js';
import type { GetFn } from '../../../src/index.js';
import { getContract } from '../../schedulers/get-contract.js';

let cluster: LocalCluster;
let client: Client;

beforeAll(async () => {
  // validate off: its invariant checks after every event cost O(tasks) each, too slow for the 10,000-task cases.
  cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 2 });
  client = await Client.connect(cluster, { timeoutMs: 5000 });
});

afterAll(async () => {
  await client?.close();
  await cluster?.close();
});

// The contract's tests run after beforeAll, when `client` exists; this get forwards to it.
const get: GetFn = (graph, keys, options) => client.get(graph, keys, options);
getContract('distributed', get);
