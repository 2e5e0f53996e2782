/**
 * Load for store outage tests, written against the Store contract only (any store). Workers take
 * keys and run each one the way the engine does: begin; on `acquired` run the effect once, then
 * commit with that token — retrying the same commit until the store answers, because a commit that
 * failed with StoreUnavailableError may or may not have landed. Every time an effect ran is counted:
 * that count is the assertion, an outage must never make an effect run twice.
 *
 * Each key has exactly one owner, so the only answers an outage can explain are:
 * - `in_progress`: a begin of ours landed but its reply was lost; it holds the key for one lease,
 *   so wait until the lease can be taken over and begin again (an `acquired` with `recovered`);
 * - LeaseLostError from a commit retried after an unanswered try: the earlier try landed. The
 *   record is read back and must be completed with this run's outcome.
 * Anything else — `replay` or `mismatch` from begin, LeaseLostError on a first commit try or with a
 * record that does not confirm it — is a violation. Errors of any kind other than
 * StoreUnavailableError fail the key and are kept in `unexpected`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BeginOptions, KeyRef, Store } from '../../src/store/contract.js';
import { isLeaseLostError } from '../../src/core/errors/lease-lost.js';
import { isStoreUnavailableError } from '../../src/core/errors/store-unavailable.js';

export interface LoadOptions {
  readonly keys: readonly KeyRef[];
  /** Workers running at once; each takes the next key when done with one. */
  readonly concurrency: number;
  /** Lease and retention passed to every begin; `ttlMs` also to every commit. */
  readonly lease: BeginOptions;
  /**
   * Give up on the whole run after this long (default 50 s, under the test timeout): every call
   * retried after it fails its key with an error in `unexpected`, so a stuck run fails the test
   * with what it saw instead of hanging.
   */
  readonly deadlineMs?: number;
  /** Pause before retrying a call that failed with StoreUnavailableError (default 20 ms). */
  readonly retryPauseMs?: number;
  /** How long each effect takes between begin and commit (default 0): keeps a crash inside the run. */
  readonly effectMs?: number;
  /**
   * Called, synchronously, each time a key's outcome is stored (the instant it is added to
   * `committed`), with the number of such keys so far and the live report. A test that injects a
   * fault at a given point does it here, so the fault meets the load in flight however fast it runs
   * (polling could find the whole run finished). Each count from 1 to keys.length is passed once.
   */
  readonly onKeyDone?: (done: number, report: LoadReport) => void;
}

export interface LoadReport {
  /** key → times its effect ran (must be 1 for every key). */
  readonly effects: ReadonlyMap<string, number>;
  /**
   * key → outcome of the commit the store acknowledged, or confirmed by reading the record after a
   * commit whose reply was lost. Insertion order is completion order.
   */
  readonly committed: ReadonlyMap<string, string>;
  /** StoreUnavailableError by operation (`begin`, `commit`, `get`). */
  readonly unavailable: Readonly<Record<string, number>>;
  /**
   * Error class name → count, for every error a store call threw, except the LeaseLostError of a
   * retried commit that the record then confirmed (counted in `confirmedCommits`).
   */
  readonly errors: ReadonlyMap<string, number>;
  /** begin answered in_progress (a begin of ours landed but its reply was lost). */
  readonly inProgress: number;
  /** Acquisitions that took over an expired lease (the one such a lost begin left). */
  readonly recovered: number;
  /** Commits whose reply was lost but which landed: LeaseLostError on a retry, record confirmed. */
  readonly confirmedCommits: number;
  /** Invariant violations seen while running (must be empty). */
  readonly violations: readonly string[];
  /** Errors other than StoreUnavailableError (store errors, deadline passed, ...): each fails its key. */
  readonly unexpected: readonly unknown[];
}

/** The outcome the `run`-th run of a key's effect commits; `outcomeOf(ref)` is its first (only) run. */
export const outcomeOf = (ref: KeyRef, run = 1): string => `done:${ref.key}#${run}`;

/** `count` keys in `scope`, in the order the load takes them. */
export const keysOf = (count: number, scope: string): KeyRef[] =>
  Array.from({ length: count }, (_, i) => ({ scope, key: `k${String(i).padStart(4, '0')}` }));

/** The report with maps and lists reduced to what a debug line needs. */
export const summary = (report: LoadReport) => ({
  committed: report.committed.size,
  effects: report.effects.size,
  ranTwice: [...report.effects.values()].filter((n) => n !== 1).length,
  unavailable: report.unavailable,
  errors: Object.fromEntries(report.errors),
  inProgress: report.inProgress,
  recovered: report.recovered,
  confirmedCommits: report.confirmedCommits,
  violations: report.violations,
  unexpected: report.unexpected.map(String),
});

/** Run every key to completion with `concurrency` workers; resolves when all are done or failed. */
export async function runStoreLoad(store: Store, options: LoadOptions): Promise<LoadReport> {
  const deadline = Date.now() + (options.deadlineMs ?? 50_000);
  const pause = options.retryPauseMs ?? 20;
  const effects = new Map<string, number>();
  const committed = new Map<string, string>();
  const unavailable: Record<string, number> = {};
  const errors = new Map<string, number>();
  const violations: string[] = [];
  const unexpected: unknown[] = [];
  const report = {
    effects,
    committed,
    unavailable,
    errors,
    inProgress: 0,
    recovered: 0,
    confirmedCommits: 0,
    violations,
    unexpected,
  };

  const countError = (error: unknown) => {
    const name = error instanceof Error ? error.constructor.name : typeof error;
    errors.set(name, (errors.get(name) ?? 0) + 1);
  };
  /** Count an error a store call threw; rethrow it unless it is StoreUnavailableError. */
  const noteError = (op: string, error: unknown) => {
    countError(error);
    if (!isStoreUnavailableError(error)) throw error;
    unavailable[op] = (unavailable[op] ?? 0) + 1;
  };
  const checkDeadline = (op: string) => {
    if (Date.now() > deadline) throw new Error(`deadline passed while retrying ${op}`);
  };

  /** Retry `work` while the store is unavailable. */
  async function retrying<T>(op: string, work: () => Promise<T>): Promise<T> {
    for (;;) {
      checkDeadline(op);
      try {
        return await work();
      } catch (error) {
        noteError(op, error);
        await sleep(pause);
      }
    }
  }

  const markDone = (ref: KeyRef, outcome: string) => {
    committed.set(ref.key, outcome);
    options.onKeyDone?.(committed.size, report);
  };

  /** Commit with `token`, retrying the same commit while its outcome is unknown. */
  async function commitUntilAnswered(ref: KeyRef, token: string, outcome: string): Promise<void> {
    for (let unanswered = 0; ;) {
      checkDeadline('commit');
      try {
        await store.commit(ref, token, outcome, options.lease.ttlMs);
        markDone(ref, outcome);
        return;
      } catch (error) {
        if (isLeaseLostError(error)) {
          // Only an earlier try that landed although its reply was lost may explain this.
          const record = await retrying('get', () => store.get(ref));
          if (unanswered > 0 && record?.state === 'completed' && record.outcome === outcome) {
            report.confirmedCommits++;
            markDone(ref, outcome);
          } else {
            countError(error);
            violations.push(`${ref.key}: commit lost its lease after ${unanswered} unanswered tries: ${JSON.stringify(record)}`);
          }
          return;
        }
        noteError('commit', error);
        unanswered++;
        await sleep(pause);
      }
    }
  }

  async function one(ref: KeyRef): Promise<void> {
    for (;;) {
      const got = await retrying('begin', () => store.begin(ref, 'fp', options.lease));
      if (got.kind === 'in_progress') {
        // Only this worker uses the key: its own earlier begin landed but the reply was lost.
        // Wait until that lease can be taken over.
        report.inProgress++;
        await sleep(Math.min(got.retryAfterMs, options.lease.leaseMs) + 5);
        continue;
      }
      if (got.kind !== 'acquired') {
        // This worker goes back to begin only before it ran the effect, so nothing of ours is stored.
        violations.push(`${ref.key}: begin answered ${JSON.stringify(got)} though no commit of ours was sent`);
        return;
      }
      if (got.recovered) report.recovered++;
      const run = (effects.get(ref.key) ?? 0) + 1;
      effects.set(ref.key, run);
      if (options.effectMs) await sleep(options.effectMs);
      await commitUntilAnswered(ref, got.token, outcomeOf(ref, run));
      return;
    }
  }

  const queue = [...options.keys];
  const worker = async () => {
    for (let ref = queue.shift(); ref; ref = queue.shift()) {
      try {
        await one(ref);
      } catch (error) {
        unexpected.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return report;
}
