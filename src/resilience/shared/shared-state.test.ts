import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../../core/errors/invalid-option.js';
import { isStoreUnavailableError } from '../../core/errors/store-unavailable.js';
import { circuitBreaker, type CircuitBreakerPolicy } from '../breaker/circuit-breaker.js';
import { consecutiveBreaker } from '../breaker/consecutive.js';
import { FakeClock } from '../../core/fake-clock.js';
import { isBrokenCircuitError } from '../errors/broken-circuit.js';
import { postgresBreakerState } from './postgres-breaker-state.js';
import { redisBreakerState } from './redis-breaker-state.js';
import {
  SharedBreakerState,
  type BreakerStateBackend,
  type CommitAnswer,
  type StateStoreRecoveredEvent,
  type StateStoreUnavailableEvent,
  type VersionedSnapshot,
} from './shared-state.js';

/**
 * A database in memory with the backend contract, asynchronous like a real one (every call
 * yields), that can be taken down or made to hang.
 */
class FakeDatabase {
  value: VersionedSnapshot = { version: '', json: '' };
  mode: 'up' | 'down' | 'hang' = 'up';
  reads = 0;
  commits = 0;
  writes = 0;

  backend(): BreakerStateBackend {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the closures below read the live mode
    const db = this;
    const reach = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      if (db.mode === 'down') throw new Error('ECONNREFUSED');
      if (db.mode === 'hang') await new Promise(() => {});
    };
    return {
      name: 'fake',
      async read() {
        await reach();
        db.reads++;
        return db.value;
      },
      async commit(expected, write): Promise<CommitAnswer> {
        await reach();
        db.commits++;
        if (db.value.version !== expected) return { ok: false, current: db.value };
        if (write !== undefined) {
          db.value = write;
          db.writes++;
        }
        return { ok: true };
      },
    };
  }

  get snapshot(): unknown {
    return this.value.json === '' ? undefined : JSON.parse(this.value.json);
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };
const settle = (p: Promise<unknown>): Promise<Settled> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

function instance(db: FakeDatabase, clock: FakeClock, options: { threshold?: number; trials?: number } = {}) {
  const state = new SharedBreakerState(db.backend(), { clock, timeoutMs: 500, retryStoreAfterMs: 2000 });
  const events: string[] = [];
  const unavailable: StateStoreUnavailableEvent[] = [];
  const recovered: StateStoreRecoveredEvent[] = [];
  state.on('stateStoreUnavailable', (e) => (unavailable.push(e), events.push('unavailable')));
  state.on('stateStoreRecovered', (e) => (recovered.push(e), events.push('recovered')));
  const breaker = circuitBreaker({
    breaker: consecutiveBreaker({ threshold: options.threshold ?? 2 }),
    halfOpenAfterMs: 1000,
    halfOpenTrials: options.trials ?? 1,
    store: state,
    clock,
  });
  let ran = 0;
  const call = (outcome: 'ok' | 'fail' = 'ok'): Promise<Settled> =>
    settle(
      breaker.execute(() => {
        ran++;
        if (outcome === 'fail') throw new Error('dependency failed');
        return 'ok';
      }),
    );
  return { state, breaker, call, events, unavailable, recovered, ran: () => ran };
}

const rejected = (s: Settled): boolean => !s.ok && isBrokenCircuitError(s.error);

describe('SharedBreakerState: one circuit for many instances', () => {
  it('one instance trips the circuit; another sees it open without calling the dependency', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    const b = instance(db, clock);
    expect((await b.call()).ok).toBe(true); // b has seen the circuit closed
    await a.call('fail');
    await a.call('fail');
    expect(a.breaker.state).toBe('open');
    expect(db.snapshot).toMatchObject({ state: 'open', openUntil: 1000 });

    expect(rejected(await b.call())).toBe(true);
    expect(b.ran()).toBe(1);
    expect(b.breaker.state).toBe('open');
  });

  it('failures counted by different instances add up', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const [a, b, c] = [instance(db, clock, { threshold: 3 }), instance(db, clock, { threshold: 3 }), instance(db, clock, { threshold: 3 })];
    await a!.call('fail');
    await b!.call('fail');
    expect(db.snapshot).toMatchObject({ state: 'closed', window: { failures: 2 } });
    await c!.call('fail');
    expect(db.snapshot).toMatchObject({ state: 'open' });
  });

  it('concurrent failures from many instances are all counted (compare-and-set retries on conflict)', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const instances = Array.from({ length: 5 }, () => instance(db, clock, { threshold: 100 }));
    await Promise.all(instances.flatMap((i) => [i.call('fail'), i.call('fail'), i.call('fail')]));
    expect(db.snapshot).toMatchObject({ state: 'closed', window: { failures: 15 } });
    expect(db.commits).toBeGreaterThan(15); // some commits lost a race and ran again
  });

  it('half-open: concurrent callers on several instances get exactly one trial', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const instances = Array.from({ length: 4 }, () => instance(db, clock));
    await instances[0]!.call('fail');
    await instances[0]!.call('fail');
    await clock.advance(1000);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let trials = 0;
    const calls = instances.flatMap((i) => [1, 2, 3].map(() => settle(i.breaker.execute(async () => (trials++, await held, 'trial')))));
    for (let i = 0; i < 20; i++) await clock.flush();
    expect(trials).toBe(1);
    release();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter(rejected)).toHaveLength(11);
    expect(db.snapshot).toMatchObject({ state: 'closed' });
    // Every instance now sees the closed circuit and runs calls again.
    for (const i of instances) expect((await i.call()).ok).toBe(true);
  });

  it('a trial whose instance died frees its slot when its lease runs out', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const state = () => new SharedBreakerState(db.backend(), { clock });
    const options = { breaker: consecutiveBreaker({ threshold: 1 }), halfOpenAfterMs: 1000, trialLeaseMs: 5000, clock };
    const dying: CircuitBreakerPolicy = circuitBreaker({ ...options, store: state() });
    const survivor = circuitBreaker({ ...options, store: state() });
    await settle(dying.execute(() => Promise.reject(new Error('down'))));
    await clock.advance(1000);
    void dying.execute(() => new Promise(() => {})); // the trial that never reports back
    await clock.flush();
    expect(rejected(await settle(survivor.execute(() => 'x')))).toBe(true);
    await clock.advance(5000);
    // The lost lease counted as a failed trial: open again, then half-open after another second.
    expect(rejected(await settle(survivor.execute(() => 'x')))).toBe(true);
    await clock.advance(1000);
    expect(await survivor.execute(() => 'x')).toBe('x');
  });
});

describe('SharedBreakerState: round trips', () => {
  it('a call on a closed circuit costs two version compares (admit, record) and no read; a success that changes nothing writes nothing', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    await a.call();
    const before = { reads: db.reads, commits: db.commits, writes: db.writes };
    await a.call();
    // admit: one compare of the version (no write); success with no failures counted: unchanged.
    expect({ reads: db.reads - before.reads, commits: db.commits - before.commits, writes: db.writes - before.writes }).toEqual({
      reads: 0,
      commits: 2,
      writes: 0,
    });
    await a.call('fail');
    expect(db.writes - before.writes).toBe(1);
  });

  it('never decides on a stale snapshot: a cached closed state is checked before a call runs', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    const b = instance(db, clock);
    await b.call(); // b caches "closed"
    await a.call('fail');
    await a.call('fail');
    const ranBefore = b.ran();
    expect(rejected(await b.call())).toBe(true);
    expect(b.ran()).toBe(ranBefore);
  });
});

describe('SharedBreakerState: store unavailable', () => {
  it('falls back to local state, says so once, keeps protecting, and resumes the shared state when the store is back', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    await a.call('fail'); // shared: one failure counted
    db.mode = 'down';

    const first = await a.call('fail'); // the store fails: local state, seeded with failures: 1
    expect(first.ok).toBe(false);
    expect(a.events).toEqual(['unavailable']);
    expect(isStoreUnavailableError(a.unavailable[0]!.error)).toBe(true);
    expect(a.state.local).toBe(true);
    expect(a.breaker.state).toBe('open'); // the local count reached the threshold
    const ran = a.ran();
    expect(rejected(await a.call())).toBe(true); // still protecting, without the store
    expect(a.ran()).toBe(ran);
    expect(a.events).toEqual(['unavailable']); // once per outage, not per call

    // The store comes back; the next update after retryStoreAfterMs uses it again.
    db.mode = 'up';
    await clock.advance(1000); // the local circuit half-opens, but the store is not tried yet
    const commits = db.commits;
    expect((await a.call()).ok).toBe(true); // local trial succeeds
    expect(db.commits).toBe(commits);
    await clock.advance(1000);
    await a.call();
    expect(a.events).toEqual(['unavailable', 'recovered']);
    expect(a.recovered[0]).toEqual({ store: 'fake', localForMs: 2000 });
    expect(a.state.local).toBe(false);
    expect(db.commits).toBeGreaterThan(commits);
  });

  it('on recovery the shared state wins over what happened locally', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    const b = instance(db, clock);
    await a.call();
    db.mode = 'down';
    expect((await a.call('fail')).ok).toBe(false); // counted on local state only
    expect(await a.breaker.snapshot()).toMatchObject({ state: 'closed', window: { failures: 1 } });
    db.mode = 'up';
    await clock.advance(2000); // a's next update probes the store
    await b.call('fail');
    await b.call('fail'); // meanwhile the fleet's circuit has just opened
    expect(db.snapshot).toMatchObject({ state: 'open', openUntil: clock.now() + 1000 });

    // Local state would run the call (closed, one failure below the threshold); the shared state refuses it.
    const ran = a.ran();
    const outcome = await a.call();
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? undefined : isBrokenCircuitError(outcome.error)).toBe(true);
    expect(a.ran()).toBe(ran);
    expect(a.events).toEqual(['unavailable', 'recovered']);
    expect(a.state.local).toBe(false);
    expect(a.breaker.state).toBe('open');
  });

  it('a store that does not answer counts as unavailable after timeoutMs', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    await a.call();
    db.mode = 'hang';
    const call = a.call();
    await clock.advance(499);
    expect(a.events).toEqual([]);
    await clock.advance(1);
    expect((await call).ok).toBe(true); // the call itself ran, on local state
    expect(a.events).toEqual(['unavailable']);
    expect(String((a.unavailable[0]!.error as Error).message)).toMatch(/no answer within 500 ms/);
  });

  it('snapshot() answers from local state while the store is down', async () => {
    const db = new FakeDatabase();
    const clock = new FakeClock();
    const a = instance(db, clock);
    await a.call('fail');
    db.mode = 'down';
    expect(await a.breaker.snapshot()).toMatchObject({ state: 'closed', window: { failures: 1 } });
    expect(a.events).toEqual(['unavailable']);
  });
});

describe('options', () => {
  it('reject unknown options and bad values', () => {
    const client = { evalsha: async () => [1], eval: async () => [1] };
    const pool = { query: async () => ({ rows: [] }) };
    const attempts: Array<() => unknown> = [
      () => redisBreakerState({ client, key: '' }),
      () => redisBreakerState({ client: {} as never, key: 'k' }),
      () => redisBreakerState({ client, key: 'k', ttl: 5 } as never),
      () => redisBreakerState({ client, key: 'k', timeoutMs: 0 }),
      () => postgresBreakerState({ pool, name: 'n', table: 'Bad-Name' }),
      () => postgresBreakerState({ pool: {} as never, name: 'n' }),
      () => postgresBreakerState({ pool, name: 'n', retryStoreAfterMs: -1 }),
      () => new SharedBreakerState({ name: 'x' } as never),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), String(attempt)).toBe(true);
    }
  });
});
