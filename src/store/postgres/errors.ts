import { OncekeyError } from '../../core/errors/oncekey-error.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';
import { redact } from '../../core/url.js';
import { isConnectError, unreachable } from '../unreachable.js';

/** SQLSTATEs that say "the schema is not there": the table was never migrated. */
const NOT_MIGRATED = new Set(['42P01', '3F000', '42703', '42883']);

/**
 * Turn anything the driver throws into an Oncekey error. Connection failures, timeouts, server
 * shutdown (57P01..57P03), cancellations (57014) and every other driver error become
 * {@link StoreUnavailableError} with the original as `cause`: the caller cannot know whether the
 * statement took effect, and the engine must fail closed rather than run anything.
 */
export function storeError(store: string, operation: string, error: unknown, target: string, endpoint: string): OncekeyError {
  if (error instanceof OncekeyError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (isConnectError(error) || /timeout exceeded when trying to connect/.test(message))
    return unreachable(store, operation, endpoint, message, error);
  const detail =
    typeof code === 'string' && NOT_MIGRATED.has(code)
      ? `${operation}: ${message} (has migrate() been run for ${target}?)`
      : `${operation}: ${message}${typeof code === 'string' ? ` [${code}]` : ''}`;
  return new StoreUnavailableError(store, detail, { cause: error });
}

/** Where a pool connects, password hidden: its connection string, or its host, port and database. */
export function poolEndpoint(options: { connectionString?: string; host?: string; port?: number; database?: string } | undefined): string {
  if (options?.connectionString) return redact(options.connectionString);
  const host = options?.host ?? process.env.PGHOST ?? 'localhost';
  const port = options?.port ?? process.env.PGPORT ?? 5432;
  return `postgres://${host}:${port}/${options?.database ?? process.env.PGDATABASE ?? ''}`;
}
