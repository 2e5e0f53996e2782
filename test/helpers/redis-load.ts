/**
 * Load for store outage tests: workers take keys and run each through begin → effect → commit
 * the way the engine does, retrying what a store outage makes uncertain, and count every time an
 * effect ran. The count is the assertion: an outage must never make an effect run twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BeginOptions, KeyRef, Store } from '../../src/store/contract.js';
import { isLeaseLostError } from '../../src/errors/lease-lost.js';
import { isStoreUnavailableError } from '../../src/errors/store-unavailable.js';

export interface LoadStats {
  /** Keys whose outcome is stored (commit acknowledged, or seen completed afterwards). */
  readonly done: Set<string>;
  /** How many times each key's effect ran. */
  readonly effects: Map<string, number>;
  /** StoreUnavailableError seen, by operation. */
  readonly unavailable: Record<string, number>;
  /** begin answered in_progress (a begin whose reply was lost holds the key for one lease). */
  inProgress: number;
  /** Acquisitions that took over an expired lease. */
  recovered: number;
  /** Errors of any other kind: each one fails the test. */
  readonly unexpected: unknown[];
}

export interface LoadOptions {
  readonly keys: readonly KeyRef[];
  readonly concurrency: number;
  readonly lease: BeginOptions;
  /** Give up on the whole run after this long (the run is bounded; a test then fails). */
  readonly deadlineMs: number;
  /**
   * Called, synchronously, each time a key is done, with the count so far: a test that injects a
   * fault at a given point does it here, so the fault meets the load in flight however fast it runs.
   */
  readonly onDone?: (done: number) => void;
}

export const outcomeOf = (ref: KeyRef): string => `done:${ref.key}`;

export function newStats(): LoadStats {
  return { done: new Set(), effects: new Map(), unavailable: {}, inProgress: 0, recovered: 0, unexpected: [] };
}

/** Run every key to completion with `concurrency` workers; resolves when all are done or the deadline passed. */
export async function runLoad(store: Store, options: LoadOptions, stats: LoadStats = newStats()): Promise<LoadStats> {
  const deadline = Date.now() + options.deadlineMs;
  const queue = [...options.keys];
  const unavailable = (op: string) => {
    (stats.unavailable as Record<string, number>)[op] = (stats.unavailable[op] ?? 0) + 1;
  };

  /** Retry `op` while the store is unavailable. */
  async function retrying<T>(op: string, work: () => Promise<T>): Promise<T> {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`deadline passed while retrying ${op}`);
      try {
        return await work();
      } catch (error) {
        if (!isStoreUnavailableError(error)) throw error;
        unavailable(op);
        await sleep(20);
      }
    }
  }

  const markDone = (ref: KeyRef) => {
    stats.done.add(ref.key);
    options.onDone?.(stats.done.size);
  };

  async function one(ref: KeyRef): Promise<void> {
    const outcome = outcomeOf(ref);
    for (;;) {
      const got = await retrying('begin', () => store.begin(ref, 'fp', options.lease));
      if (got.kind === 'replay') {
        if (got.outcome !== outcome) throw new Error(`${ref.key}: replayed ${got.outcome}`);
        markDone(ref);
        return;
      }
      if (got.kind === 'mismatch') throw new Error(`${ref.key}: mismatch`);
      if (got.kind === 'in_progress') {
        // Only this worker uses the key: its own earlier begin landed but the reply was lost.
        stats.inProgress++;
        await sleep(Math.min(got.retryAfterMs, 100));
        continue;
      }
      if (got.recovered) stats.recovered++;
      stats.effects.set(ref.key, (stats.effects.get(ref.key) ?? 0) + 1);
      try {
        await retrying('commit', () => store.commit(ref, got.token, outcome, options.lease.ttlMs));
      } catch (error) {
        if (!isLeaseLostError(error)) throw error;
        // A commit that landed but whose reply was lost, then retried, finds the key completed.
        const record = await retrying('get', () => store.get(ref));
        if (record?.state !== 'completed' || record.outcome !== outcome) {
          throw new Error(`${ref.key}: lease lost and not completed: ${JSON.stringify(record)}`);
        }
      }
      markDone(ref);
      return;
    }
  }

  const worker = async () => {
    for (let ref = queue.shift(); ref; ref = queue.shift()) {
      try {
        await one(ref);
      } catch (error) {
        stats.unexpected.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return stats;
}
