import { OncekeyError } from '../../errors/oncekey-error.js';
import { StoreUnavailableError } from '../../errors/store-unavailable.js';

/** SQLSTATEs that say "the schema is not there": the table was never migrated. */
const NOT_MIGRATED = new Set(['42P01', '3F000', '42703', '42883']);

/**
 * Turn anything the driver throws into an Oncekey error. Connection failures, timeouts, server
 * shutdown (57P01..57P03), cancellations (57014) and every other driver error become
 * {@link StoreUnavailableError} with the original as `cause`: the caller cannot know whether the
 * statement took effect, and the engine must fail closed rather than run anything.
 */
export function storeError(store: string, operation: string, error: unknown, target: string): OncekeyError {
  if (error instanceof OncekeyError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const detail = typeof code === 'string' && NOT_MIGRATED.has(code)
    ? `${operation}: ${message} (has migrate() been run for ${target}?)`
    : `${operation}: ${message}${typeof code === 'string' ? ` [${code}]` : ''}`;
  return new StoreUnavailableError(store, detail, { cause: error });
}

interface Pending {
  readonly at: number;
  readonly expire: () => void;
}

/**
 * Deadlines for many calls on one shared timer. A timer per call costs more CPU than the rest of
 * the store's own work per call (measured); a deadline that is a safety net of seconds does not
 * need more precision than the sweep interval.
 */
export class Deadlines {
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly sweepMs = 100) {}

  /** `promise`, or a rejection with `onTimeout()` once `ms` (+ up to one sweep) have passed. */
  bound<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { at: Date.now() + ms, expire: () => reject(onTimeout()) };
      this.#pending.add(entry);
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), this.sweepMs);
        // Pending calls keep the process alive through their sockets, not through this timer.
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(entry);
          reject(error);
        },
      );
    });
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#pending) {
      if (entry.at > now) continue;
      this.#pending.delete(entry);
      entry.expire();
    }
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
