/**
 * Bad arguments: every store refuses them the same way — a rejected promise with
 * InvalidOptionError naming the argument — and a refused call changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import type { KeyRef, Store } from '../store/contract.js';
import { acquire, lease, recordFields, storeCase } from './harness.js';
import type { ResolvedOptions } from './harness.js';

const TIMEOUT = 60_000;
const ref: KeyRef = { scope: 's', key: 'k' };

/** Not a positive integer number of milliseconds. */
const BAD_DURATIONS: readonly unknown[] = [0, -1, 1.5, Number.NaN, Infinity, '1000', null];
/** Not a positive integer count. */
const BAD_COUNTS: readonly unknown[] = [0, -5, 2.5, Number.NaN, '10', null];

/**
 * `call` must return a promise that rejects with InvalidOptionError whose message names `option`
 * (a synchronous throw would escape a caller's `.catch`).
 */
async function expectRefused(call: () => Promise<unknown>, option: string): Promise<void> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return expect.fail(`${option}: threw synchronously instead of rejecting: ${String(error)}`);
  }
  expect(promise, `${option}: a store method returns a promise`).toBeInstanceOf(Promise);
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) return expect.fail(`${option}: expected InvalidOptionError, but it succeeded with ${JSON.stringify(outcome.value)}`);
  expect(isInvalidOptionError(outcome.error), `${option}: expected InvalidOptionError, got ${String(outcome.error)}`).toBe(true);
  expect((outcome.error as Error).message).toContain(option);
}

/** The arguments a store is handed as `unknown`, as a careless or malicious caller would pass them. */
const loose = (store: Store) =>
  store as unknown as {
    begin(ref: KeyRef, fingerprint: string, options: unknown): Promise<unknown>;
    commit(ref: KeyRef, token: string, outcome: string, ttlMs: unknown): Promise<unknown>;
    extend(ref: KeyRef, token: string, leaseMs: unknown): Promise<unknown>;
    list(options: unknown): Promise<unknown>;
    sweep(options: unknown): Promise<unknown>;
  };

export function describeArguments(options: ResolvedOptions): void {
  const test = (name: string, body: Parameters<typeof storeCase>[1]) => it(name, storeCase(options, body), TIMEOUT);

  describe('bad arguments', () => {
    test('begin refuses a lease or retention that is not a positive integer, or a retention shorter than the lease; nothing is written', async (store) => {
      for (const bad of BAD_DURATIONS) {
        await expectRefused(() => loose(store).begin(ref, 'fp', { leaseMs: bad, ttlMs: 60_000 }), 'leaseMs');
        await expectRefused(() => loose(store).begin(ref, 'fp', { leaseMs: 1000, ttlMs: bad }), 'ttlMs');
      }
      await expectRefused(() => store.begin(ref, 'fp', lease(1000, 999)), 'ttlMs');
      await expectRefused(() => loose(store).begin(ref, 'fp', undefined), 'begin');
      expect(await store.get(ref)).toBeUndefined();
    });

    test('commit and extend refuse a bad duration and leave the record as it was', async (store) => {
      const { token } = await acquire(store, ref);
      const before = recordFields(await store.get(ref));
      for (const bad of BAD_DURATIONS) {
        await expectRefused(() => loose(store).commit(ref, token, 'outcome', bad), 'ttlMs');
        await expectRefused(() => loose(store).extend(ref, token, bad), 'leaseMs');
      }
      expect(recordFields(await store.get(ref))).toEqual(before);
    });

    test('list refuses a missing options object or scope, an unknown state, a bad limit or cursor, and unknown options', async (store) => {
      await acquire(store, ref);
      await expectRefused(() => loose(store).list(undefined), 'list');
      await expectRefused(() => loose(store).list({}), 'list.scope');
      await expectRefused(() => loose(store).list({ scope: 42 }), 'list.scope');
      for (const state of ['done', 'IN_PROGRESS', '', 0]) await expectRefused(() => loose(store).list({ scope: 's', state }), 'list.state');
      for (const bad of BAD_COUNTS) await expectRefused(() => loose(store).list({ scope: 's', limit: bad }), 'list.limit');
      for (const cursor of ['not a cursor', 17, '']) await expectRefused(() => loose(store).list({ scope: 's', cursor }), 'list.cursor');
      await expectRefused(() => loose(store).list({ scope: 's', stat: 'completed' }), 'list.stat');
    });

    test('sweep refuses a bad batch size or batch count and unknown options; nothing is removed', async (store, clock) => {
      await acquire(store, ref, 'fp', lease(100, 100));
      await clock.advance(200);
      for (const bad of BAD_COUNTS) {
        await expectRefused(() => loose(store).sweep({ batchSize: bad }), 'sweep.batchSize');
        await expectRefused(() => loose(store).sweep({ maxBatches: bad }), 'sweep.maxBatches');
      }
      await expectRefused(() => loose(store).sweep({ batch: 10 }), 'sweep.batch');
      expect(await store.sweep()).toBe(1);
    });
  });
}
