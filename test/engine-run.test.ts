import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  FingerprintMismatchError,
  InvalidKeyError,
  Oncekey,
  ReplayedError,
  StoreUnavailableError,
  UnserializableResultError,
  UnsupportedInputError,
  isReplayedError,
  type Codec,
  type EngineErrorEvent,
  type RunContext,
  type RunResult,
} from '../src/index.js';
import { memoryStore } from '../src/store/memory.js';
import { instrumented, rejection } from './engine-helpers.js';

const ref = { scope: 'charges', key: 'order-1' };

function setup(options: Partial<ConstructorParameters<typeof Oncekey>[0]> = {}) {
  const store = instrumented(memoryStore());
  const oncekey = new Oncekey({ store, ttl: '1h', lease: '30s', ...options });
  return { store, oncekey };
}

describe('Oncekey.run', () => {
  it('runs fn once and replays its result, telling replay from fresh', async () => {
    const { oncekey } = setup();
    let runs = 0;
    const fn = async ({ attempt, recovered }: RunContext) => ({ charge: `ch_${++runs}`, attempt, recovered });
    const first = await oncekey.run(ref, { amount: 500 }, fn);
    const second = await oncekey.run(ref, { amount: 500 }, fn);
    expect(first).toEqual({ value: { charge: 'ch_1', attempt: 1, recovered: false }, replayed: false, attempt: 1 });
    expect(second).toEqual({ value: { charge: 'ch_1', attempt: 1, recovered: false }, replayed: true, attempt: 1 });
    expect(runs).toBe(1);
  });

  it('treats key order as the same input', async () => {
    const { oncekey } = setup();
    let runs = 0;
    await oncekey.run(ref, { a: 1, b: [1, 2] }, () => ++runs);
    const again = await oncekey.run(ref, { b: [1, 2], a: 1 }, () => ++runs);
    expect(again).toEqual({ value: 1, replayed: true, attempt: 1 });
    expect(runs).toBe(1);
  });

  it('keeps scopes apart', async () => {
    const { oncekey } = setup();
    let runs = 0;
    const a = await oncekey.run({ scope: 'tenant-a', key: 'k' }, 1, () => ++runs);
    const b = await oncekey.run({ scope: 'tenant-b', key: 'k' }, 1, () => ++runs);
    expect([a.value, b.value, runs]).toEqual([1, 2, 2]);
  });

  it('mismatch: same key, different input → FingerprintMismatchError, fn not run', async () => {
    const { oncekey } = setup();
    let runs = 0;
    await oncekey.run(ref, { amount: 500 }, () => ++runs);
    const error = await rejection(oncekey.run(ref, { amount: 900 }, () => ++runs));
    expect(error).toBeInstanceOf(FingerprintMismatchError);
    expect((error as FingerprintMismatchError).code).toBe('FINGERPRINT_MISMATCH');
    expect(runs).toBe(1);
  });

  it('a thrown error releases the key: the next call runs again', async () => {
    const { oncekey, store } = setup();
    let runs = 0;
    const boom = new Error('boom');
    const failing = async () => {
      runs++;
      throw boom;
    };
    expect(await rejection(oncekey.run(ref, 1, failing))).toBe(boom);
    expect(await store.get(ref)).toBeUndefined();
    expect(await rejection(oncekey.run(ref, 1, failing))).toBe(boom);
    expect(runs).toBe(2);
    const ok = await oncekey.run(ref, 1, () => ++runs);
    expect(ok).toEqual({ value: 3, replayed: false, attempt: 1 });
  });

  it('a synchronous throw is handled like a rejection', async () => {
    const { oncekey, store } = setup();
    const boom = new TypeError('sync');
    expect(
      await rejection(
        oncekey.run(ref, 1, () => {
          throw boom;
        }),
      ),
    ).toBe(boom);
    expect(await store.get(ref)).toBeUndefined();
  });

  it('cacheErrors: true stores the error; later calls get a ReplayedError, fn ran once', async () => {
    const { oncekey } = setup();
    let runs = 0;
    const declined = Object.assign(new Error('card declined'), { code: 'card_declined' });
    declined.name = 'PaymentError';
    const fn = async () => {
      runs++;
      throw declined;
    };
    expect(await rejection(oncekey.run(ref, 1, fn, { cacheErrors: true }))).toBe(declined);
    const replayed = await rejection(oncekey.run(ref, 1, fn, { cacheErrors: true }));
    expect(replayed).toBeInstanceOf(ReplayedError);
    expect(isReplayedError(replayed)).toBe(true);
    const e = replayed as ReplayedError;
    expect(e.code).toBe('REPLAYED_ERROR');
    expect(e.message).toBe('card declined');
    expect(e.original).toEqual({ name: 'PaymentError', message: 'card declined', code: 'card_declined' });
    expect(e.ref).toEqual(ref);
    // Replays do not depend on the caller's cacheErrors: the outcome is stored.
    expect(await rejection(oncekey.run(ref, 1, fn))).toBeInstanceOf(ReplayedError);
    expect(runs).toBe(1);
  });

  it('cacheErrors predicate: final errors are stored, others release', async () => {
    const reported: EngineErrorEvent[] = [];
    const { oncekey } = setup({ hooks: { onError: (e) => reported.push(e) } });
    const isFinal = (e: unknown) => (e as { code?: string }).code === 'card_declined';
    let runs = 0;
    const transient = () => {
      runs++;
      throw Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' });
    };
    await rejection(oncekey.run(ref, 1, transient, { cacheErrors: isFinal }));
    await rejection(oncekey.run(ref, 1, transient, { cacheErrors: isFinal }));
    expect(runs).toBe(2);
    const final = () => {
      runs++;
      throw Object.assign(new Error('declined'), { code: 'card_declined' });
    };
    await rejection(oncekey.run(ref, 1, final, { cacheErrors: isFinal }));
    expect(await rejection(oncekey.run(ref, 1, final, { cacheErrors: isFinal }))).toBeInstanceOf(ReplayedError);
    expect(runs).toBe(3);

    // A predicate that throws counts as "not final", and is reported.
    const other = { scope: 'charges', key: 'order-2' };
    const broken = () => {
      throw new Error('predicate bug');
    };
    await rejection(oncekey.run(other, 1, transient, { cacheErrors: broken }));
    const again = await oncekey.run(other, 1, () => 'ran again', { cacheErrors: broken });
    expect(again).toEqual({ value: 'ran again', replayed: false, attempt: 1 });
    expect(reported.map((r) => [r.during, (r.error as Error).message])).toEqual([['cacheErrors', 'predicate bug']]);
  });

  it('stores non-Error throws too', async () => {
    const { oncekey } = setup();
    expect(
      await rejection(
        oncekey.run(
          ref,
          1,
          () => {
            throw 'plain string';
          },
          { cacheErrors: true },
        ),
      ),
    ).toBe('plain string');
    const replayed = (await rejection(oncekey.run(ref, 1, () => 0))) as ReplayedError;
    expect(replayed.original).toEqual({ name: 'Error', message: 'plain string' });
  });

  it('an unserializable result is an error at commit: key released, nothing replayed', async () => {
    const { oncekey, store } = setup();
    let runs = 0;
    const error = await rejection(oncekey.run(ref, 1, () => ({ runs: ++runs, at: new Date() })));
    expect(error).toBeInstanceOf(UnserializableResultError);
    expect((error as UnserializableResultError).path).toBe('result.at');
    expect(await store.get(ref)).toBeUndefined();
    expect(store.calls.commit).toBe(0);
    const next = await oncekey.run(ref, 1, () => ({ runs: ++runs }));
    expect(next).toEqual({ value: { runs: 2 }, replayed: false, attempt: 1 });
  });

  it('supports void functions', async () => {
    const { oncekey } = setup();
    let runs = 0;
    const fn = async (): Promise<void> => {
      runs++;
    };
    expect(await oncekey.run(ref, 1, fn)).toEqual({ value: undefined, replayed: false, attempt: 1 });
    expect(await oncekey.run(ref, 1, fn)).toEqual({ value: undefined, replayed: true, attempt: 1 });
    expect(runs).toBe(1);
  });

  it('uses a custom codec for what JSON cannot carry', async () => {
    const dateCodec: Codec = {
      encode: (v) => JSON.stringify({ date: (v as Date).toISOString() }),
      decode: (s) => new Date((JSON.parse(s) as { date: string }).date),
    };
    const { oncekey } = setup({ codec: dateCodec });
    const at = new Date(Date.UTC(2024, 4, 1));
    await oncekey.run(ref, 1, () => at);
    const replay = await oncekey.run(ref, 1, () => new Date(0));
    expect(replay.replayed).toBe(true);
    expect(replay.value).toBeInstanceOf(Date);
    expect(replay.value).toEqual(at);
  });

  it('a codec that throws gives UnserializableResultError with the cause, and releases', async () => {
    const cause = new Error('no can do');
    const { oncekey, store } = setup({
      codec: {
        encode: () => {
          throw cause;
        },
        decode: (s) => s,
      },
    });
    const error = (await rejection(oncekey.run(ref, 1, () => 1))) as UnserializableResultError;
    expect(error).toBeInstanceOf(UnserializableResultError);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('no can do');
    expect(await store.get(ref)).toBeUndefined();
  });

  it('rejects bad refs with InvalidKeyError before touching the store', async () => {
    const { oncekey, store } = setup();
    for (const bad of [
      { scope: 's', key: '' },
      { scope: 's', key: 'k'.repeat(256) },
      { scope: '', key: 'k' },
      { scope: 's', key: 5 },
    ]) {
      expect(await rejection(oncekey.run(bad as never, 1, () => 1))).toBeInstanceOf(InvalidKeyError);
    }
    expect(await oncekey.run({ scope: 's', key: 'k'.repeat(255) }, 1, () => 1)).toMatchObject({ replayed: false });
    expect(store.calls.begin).toBe(1);
  });

  it('rejects inputs that cannot be fingerprinted before touching the store', async () => {
    const { oncekey, store } = setup();
    let runs = 0;
    const error = await rejection(oncekey.run(ref, { items: [{ price: 1 }, { price: NaN }] }, () => ++runs));
    expect(error).toBeInstanceOf(UnsupportedInputError);
    expect((error as UnsupportedInputError).path).toBe('input.items[1].price');
    expect(runs).toBe(0);
    expect(store.calls.begin).toBe(0);
  });

  it('a failed release never hides the original error; it is reported', async () => {
    const reported: EngineErrorEvent[] = [];
    const unavailable = new StoreUnavailableError('test', 'release refused');
    const store = instrumented(memoryStore(), { release: () => unavailable });
    const oncekey = new Oncekey({ store, ttl: '1h', lease: '30s', hooks: { onError: (e) => reported.push(e) } });
    const boom = new Error('boom');
    expect(
      await rejection(
        oncekey.run(ref, 1, () => {
          throw boom;
        }),
      ),
    ).toBe(boom);
    expect(reported).toEqual([{ ref, during: 'release', error: unavailable }]);
  });

  it('without an onError hook, an unreported failure becomes a process warning', async () => {
    const warnings: Error[] = [];
    const listener = (w: Error) => warnings.push(w);
    process.on('warning', listener);
    try {
      const store = instrumented(memoryStore(), { release: () => new StoreUnavailableError('test', 'down') });
      const oncekey = new Oncekey({ store, ttl: '1h', lease: '30s' });
      await rejection(
        oncekey.run(ref, 1, () => {
          throw new Error('boom');
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/release on charges\/order-1.*down/)]);
  });
});

describe('Oncekey.wrap', () => {
  interface Order {
    tenant: string;
    id: string;
    amount: number;
    requestId?: string;
  }

  it('wraps a function, typed end to end', async () => {
    const { oncekey } = setup();
    let runs = 0;
    const charge = oncekey.wrap(async (order: Order, run) => ({ charge: `ch_${++runs}`, amount: order.amount, attempt: run.attempt }), {
      scope: (order) => `${order.tenant}:charge`,
      key: (order) => order.id,
    });
    expectTypeOf(charge).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(charge).returns.toEqualTypeOf<Promise<{ charge: string; amount: number; attempt: number }>>();
    expectTypeOf(charge.detailed).returns.toEqualTypeOf<Promise<RunResult<{ charge: string; amount: number; attempt: number }>>>();

    const order = { tenant: 't1', id: 'o1', amount: 5 };
    expect(await charge(order)).toEqual({ charge: 'ch_1', amount: 5, attempt: 1 });
    expect(await charge.detailed(order)).toEqual({ value: { charge: 'ch_1', amount: 5, attempt: 1 }, replayed: true, attempt: 1 });
    expect(await charge({ ...order, tenant: 't2' })).toEqual({ charge: 'ch_2', amount: 5, attempt: 1 });
    expect(runs).toBe(2);
  });

  it('fingerprints only what the fingerprint option picks', async () => {
    const { oncekey } = setup();
    let runs = 0;
    const charge = oncekey.wrap((_order: Order) => ++runs, {
      scope: 'charge',
      key: (order) => order.id,
      fingerprint: ({ amount }) => ({ amount }),
    });
    expect(await charge({ tenant: 't', id: 'o', amount: 5, requestId: 'r1' })).toBe(1);
    expect(await charge({ tenant: 't', id: 'o', amount: 5, requestId: 'r2' })).toBe(1);
    expect(await rejection(charge({ tenant: 't', id: 'o', amount: 6 }))).toBeInstanceOf(FingerprintMismatchError);
    const nan = await rejection(charge({ tenant: 't', id: 'p', amount: NaN }));
    expect((nan as UnsupportedInputError).path).toBe('fingerprint(input).amount');
    expect(runs).toBe(1);
  });

  it('rejects a key function that returns no valid key', async () => {
    const { oncekey } = setup();
    const fn = oncekey.wrap((input: { id?: string }) => input, { scope: 'x', key: (input) => input.id as string });
    expect(await rejection(fn({}))).toBeInstanceOf(InvalidKeyError);
  });
});
