/**
 * The ioredis client the store creates from a URL, configured to fail fast while Redis is down
 * (the store's own deadlines are in guard.ts).
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

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
  const client = new Redis(url, recommendedRedisOptions(commandTimeoutMs));
  // Failures reach callers through rejected commands; without a listener ioredis would print
  // every reconnection error while Redis is down.
  client.on('error', () => {});
  return client;
}
