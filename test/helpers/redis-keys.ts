/** Test clean-up: remove every key under a prefix, on one server or on every cluster master. */
import type { Cluster, Redis } from 'ioredis';

export async function deleteKeysWithPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, names] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // One key per command: on a cluster the names are in different slots.
      for (const name of names) deleted += await node.unlink(name);
    } while (cursor !== '0');
  }
  return deleted;
}

/** A prefix no other test run or file uses. */
export function uniquePrefix(label: string): string {
  return `oncekey-test:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
}
