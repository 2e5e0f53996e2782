/**
 * A real local Redis Cluster for tests: three `redis-server` masters in cluster mode on free
 * loopback ports, in one temp dir, joined with `redis-cli --cluster create` and torn down (killed,
 * dir removed) by `destroy()`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions } from 'ioredis';
import { freePort } from './ports.js';
import { startRedisServer } from './redis-server.js';
import type { RedisServer } from './redis-server.js';

const run = promisify(execFile);

export interface RedisClusterHandle {
  readonly nodes: readonly RedisServer[];
  /** A new ioredis Cluster client on these nodes; the caller closes it. */
  client(options?: ClusterOptions): Cluster;
  destroy(): Promise<void>;
}

export async function startRedisCluster(size = 3): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-redis-cluster-'));
  const nodes: RedisServer[] = [];
  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      // The cluster bus listens on port + 10000.
      const port = await freePort(10_000);
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      nodes.push(
        await startRedisServer({
          port,
          dir: nodeDir,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(nodeDir, 'nodes.conf'), '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitForClusterOk(nodes);
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    nodes,
    client: (options) =>
      new Cluster(
        nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        options,
      ),
    destroy,
  };
}

async function waitForClusterOk(nodes: readonly RedisServer[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(nodes.map((n) => clusterInfo(n.port)));
    if (
      states.every(
        (s) => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s) && s.includes(`cluster_known_nodes:${nodes.length}`),
      )
    ) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok: ${states.join(' | ')}`);
    await sleep(100);
  }
}

async function clusterInfo(port: number): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    return String(await client.call('CLUSTER', 'INFO'));
  } catch (error) {
    return String(error);
  } finally {
    client.disconnect();
  }
}
