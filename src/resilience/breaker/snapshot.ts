import type { BreakerStrategy } from './strategy.js';

export type CircuitState = 'closed' | 'open' | 'halfOpen';

/** A trial call running while half-open, and when its slot is given up for lost. */
export interface TrialLease {
  readonly id: string;
  readonly until: number;
}

/**
 * Everything a circuit breaker knows, as plain JSON: `breaker.snapshot()` returns it, the
 * `initialState` option restores it, and a {@link BreakerStateStore} keeps it. Times are on the
 * policy clock.
 */
export interface BreakerSnapshot<W = unknown> {
  readonly state: CircuitState;
  /** The strategy's name; a snapshot only restores into a breaker with the same strategy. */
  readonly strategy: string;
  /** Raised on every state change; an outcome counts only in the generation its call started in. */
  readonly generation: number;
  /** While closed: the strategy's memory of recent outcomes. */
  readonly window: W;
  /** Openings since the circuit last closed; picks the open duration from a backoff. */
  readonly opens: number;
  /** While open: when a trial may run. */
  readonly openUntil?: number;
  /** While half-open: trials in flight. */
  readonly trials?: readonly TrialLease[];
  readonly trialSuccesses?: number;
  readonly trialFailures?: number;
}

/** The breaker's rules, fixed at construction. */
export interface BreakerRules<W> {
  readonly strategy: BreakerStrategy<W>;
  readonly trials: number;
  readonly successThreshold: number;
  readonly trialLeaseMs: number;
  /** How long the `opens`-th consecutive opening lasts (1-based). */
  openDurationMs(opens: number): number;
}

/** A call's right to run, remembered so its outcome is recorded where it belongs. */
export interface Permit {
  readonly kind: 'call' | 'trial';
  readonly generation: number;
  readonly trialId?: string;
}

export type Transition =
  | { readonly type: 'break'; readonly reason: 'failures' | 'halfOpenFailure'; readonly openUntil: number }
  | { readonly type: 'halfOpen' }
  | { readonly type: 'reset' };

export type Admission =
  | { readonly kind: 'permit'; readonly permit: Permit }
  | { readonly kind: 'reject'; readonly state: 'open'; readonly retryAfterMs: number }
  /** Half-open and every trial slot is taken; `waitMs` is when the earliest lease runs out. */
  | { readonly kind: 'reject'; readonly state: 'halfOpen'; readonly waitMs: number | undefined };

/** What a transition function hands back: the new snapshot (or none when unchanged) and its answer. */
export interface Step<R, W = unknown> {
  readonly next?: BreakerSnapshot<W>;
  readonly result: R;
}

export function closedSnapshot<W>(strategy: BreakerStrategy<W>, generation = 0): BreakerSnapshot<W> {
  return { state: 'closed', strategy: strategy.name, generation, window: strategy.initial(), opens: 0 };
}

function open<W>(s: BreakerSnapshot<W>, now: number, rules: BreakerRules<W>, reason: 'failures' | 'halfOpenFailure') {
  const opens = s.opens + 1;
  const openUntil = now + rules.openDurationMs(opens);
  const next: BreakerSnapshot<W> = {
    state: 'open',
    strategy: s.strategy,
    generation: s.generation + 1,
    window: rules.strategy.initial(),
    opens,
    openUntil,
  };
  return { next, transition: { type: 'break', reason, openUntil } as Transition };
}

function close<W>(s: BreakerSnapshot<W>, rules: BreakerRules<W>) {
  return { next: closedSnapshot(rules.strategy, s.generation + 1), transition: { type: 'reset' } as Transition };
}

/** Half-open bookkeeping: expired leases count as failed trials, then the thresholds are judged. */
function judgeHalfOpen<W>(s: BreakerSnapshot<W>, now: number, rules: BreakerRules<W>) {
  const trials = s.trials ?? [];
  const live = trials.filter((t) => t.until > now);
  const failures = (s.trialFailures ?? 0) + (trials.length - live.length);
  const successes = s.trialSuccesses ?? 0;
  if (failures > rules.trials - rules.successThreshold) return open(s, now, rules, 'halfOpenFailure');
  if (successes >= rules.successThreshold) return close(s, rules);
  const next: BreakerSnapshot<W> =
    live.length === trials.length && failures === (s.trialFailures ?? 0) ? s : { ...s, trials: live, trialFailures: failures };
  return { next, transition: undefined };
}

/** May a call run now? Moves an open circuit whose time is up to half-open. */
export function admit<W>(
  current: BreakerSnapshot<W>,
  now: number,
  rules: BreakerRules<W>,
  trialId: string,
): Step<{ admission: Admission; transitions: Transition[] }, W> {
  const transitions: Transition[] = [];
  let s = current;
  if (s.state === 'closed') {
    return { result: { admission: { kind: 'permit', permit: { kind: 'call', generation: s.generation } }, transitions } };
  }
  if (s.state === 'open') {
    const openUntil = s.openUntil ?? 0;
    if (now < openUntil) {
      return { result: { admission: { kind: 'reject', state: 'open', retryAfterMs: openUntil - now }, transitions } };
    }
    s = {
      state: 'halfOpen',
      strategy: s.strategy,
      generation: s.generation + 1,
      window: s.window,
      opens: s.opens,
      trials: [],
      trialSuccesses: 0,
      trialFailures: 0,
    };
    transitions.push({ type: 'halfOpen' });
  }

  const judged = judgeHalfOpen(s, now, rules);
  if (judged.transition !== undefined) transitions.push(judged.transition);
  s = judged.next;
  if (s.state === 'open') {
    const retryAfterMs = (s.openUntil ?? now) - now;
    return { next: s, result: { admission: { kind: 'reject', state: 'open', retryAfterMs }, transitions } };
  }
  if (s.state === 'closed') {
    return {
      next: s,
      result: { admission: { kind: 'permit', permit: { kind: 'call', generation: s.generation } }, transitions },
    };
  }
  const trials = s.trials ?? [];
  const decided = (s.trialSuccesses ?? 0) + (s.trialFailures ?? 0);
  if (trials.length + decided < rules.trials) {
    const next = { ...s, trials: [...trials, { id: trialId, until: now + rules.trialLeaseMs }] };
    const permit: Permit = { kind: 'trial', generation: s.generation, trialId };
    return { next, result: { admission: { kind: 'permit', permit }, transitions } };
  }
  const waitMs = trials.length === 0 ? undefined : Math.max(0, Math.min(...trials.map((t) => t.until)) - now);
  return {
    next: s === current ? undefined : s,
    result: { admission: { kind: 'reject', state: 'halfOpen', waitMs }, transitions },
  };
}

/** Record the outcome of a call that ran under `permit`. Outcomes from an earlier generation are ignored. */
export function recordOutcome<W>(
  s: BreakerSnapshot<W>,
  now: number,
  rules: BreakerRules<W>,
  permit: Permit,
  success: boolean,
): Step<Transition[], W> {
  if (permit.generation !== s.generation) return { result: [] };
  if (s.state === 'closed' && permit.kind === 'call') {
    const { window, open: mustOpen } = rules.strategy.record(s.window, success, now);
    if (!mustOpen) return { next: { ...s, window }, result: [] };
    const opened = open(s, now, rules, 'failures');
    return { next: opened.next, result: [opened.transition] };
  }
  if (s.state === 'halfOpen' && permit.kind === 'trial') {
    const trials = s.trials ?? [];
    if (!trials.some((t) => t.id === permit.trialId)) return { result: [] }; // its lease already counted as lost
    const counted: BreakerSnapshot<W> = {
      ...s,
      trials: trials.filter((t) => t.id !== permit.trialId),
      trialSuccesses: (s.trialSuccesses ?? 0) + (success ? 1 : 0),
      trialFailures: (s.trialFailures ?? 0) + (success ? 0 : 1),
    };
    const judged = judgeHalfOpen(counted, now, rules);
    return { next: judged.next, result: judged.transition === undefined ? [] : [judged.transition] };
  }
  return { result: [] };
}

/** A call ended without a verdict (its caller cancelled): give its trial slot back. */
export function releasePermit<W>(s: BreakerSnapshot<W>, permit: Permit): Step<void, W> {
  if (permit.kind !== 'trial' || permit.generation !== s.generation || s.state !== 'halfOpen') return { result: undefined };
  const trials = s.trials ?? [];
  if (!trials.some((t) => t.id === permit.trialId)) return { result: undefined };
  return { next: { ...s, trials: trials.filter((t) => t.id !== permit.trialId) }, result: undefined };
}
