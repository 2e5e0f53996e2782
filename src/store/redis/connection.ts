/**
 * The ioredis client the store creates from a URL, configured to fail fast while Redis is down
 * (the store's own deadlines are in guard.ts).
 */
import { Redis } from 'ioredis';
import type { Cluster, RedisOptions } from 'ioredis';
import { redact } from '../../core/url.js';

/**
 * ioredis options that make a client fail fast instead of waiting for Redis to come back:
 * - `commandTimeout`: a command with no reply in time is rejected;
 * - `maxRetriesPerRequest: 0`: when the connection drops, commands waiting on it are rejected at
 *   once rather than kept for the next connection;
 * - `autoResendUnfulfilledCommands: false`: a command that was sent but got no reply is never sent
 *   again behind the caller's back (its outcome is unknown; the caller decides);
 * - the offline queue stays on, so commands issued while (re)connecting wait at most
 *   `commandTimeout` rather than failing at once;
 * - reconnection backs off up to 1 s and never stops, so the client recovers by itself.
 * `redisStore({ client: url })` uses these; pass them to `new Redis(url, …)` for your own client.
 * For a `Cluster`, pass them (without `retryStrategy` and `enableOfflineQueue`, which the cluster
 * options take at top level) as `redisOptions`.
 */
export function recommendedRedisOptions(commandTimeoutMs = DEFAULT_TIMEOUT_MS): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(25 * 2 ** Math.min(times, 6), 1000),
  };
}

export const DEFAULT_TIMEOUT_MS = 5_000;

/** A client the store creates from a URL, and therefore closes. */
export function connect(url: string, commandTimeoutMs: number): Redis {
  return new Redis(url, recommendedRedisOptions(commandTimeoutMs));
}

/**
 * Where the store's Redis is and why it cannot be reached, for messages that say what
 * PostgreSQL's say ("cannot reach redis://host:port (connect ECONNREFUSED …)") instead of
 * ioredis' "Reached the max retries per request limit".
 */
export class Reachability {
  readonly endpoint: string;
  #lastError: string | undefined;

  /** `url` when the store made the client; its connection errors are then recorded here. */
  constructor(
    private readonly client: Redis | Cluster,
    url: string | undefined,
  ) {
    this.endpoint = url !== undefined ? redact(url) : describeClient(client);
    if (url !== undefined) {
      // Failures reach callers through rejected commands; this listener also keeps ioredis from
      // printing every reconnection error while Redis is down. A client the caller owns keeps
      // its own listeners (and logging) untouched.
      client.on('error', (error: Error) => (this.#lastError = error.message));
      client.on('ready', () => (this.#lastError = undefined));
    }
  }

  /** Why a command failed, when the cause is the connection; undefined for any other failure. */
  reason(error: unknown): string | undefined {
    const name = (error as { name?: unknown } | null)?.name;
    const message = error instanceof Error ? error.message : '';
    const connectionLost = name === 'MaxRetriesPerRequestError' || message === 'Connection is closed.' || this.client.status !== 'ready';
    if (!connectionLost) return undefined;
    return this.#lastError ?? `connection ${this.client.status}`;
  }
}

function describeClient(client: Redis | Cluster): string {
  if ((client as Cluster).isCluster) {
    const nodes = (client as Cluster).nodes().map((node) => `${node.options.host}:${node.options.port}`);
    return nodes.length > 0 ? `the Redis cluster at ${nodes.join(', ')}` : 'the Redis cluster';
  }
  const { host, port, path, db } = (client as Redis).options;
  return path ? `redis+unix://${path}` : `redis://${host ?? '127.0.0.1'}:${port ?? 6379}${db ? `/${db}` : ''}`;
}
