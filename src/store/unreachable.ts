/**
 * One wording, in every store, for a server that cannot be reached: what was tried, where (the
 * URL, password hidden), and the system's reason — so an operator reads the same message whether
 * PostgreSQL or Redis is down.
 */
import { StoreUnavailableError } from '../core/errors/store-unavailable.js';

/** Node's error codes for a connection that could not be made or was cut. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
]);

/** True for an error that says the server could not be reached (rather than that it refused a command). */
export function isConnectError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECT_ERRORS.has(code);
}

/** `store <name> unavailable: <what>: cannot reach <endpoint> (<reason>)`. */
export function unreachable(store: string, what: string, endpoint: string, reason: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(store, `${what}: cannot reach ${endpoint} (${reason})`, cause === undefined ? undefined : { cause });
}
