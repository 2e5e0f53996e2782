import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../../core/errors/invalid-option.js';
import { iterableBackoff } from '../backoff/iterable.js';
import { sleep } from '../../core/time.js';
import { FakeClock } from '../../core/fake-clock.js';
import { type BrokenCircuitError, isBrokenCircuitError } from '../errors/broken-circuit.js';
import { isIsolatedCircuitError } from '../errors/isolated-circuit.js';
import type { BreakEvent } from '../events.js';
import { circuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { consecutiveBreaker } from './consecutive.js';
import { slidingWindowBreaker } from './sliding-window.js';
import type { BreakerSnapshot, Step } from './snapshot.js';
import { MemoryBreakerStateStore, type BreakerStateStore } from './state-store.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

function setup(options: CircuitBreakerOptions = {}) {
  const clock = new FakeClock();
  const breaker = circuitBreaker({ halfOpenAfterMs: 1000, clock, ...options });
  const log: string[] = [];
  const breaks: BreakEvent[] = [];
  breaker.on('break', (e) => (breaks.push(e), log.push(`break:${e.reason}`)));
  breaker.on('halfOpen', () => log.push('halfOpen'));
  breaker.on('reset', (e) => log.push(`reset:${e.reason}`));
  breaker.on('reject', (e) => log.push(`reject:${e.reason}`));
  return { clock, breaker, log, breaks };
}

const fail =
  (message = 'down') =>
  () => {
    throw new Error(message);
  };
const ok = () => 'ok';

/** A task whose completion the test controls. */
function gate() {
  let open!: () => void;
  let shut!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => ((open = resolve), (shut = reject)));
  return { done, pass: () => open(), fail: (e = new Error('trial failed')) => shut(e) };
}

describe('consecutive failures', () => {
  it('does not open on the first failure by default, opens on the fifth in a row', async () => {
    const { breaker, breaks } = setup();
    for (let i = 0; i < 4; i++) await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('closed');
    await settle(breaker.execute(fail('fifth')));
    expect(breaker.state).toBe('open');
    expect(breaks).toEqual([expect.objectContaining({ reason: 'failures', openUntil: 1000 })]);
    expect((breaks[0]!.error as Error).message).toBe('fifth');
  });

  it('a success starts the count again', async () => {
    const { breaker } = setup({ breaker: consecutiveBreaker({ threshold: 2 }) });
    await settle(breaker.execute(fail()));
    await breaker.execute(ok);
    await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('closed');
    await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('open');
  });

  it('fails fast while open, without running the task, and says when to come back', async () => {
    const { clock, breaker, log } = setup({ breaker: consecutiveBreaker({ threshold: 1 }) });
    await settle(breaker.execute(fail()));
    await clock.advance(400);
    let ran = 0;
    const settled = await settle(breaker.execute(() => ++ran));
    expect(ran).toBe(0);
    expect(settled.ok).toBe(false);
    const error = (settled as { error: BrokenCircuitError }).error;
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(error.code).toBe('CIRCUIT_OPEN');
    expect(error.retryAfterMs).toBe(600);
    expect(log).toEqual(['break:failures', 'reject:circuitOpen']);
  });

  it('counts only what isFailure / isFailureResult call failures', async () => {
    const { breaker } = setup({
      breaker: consecutiveBreaker({ threshold: 2 }),
      isFailure: (e) => (e as Error).message !== 'not found',
      isFailureResult: (r) => r === 503,
    });
    for (let i = 0; i < 5; i++) await settle(breaker.execute(fail('not found')));
    expect(breaker.state).toBe('closed');
    expect(await breaker.execute(() => 503)).toBe(503);
    expect(await breaker.execute(() => 503)).toBe(503);
    expect(breaker.state).toBe('open');
  });
});

describe('failure ratio over a sliding window', () => {
  const options = (extra: Parameters<typeof slidingWindowBreaker>[0] = {}) => ({
    breaker: slidingWindowBreaker({ failureRatio: 0.5, windowMs: 10_000, buckets: 10, minimumVolume: 10, ...extra }),
  });

  it('does not open below the minimum volume, even at 100 % failures', async () => {
    const { breaker } = setup(options());
    for (let i = 0; i < 9; i++) await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('closed');
    await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('open');
  });

  it('opens when the ratio is reached with enough volume, not before', async () => {
    const { breaker } = setup(options());
    for (let i = 0; i < 6; i++) await breaker.execute(ok);
    for (let i = 0; i < 5; i++) await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('closed'); // 5 / 11 < 0.5
    await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('open'); // 6 / 12
  });

  it('forgets failures that slid out of the window', async () => {
    const { clock, breaker } = setup(options());
    for (let i = 0; i < 9; i++) await settle(breaker.execute(fail()));
    await clock.advance(10_000);
    for (let i = 0; i < 9; i++) await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('closed'); // never 10 calls inside one window
    const snapshot = await breaker.snapshot();
    expect(snapshot.window).toEqual({ buckets: [[10_000, 0, 9]] });
    await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('open');
  });

  it('validates its options', () => {
    expect(() => slidingWindowBreaker({ failureRatio: 1.5 })).toThrow(/failureRatio/);
    expect(() => slidingWindowBreaker({ windowMs: 1000, buckets: 3 })).toThrow(/equal buckets/);
    expect(() => slidingWindowBreaker({ minimumVolume: 0 })).toThrow(/minimumVolume/);
  });
});

describe('half-open', () => {
  async function openBreaker(options: CircuitBreakerOptions = {}) {
    const s = setup({ breaker: consecutiveBreaker({ threshold: 1 }), ...options });
    await settle(s.breaker.execute(fail()));
    s.log.length = 0;
    await s.clock.advance(1000);
    return s;
  }

  it('lets one trial through after halfOpenAfterMs; its success closes the circuit', async () => {
    const { breaker, log } = await openBreaker();
    expect(breaker.state).toBe('halfOpen');
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(log).toEqual(['halfOpen', 'reset:halfOpenSuccess']);
  });

  it('a failed trial opens it again', async () => {
    const { breaker, log, clock } = await openBreaker();
    await settle(breaker.execute(fail()));
    expect(breaker.state).toBe('open');
    expect(log).toEqual(['halfOpen', 'break:halfOpenFailure']);
    expect((await breaker.snapshot()).openUntil).toBe(clock.now() + 1000);
  });

  it('runs exactly N trials among concurrent callers; the others fail fast', async () => {
    const { breaker } = await openBreaker({ halfOpenTrials: 2 });
    const trial = gate();
    let ran = 0;
    const calls = Array.from({ length: 5 }, () =>
      settle(
        breaker.execute(async () => {
          ran++;
          await trial.done;
          return 'trial ok';
        }),
      ),
    );
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(ran).toBe(2);
    trial.pass();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok).map((r) => (r as { value: string }).value)).toEqual(['trial ok', 'trial ok']);
    const rejected = results.filter((r) => !r.ok).map((r) => (r as { error: BrokenCircuitError }).error);
    expect(rejected).toHaveLength(3);
    expect(rejected.every((e) => isBrokenCircuitError(e) && e.state === 'halfOpen')).toBe(true);
    expect(breaker.state).toBe('closed'); // 2 of 2 trials succeeded
  });

  it('needs halfOpenSuccessThreshold successes; too many failures reopen', async () => {
    const { breaker } = await openBreaker({ halfOpenTrials: 3, halfOpenSuccessThreshold: 2 });
    const gates = [gate(), gate(), gate()];
    let index = 0;
    const calls = gates.map(() => settle(breaker.execute(() => gates[index++]!.done)));
    await new Promise((r) => setImmediate(r));
    expect(index).toBe(3);
    gates[0]!.fail();
    await new Promise((r) => setImmediate(r));
    expect(breaker.state).toBe('halfOpen'); // one failure is allowed (3 - 2)
    gates[1]!.fail();
    await Promise.all(calls.slice(0, 2));
    expect(breaker.state).toBe('open');
    gates[2]!.pass(); // a late success from the old half-open period changes nothing
    await calls[2];
    expect(breaker.state).toBe('open');
  });

  it('callers beyond the trials can wait for the verdict: all run after a success', async () => {
    const { breaker } = await openBreaker({ whenHalfOpenFull: 'wait' });
    const trial = gate();
    const ran: string[] = [];
    const first = settle(breaker.execute(async () => (ran.push('trial'), await trial.done, 'trial')));
    const waiters = [1, 2, 3].map((n) => settle(breaker.execute(() => (ran.push(`waiter ${n}`), `w${n}`))));
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['trial']);
    trial.pass();
    expect(await first).toEqual({ ok: true, value: 'trial' });
    expect(await Promise.all(waiters)).toEqual([
      { ok: true, value: 'w1' },
      { ok: true, value: 'w2' },
      { ok: true, value: 'w3' },
    ]);
    expect(ran).toEqual(['trial', 'waiter 1', 'waiter 2', 'waiter 3']);
  });

  it('waiting callers fail fast when the trial fails, and a waiter may abort', async () => {
    const { breaker } = await openBreaker({ whenHalfOpenFull: 'wait' });
    const trial = gate();
    let waiterRan = 0;
    const first = settle(breaker.execute(() => trial.done));
    const controller = new AbortController();
    const patient = settle(breaker.execute(() => ++waiterRan));
    const impatient = settle(breaker.execute(() => ++waiterRan, { signal: controller.signal }));
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('caller left'));
    const left = await impatient;
    expect((left as { error: Error }).error.message).toBe('caller left');
    trial.fail();
    expect((await first).ok).toBe(false);
    const patientResult = await patient;
    expect(isBrokenCircuitError((patientResult as { error: unknown }).error)).toBe(true);
    expect((patientResult as { error: BrokenCircuitError }).error.state).toBe('open');
    expect(waiterRan).toBe(0);
  });

  it('a trial that outlives its lease counts as failed and frees waiting callers', async () => {
    const { breaker, clock, log } = await openBreaker({ whenHalfOpenFull: 'wait', trialLeaseMs: 5000 });
    const hung = settle(breaker.execute(() => new Promise(() => {})));
    const waiter = settle(breaker.execute(ok));
    await clock.advance(4999);
    expect(breaker.state).toBe('halfOpen');
    await clock.advance(1);
    const result = await waiter;
    expect(isBrokenCircuitError((result as { error: unknown }).error)).toBe(true);
    expect(log).toEqual(['halfOpen', 'break:halfOpenFailure', 'reject:circuitOpen']);
    void hung;
  });

  it('a trial whose caller cancelled gives its slot back', async () => {
    const { breaker, clock } = await openBreaker();
    const controller = new AbortController();
    const cancelled = settle(breaker.execute(({ signal }) => sleep(60_000, signal, clock), { signal: controller.signal }));
    await new Promise((r) => setImmediate(r));
    const meanwhile = await settle(breaker.execute(ok));
    expect(isBrokenCircuitError((meanwhile as { error: unknown }).error)).toBe(true);
    controller.abort(new Error('cancel'));
    expect((await cancelled).ok).toBe(false);
    expect(breaker.state).toBe('halfOpen'); // neither success nor failure
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('stays open longer after each failed trial when halfOpenAfterMs is a backoff', async () => {
    const s = setup({ breaker: consecutiveBreaker({ threshold: 1 }), halfOpenAfterMs: iterableBackoff([1000, 2000, 4000]) });
    const openDurations: number[] = [];
    s.breaker.on('break', (e) => openDurations.push(e.openUntil! - s.clock.now()));
    await settle(s.breaker.execute(fail()));
    for (let i = 0; i < 3; i++) {
      await s.clock.advance(openDurations.at(-1)!);
      await settle(s.breaker.execute(fail()));
    }
    expect(openDurations).toEqual([1000, 2000, 4000, 4000]);
    await s.clock.advance(4000);
    await s.breaker.execute(ok);
    expect(s.breaker.state).toBe('closed');
    await settle(s.breaker.execute(fail()));
    expect(openDurations.at(-1)).toBe(1000); // closing started the schedule over
  });
});

describe('isolate', () => {
  it('rejects every call until each handle is disposed, then resumes', async () => {
    const { breaker, log } = setup();
    const a = breaker.isolate();
    const b = breaker.isolate();
    let ran = 0;
    const settled = await settle(breaker.execute(() => ++ran));
    expect(isIsolatedCircuitError((settled as { error: unknown }).error)).toBe(true);
    expect(breaker.state).toBe('isolated');
    a.dispose();
    a.dispose(); // idempotent
    expect(breaker.state).toBe('isolated');
    b.dispose();
    expect(breaker.state).toBe('closed');
    expect(await breaker.execute(() => ++ran)).toBe(1);
    expect(log).toEqual(['break:isolated', 'reject:circuitIsolated', 'reset:isolationEnded']);
  });
});

describe('snapshot and restore', () => {
  it('restores an open circuit from JSON, with the same openUntil', async () => {
    const first = setup({ breaker: consecutiveBreaker({ threshold: 1 }) });
    await settle(first.breaker.execute(fail()));
    const saved = JSON.parse(JSON.stringify(await first.breaker.snapshot())) as BreakerSnapshot;
    expect(saved).toMatchObject({ state: 'open', openUntil: 1000, opens: 1 });

    const clock = new FakeClock(200);
    const restored = circuitBreaker({
      breaker: consecutiveBreaker({ threshold: 1 }),
      halfOpenAfterMs: 1000,
      clock,
      initialState: saved,
    });
    expect(restored.state).toBe('open');
    const rejected = await settle(restored.execute(ok));
    expect((rejected as { error: BrokenCircuitError }).error.retryAfterMs).toBe(800);
    await clock.advance(800);
    expect(await restored.execute(ok)).toBe('ok');
    expect(restored.state).toBe('closed');
  });

  it('restores a sliding window mid-count', async () => {
    const strategy = () => slidingWindowBreaker({ minimumVolume: 4, failureRatio: 0.5 });
    const first = setup({ breaker: strategy() });
    for (let i = 0; i < 3; i++) await settle(first.breaker.execute(fail()));
    const saved = await first.breaker.snapshot();
    const restored = circuitBreaker({ breaker: strategy(), clock: first.clock, initialState: saved });
    await settle(restored.execute(fail()));
    expect(restored.state).toBe('open');
  });

  it('refuses a snapshot of another kind of breaker, or a damaged one', async () => {
    const first = setup({ breaker: slidingWindowBreaker() });
    const saved = await first.breaker.snapshot();
    for (const initialState of [saved, { ...saved, state: 'ajar' }, { ...saved, window: { buckets: 'x' } }]) {
      let error: unknown;
      try {
        circuitBreaker({
          breaker: initialState === saved ? consecutiveBreaker() : slidingWindowBreaker(),
          initialState: initialState as BreakerSnapshot,
        });
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error)).toBe(true);
    }
  });
});

describe('state stores', () => {
  it('two breakers on one store share the circuit', async () => {
    const clock = new FakeClock();
    const store = new MemoryBreakerStateStore();
    const options = { breaker: consecutiveBreaker({ threshold: 2 }), store, clock, halfOpenAfterMs: 1000 };
    const a = circuitBreaker(options);
    const b = circuitBreaker(options);
    await settle(a.execute(fail()));
    await settle(b.execute(fail()));
    let ran = 0;
    expect(isBrokenCircuitError(((await settle(a.execute(() => ++ran))) as { error: unknown }).error)).toBe(true);
    expect(isBrokenCircuitError(((await settle(b.execute(() => ++ran))) as { error: unknown }).error)).toBe(true);
    expect(ran).toBe(0);
  });

  it('works with a store whose operations are asynchronous', async () => {
    class SlowStore implements BreakerStateStore {
      readonly name = 'slow';
      readonly inner = new MemoryBreakerStateStore();
      updates = 0;
      async update<R>(transition: (current: BreakerSnapshot | undefined) => Step<R>): Promise<R> {
        await new Promise((r) => setImmediate(r));
        this.updates++;
        return this.inner.update(transition);
      }
      async read() {
        return this.inner.read();
      }
    }
    const store = new SlowStore();
    const clock = new FakeClock();
    const breaker = circuitBreaker({ breaker: consecutiveBreaker({ threshold: 1 }), store, clock, halfOpenAfterMs: 1000 });
    await settle(breaker.execute(fail()));
    await clock.advance(1000);
    let ran = 0;
    const results = await Promise.all([1, 2, 3].map(() => settle(breaker.execute(() => ++ran))));
    expect(ran).toBe(1);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(store.updates).toBeGreaterThan(0);
    expect((await breaker.snapshot()).state).toBe('closed');
  });

  it('rejects a store together with initialState, and unknown options', () => {
    for (const options of [
      { store: new MemoryBreakerStateStore(), initialState: { state: 'closed' } },
      { halfOpenAfter: 1000 },
      { halfOpenTrials: 2, halfOpenSuccessThreshold: 3 },
      { whenHalfOpenFull: 'queue' },
    ]) {
      let error: unknown;
      try {
        circuitBreaker(options as CircuitBreakerOptions);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(options)).toBe(true);
    }
  });
});
