import { describe, expect, it, vi } from 'vitest';
import { Emitter, type PolicyEvents } from './events.js';
import { FakeClock } from '../core/fake-clock.js';
import { retry } from './retry.js';
import { constantBackoff } from './backoff/constant.js';

describe('Emitter', () => {
  it('delivers typed events and unsubscribes', () => {
    const emitter = new Emitter<PolicyEvents>();
    const seen: number[] = [];
    const off = emitter.on('retry', (e) => seen.push(e.attempt));
    emitter.emit('retry', { attempt: 1, delayMs: 5, delaySource: 'backoff' });
    off();
    emitter.emit('retry', { attempt: 2, delayMs: 5, delaySource: 'backoff' });
    expect(seen).toEqual([1]);
  });

  it('reports a throwing listener and still calls the others', () => {
    const reported: Array<[unknown, string]> = [];
    const emitter = new Emitter<PolicyEvents>((error, event) => reported.push([error, event]));
    const seen: string[] = [];
    emitter.on('reset', () => {
      throw new Error('listener bug');
    });
    emitter.on('reset', (e) => seen.push(e.reason));
    emitter.emit('reset', { reason: 'halfOpenSuccess' });
    expect(seen).toEqual(['halfOpenSuccess']);
    expect(reported).toHaveLength(1);
    expect(reported[0]![1]).toBe('reset');
  });
});

describe('a policy whose listener throws', () => {
  it('keeps retrying and returns the result', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const clock = new FakeClock();
      const policy = retry({ maxAttempts: 3, backoff: constantBackoff(10), clock });
      policy.on('retry', () => {
        throw new Error('bad listener');
      });
      policy.on('failure', () => {
        throw new Error('bad listener too');
      });
      let calls = 0;
      const result = policy.execute(() => {
        calls++;
        if (calls < 3) throw new Error('flaky');
        return 'ok';
      });
      await clock.runAll();
      await expect(result).resolves.toBe('ok');
      expect(calls).toBe(3);
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });
});
