/**
 * How the Redis store talks to the server when it is down, slow or restarting: every call is
 * bounded by a timer of its own, and every failure other than a fencing one becomes a
 * {@link StoreUnavailableError} (fail closed: the engine then runs nothing).
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { OncekeyError } from '../../errors/oncekey-error.js';
import { StoreUnavailableError } from '../../errors/store-unavailable.js';

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

/**
 * Run one store call with a deadline. ioredis' own `commandTimeout` does not bound every wait (a
 * caller's client may have none, or may queue commands while disconnected), so the store keeps
 * its own timer. A command abandoned here may still reach Redis later: the scripts are fenced, so
 * a late `begin` at worst holds the key for one lease, and a late `commit`/`release`/`extend`
 * with a stale token does nothing.
 */
export async function guard<T>(what: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError('redis', `${what} got no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work(), deadline]);
  } catch (error) {
    throw unavailable(what, error);
  } finally {
    clearTimeout(timer);
  }
}

/** Oncekey's own errors pass through; anything from the driver or the server is unavailability. */
function unavailable(what: string, error: unknown): unknown {
  if (error instanceof OncekeyError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError('redis', `${what} failed: ${detail}`, { cause: error });
}
