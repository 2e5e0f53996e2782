/**
 * Options of the engine and of each call, validated up front so a typo or a bad duration fails
 * where it is written, not at the first duplicate request in production.
 */
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { type Clock, systemClock } from '../core/time.js';
import type { Store } from '../store/contract.js';
import { assertKnownOptions } from '../core/options.js';
import { type Codec, jsonCodec } from './codec.js';
import { type Duration, toMs } from './duration.js';
import { HOOK_NAMES, type OncekeyHooks } from './hooks.js';

/** How a caller waits for a key another caller holds. */
export interface WaitOptions {
  /** Give up with InProgressError after this long; default one lease. */
  readonly timeout?: Duration;
  /** First pause between polls; default 10 ms. Pauses double up to `maxDelay`, with jitter. */
  readonly minDelay?: Duration;
  /** Longest pause between polls; default 1 s. */
  readonly maxDelay?: Duration;
}

/** Whether a thrown error is final (stored and replayed) or released so a retry may run. */
export type CacheErrors = boolean | ((error: unknown) => boolean);

/** Per-call options; each overrides the engine's default. */
export interface RunOptions {
  /** How long the outcome is retained for replay. */
  readonly ttl?: Duration;
  /** How long the key is held before another caller may take it over (renewed while running). */
  readonly lease?: Duration;
  /** When another caller holds the key: wait for its outcome (default) or throw InProgressError at once. */
  readonly onInProgress?: 'throw' | 'wait';
  readonly wait?: WaitOptions;
  /**
   * Errors to store and replay (as ReplayedError) instead of releasing the key; default none.
   * Errors of a call whose lease was lost are never cached.
   */
  readonly cacheErrors?: CacheErrors;
}

export interface WrapOptions<I> extends RunOptions {
  /** Who and what: tenant plus operation. A string, or derived from the input. */
  readonly scope: string | ((input: I) => string);
  /** The idempotency key, derived from the input. */
  readonly key: (input: I) => string;
  /** The part of the input that identifies the request; default the whole input. */
  readonly fingerprint?: (input: I) => unknown;
}

export interface OncekeyOptions {
  readonly store: Store;
  /** Default retention of outcomes, e.g. `'24h'`. At least `lease`. */
  readonly ttl: Duration;
  /** Default lease, e.g. `'30s'`: how long a crashed caller can block its key. */
  readonly lease: Duration;
  /** Source of time for deadlines and durations; default the system clock. */
  readonly clock?: Clock;
  /** How results are stored; default strict JSON ({@link jsonCodec}). */
  readonly codec?: Codec;
  readonly hooks?: OncekeyHooks;
  /** Defaults for waiting on a key held by another caller. */
  readonly wait?: WaitOptions;
  /** Source of randomness in [0, 1) for poll jitter; default Math.random. */
  readonly random?: () => number;
}

/** Everything a call needs, resolved to milliseconds. */
export interface Settings {
  readonly ttlMs: number;
  readonly leaseMs: number;
  readonly onInProgress: 'throw' | 'wait';
  /** Undefined means one lease. */
  readonly waitTimeoutMs: number | undefined;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly cacheErrors: CacheErrors;
}

const ENGINE_OPTIONS = ['store', 'ttl', 'lease', 'clock', 'codec', 'hooks', 'wait', 'random'] as const;
const RUN_OPTIONS = ['ttl', 'lease', 'onInProgress', 'wait', 'cacheErrors'] as const;
export const WRAP_OPTIONS = [...RUN_OPTIONS, 'scope', 'key', 'fingerprint'] as const;
const WAIT_OPTIONS = ['timeout', 'minDelay', 'maxDelay'] as const;
const STORE_METHODS = ['begin', 'commit', 'release', 'extend'] as const;

/** Node timers overflow past 2^31 - 1 ms (about 24.8 days) and would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface EngineConfig {
  readonly store: Store;
  readonly clock: Clock;
  readonly codec: Codec;
  readonly hooks: OncekeyHooks;
  readonly random: () => number;
  readonly defaults: Settings;
}

export function resolveEngineOptions(options: OncekeyOptions): EngineConfig {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('Oncekey', 'expected an options object with store, ttl and lease');
  }
  assertKnownOptions('Oncekey', options, ENGINE_OPTIONS);
  const { store, clock, codec, hooks, random } = options;
  if (store === null || typeof store !== 'object' || STORE_METHODS.some((m) => typeof store[m] !== 'function')) {
    throw new InvalidOptionError('Oncekey.store', `expected a Store (with ${STORE_METHODS.join(', ')})`);
  }
  if (clock !== undefined && (clock === null || typeof clock.now !== 'function')) {
    throw new InvalidOptionError('Oncekey.clock', 'expected an object with a now() method');
  }
  if (codec !== undefined && (codec === null || typeof codec.encode !== 'function' || typeof codec.decode !== 'function')) {
    throw new InvalidOptionError('Oncekey.codec', 'expected { encode(value): string, decode(text): unknown }');
  }
  if (hooks !== undefined) {
    assertKnownOptions('Oncekey.hooks', hooks, HOOK_NAMES);
    for (const name of HOOK_NAMES) {
      const hook = hooks[name];
      if (hook !== undefined && typeof hook !== 'function') throw new InvalidOptionError(`Oncekey.hooks.${name}`, 'expected a function');
    }
  }
  if (random !== undefined && typeof random !== 'function') {
    throw new InvalidOptionError('Oncekey.random', 'expected a function returning a number in [0, 1)');
  }
  if (options.ttl === undefined) throw new InvalidOptionError('Oncekey.ttl', "required: how long outcomes are kept, e.g. '24h'");
  if (options.lease === undefined) throw new InvalidOptionError('Oncekey.lease', "required: how long a caller may hold a key, e.g. '30s'");
  const base: Settings = {
    ttlMs: 0,
    leaseMs: 0,
    onInProgress: 'wait',
    waitTimeoutMs: undefined,
    minDelayMs: 10,
    maxDelayMs: 1000,
    cacheErrors: false,
  };
  const defaults = resolveRunOptions('Oncekey', { ttl: options.ttl, lease: options.lease, wait: options.wait }, base);
  return {
    store,
    clock: clock ?? systemClock,
    codec: codec ?? jsonCodec,
    hooks: hooks ?? {},
    random: random ?? Math.random,
    defaults,
  };
}

/** Per-call options over `defaults`; `context` names them in errors (`wrap`, `run`). */
export function resolveRunOptions(
  context: string,
  options: RunOptions | undefined,
  defaults: Settings,
  known: readonly string[] = RUN_OPTIONS,
): Settings {
  assertKnownOptions(context, options, known);
  if (options === undefined) return defaults;
  const ttlMs = options.ttl === undefined ? defaults.ttlMs : toMs(`${context}.ttl`, options.ttl);
  const leaseMs = options.lease === undefined ? defaults.leaseMs : timerMs(`${context}.lease`, options.lease);
  if (ttlMs < leaseMs) {
    // Blame the option this call set, so the message points at the line to fix.
    if (options.ttl === undefined) {
      throw new InvalidOptionError(`${context}.lease`, `must not exceed the ttl (${ttlMs} ms), got ${leaseMs} ms`);
    }
    throw new InvalidOptionError(`${context}.ttl`, `must be at least the lease (${leaseMs} ms), got ${ttlMs} ms`);
  }
  const { onInProgress = defaults.onInProgress, cacheErrors = defaults.cacheErrors, wait } = options;
  if (onInProgress !== 'throw' && onInProgress !== 'wait') {
    throw new InvalidOptionError(`${context}.onInProgress`, `expected 'throw' or 'wait', got ${JSON.stringify(onInProgress)}`);
  }
  if (typeof cacheErrors !== 'boolean' && typeof cacheErrors !== 'function') {
    throw new InvalidOptionError(`${context}.cacheErrors`, 'expected a boolean or a function (error) => boolean');
  }
  let { waitTimeoutMs, minDelayMs, maxDelayMs } = defaults;
  if (wait !== undefined) {
    assertKnownOptions(`${context}.wait`, wait, WAIT_OPTIONS);
    if (wait.timeout !== undefined) waitTimeoutMs = toMs(`${context}.wait.timeout`, wait.timeout);
    if (wait.minDelay !== undefined) minDelayMs = timerMs(`${context}.wait.minDelay`, wait.minDelay);
    if (wait.maxDelay !== undefined) maxDelayMs = timerMs(`${context}.wait.maxDelay`, wait.maxDelay);
    if (maxDelayMs < minDelayMs) {
      throw new InvalidOptionError(`${context}.wait.maxDelay`, `must be at least wait.minDelay (${minDelayMs} ms), got ${maxDelayMs} ms`);
    }
  }
  return { ttlMs, leaseMs, onInProgress, waitTimeoutMs, minDelayMs, maxDelayMs, cacheErrors };
}

/** A duration that a timer can wait for. */
function timerMs(option: string, value: unknown): number {
  const ms = toMs(option, value);
  if (ms > MAX_TIMER_MS) throw new InvalidOptionError(option, `must be at most ${MAX_TIMER_MS} ms (about 24 days), got ${ms} ms`);
  return ms;
}

/** Validates a call's ref-producing options of `wrap`. */
export function assertWrapFunctions<I>(options: WrapOptions<I>): void {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('wrap', 'expected an options object with scope and key');
  const { scope, key, fingerprint } = options;
  if (typeof scope !== 'string' && typeof scope !== 'function') {
    throw new InvalidOptionError('wrap.scope', 'required: a string or a function (input) => string');
  }
  if (typeof key !== 'function') throw new InvalidOptionError('wrap.key', 'required: a function (input) => string');
  if (fingerprint !== undefined && typeof fingerprint !== 'function') {
    throw new InvalidOptionError('wrap.fingerprint', 'expected a function (input) => value to fingerprint');
  }
}
