import { describe, expect, it } from 'vitest';
import { InvalidOptionError, Oncekey, type OncekeyOptions } from '../src/index.js';
import { memoryStore } from '../src/store/memory.js';
import { rejection } from './engine-helpers.js';

const store = memoryStore();
const valid = { store, ttl: '1h', lease: '30s' } as const;

function optionError(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidOptionError);
    return e as InvalidOptionError;
  }
  throw new Error('expected InvalidOptionError, nothing was thrown');
}

describe('Oncekey options', () => {
  it('accepts durations as milliseconds or strings', () => {
    expect(() => new Oncekey({ store, ttl: 86_400_000, lease: 30_000 })).not.toThrow();
    expect(() => new Oncekey({ ...valid, wait: { timeout: '5s', minDelay: '20ms', maxDelay: '2s' } })).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown option', { ...valid, leese: '5s' }, 'Oncekey.leese'],
    ['a missing store', { ttl: '1h', lease: '30s' }, 'Oncekey.store'],
    ['a store without begin', { ...valid, store: { commit() {} } }, 'Oncekey.store'],
    ['a missing ttl', { store, lease: '30s' }, 'Oncekey.ttl'],
    ['a missing lease', { store, ttl: '1h' }, 'Oncekey.lease'],
    ['a bad ttl', { ...valid, ttl: 'forever' }, 'Oncekey.ttl'],
    ['a zero lease', { ...valid, lease: 0 }, 'Oncekey.lease'],
    ['a unitless string', { ...valid, lease: '30' }, 'Oncekey.lease'],
    ['ttl shorter than lease', { store, ttl: '10s', lease: '30s' }, 'Oncekey.ttl'],
    ['a lease no timer can wait for', { store, ttl: '365d', lease: '30d' }, 'Oncekey.lease'],
    ['a bad clock', { ...valid, clock: {} }, 'Oncekey.clock'],
    ['a bad codec', { ...valid, codec: { encode: JSON.stringify } }, 'Oncekey.codec'],
    ['an unknown hook', { ...valid, hooks: { onReplayed: () => {} } }, 'Oncekey.hooks.onReplayed'],
    ['a hook that is not a function', { ...valid, hooks: { onReplay: 'log' } }, 'Oncekey.hooks.onReplay'],
    ['an unknown wait option', { ...valid, wait: { timout: '5s' } }, 'Oncekey.wait.timout'],
    ['a bad wait timeout', { ...valid, wait: { timeout: -1 } }, 'Oncekey.wait.timeout'],
    ['maxDelay below minDelay', { ...valid, wait: { minDelay: '1s', maxDelay: '10ms' } }, 'Oncekey.wait.maxDelay'],
    ['a bad random', { ...valid, random: 0.5 }, 'Oncekey.random'],
  ])('rejects %s at construction', (_name, options, option) => {
    const error = optionError(() => new Oncekey(options as unknown as OncekeyOptions));
    expect(error.option).toBe(option);
    expect(error.message).toContain(option);
  });

  it('rejects a non-object', () => {
    expect(optionError(() => new Oncekey(undefined as never)).option).toBe('Oncekey');
  });

  it('validates wrap options when wrapping, not at the first call', () => {
    const oncekey = new Oncekey(valid);
    const fn = (x: { id: string }) => x.id;
    const key = (x: { id: string }) => x.id;
    expect(optionError(() => oncekey.wrap(fn, { scope: 's', key, leese: '1s' } as never)).option).toBe('wrap.leese');
    expect(optionError(() => oncekey.wrap(fn, { scope: 's', key, ttl: '1s' })).option).toBe('wrap.ttl');
    expect(optionError(() => oncekey.wrap(fn, { scope: 's', key, onInProgress: 'queue' as never })).option).toBe('wrap.onInProgress');
    expect(optionError(() => oncekey.wrap(fn, { scope: 's', key, cacheErrors: 'yes' as never })).option).toBe('wrap.cacheErrors');
    expect(optionError(() => oncekey.wrap(fn, { scope: 's', key, wait: { timeout: 'soon' } })).option).toBe('wrap.wait.timeout');
    expect(optionError(() => oncekey.wrap(fn, { scope: 's' } as never)).option).toBe('wrap.key');
    expect(optionError(() => oncekey.wrap(fn, { key } as never)).option).toBe('wrap.scope');
    expect(optionError(() => oncekey.wrap(fn, { scope: 's', key, fingerprint: 'id' as never })).option).toBe('wrap.fingerprint');
    expect(() => oncekey.wrap(fn, { scope: 's', key, ttl: '2h', lease: '1m', wait: { timeout: '10s' } })).not.toThrow();
  });

  it('validates run options on each call, before anything runs', async () => {
    const oncekey = new Oncekey(valid);
    let runs = 0;
    const error = await rejection(oncekey.run({ scope: 's', key: 'k' }, 1, () => ++runs, { lease: '2h' }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('run.lease');
    expect(runs).toBe(0);
  });
});
