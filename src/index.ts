/**
 * Oncekey: idempotency keys, safe retries and exactly-once effects.
 *
 * The main entry holds the engine, its types, the errors and the fingerprint; stores live in
 * their own subpaths (`oncekey/memory`, `oncekey/sqlite`, …) so their drivers load only when used.
 */
export { Oncekey } from './engine/oncekey.js';
export type { IdempotentFunction, RunContext, RunResult } from './engine/oncekey.js';
export type { CacheErrors, OncekeyOptions, RunOptions, WaitOptions, WrapOptions } from './engine/settings.js';
export type { TransactionContext, TransactionOptions } from './engine/transaction.js';
export type { TransactionalStore, TransactionRequest, TransactionResult } from './store/transactional.js';
export type {
  AcquireEvent,
  CommitEvent,
  EngineErrorEvent,
  InProgressEvent,
  LeaseLostEvent,
  MismatchEvent,
  OncekeyHooks,
  RecoverEvent,
  ReleaseEvent,
  ReplayEvent,
} from './engine/hooks.js';
export { canonicalize } from './engine/canonical.js';
export { fingerprint } from './engine/fingerprint.js';
export { jsonCodec } from './engine/codec.js';
export type { Codec } from './engine/codec.js';
export { toMs } from './engine/duration.js';
export type { Duration } from './engine/duration.js';
export { MAX_KEY_LENGTH, MAX_SCOPE_LENGTH, validateRef } from './core/ref.js';
export type { KeyRef } from './core/ref.js';
export { systemClock } from './core/time.js';
export type { Clock, TimerClock } from './core/time.js';

export type {
  Acquired,
  BeginOptions,
  BeginResult,
  InProgress,
  KeyRecord,
  ListOptions,
  ListPage,
  Mismatch,
  RecordState,
  Replay,
  Store,
  SweepOptions,
} from './store/contract.js';

export * from './core/errors/index.js';
