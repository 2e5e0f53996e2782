/**
 * `oncekey/testing`: the conformance suite every {@link Store} must pass — memory, SQLite,
 * PostgreSQL, Redis, and yours. Call it from a vitest test file:
 *
 * ```ts
 * import { runStoreConformance } from 'oncekey/testing';
 * runStoreConformance('my-store', { create: (clock) => myStore({ clock }) });
 * ```
 *
 * It uses only the public contract, and a fake clock that the tests move: a store must judge
 * every time by the clock it is given. Each test creates its own store and destroys it after.
 *
 * Where the contract leaves room, the suite pins these readings (see DESIGN.md):
 * - a take-over keeps `createdAt` and sets `expiresAt = now + ttlMs`, like a fresh begin;
 * - `list` orders keys by Unicode code point (UTF-8 byte order), case-sensitively;
 * - one `sweep` call removes exactly `min(expired, batchSize × maxBatches)` records.
 */
import { describe } from 'vitest';
import type { Clock, Store } from '../store/contract.js';
import type { ResolvedOptions } from './harness.js';
import { describeTransitions } from './transitions.js';
import { describeHousekeeping } from './housekeeping.js';
import { describeEncoding } from './encoding.js';
import { describeModel } from './model.js';
import { describeConcurrency } from './concurrency.js';
import { describeArguments } from './arguments.js';

export interface StoreConformanceOptions {
  /** A fresh, empty store whose time is `clock` (stores must accept an injected clock). */
  create(clock: Clock): Promise<Store> | Store;
  /** Called after each test with the store; default: store.close(). */
  destroy?(store: Store): Promise<void> | void;
  /** Concurrency test size; default { keys: 200, callers: 50 }. */
  concurrency?: { keys: number; callers: number };
  /** fast-check runs for the model-based test; default 100. */
  modelRuns?: number;
}

/** Registers the whole suite under `describe('store conformance: <name>')`. */
export function runStoreConformance(name: string, options: StoreConformanceOptions): void {
  const resolved: ResolvedOptions = {
    create: (clock) => options.create(clock),
    destroy: (store) => (options.destroy ? options.destroy(store) : store.close()),
    concurrency: options.concurrency ?? { keys: 200, callers: 50 },
    modelRuns: options.modelRuns ?? 100,
  };
  describe(`store conformance: ${name}`, () => {
    describeTransitions(resolved);
    describeHousekeeping(resolved);
    describeEncoding(resolved);
    describeModel(resolved);
    describeConcurrency(resolved);
    describeArguments(resolved);
  });
}

export { T0 } from './harness.js';
export { FakeClock } from '../core/fake-clock.js';
export { seededRandom } from '../core/random.js';
