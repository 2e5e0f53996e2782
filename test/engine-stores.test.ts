/**
 * The engine's core promises on every local store, not only the memory store: the engine must
 * not depend on one store's quirks. (PostgreSQL and Redis run their own suites.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InProgressError, Oncekey, ReplayedError, UnserializableResultError, type Store } from '../src/index.js';
import { memoryStore } from '../src/store/memory.js';
import { sqliteStore } from '../src/store/sqlite.js';
import { gate, rejection } from './engine-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'oncekey-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: Array<[string, () => Store]> = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ path: join(dir, `${Math.random().toString(36).slice(2)}.db`) })],
];

describe.each(stores)('engine on the %s store', (_name, create) => {
  it('runs once under 20 concurrent duplicates, replays, releases on error, caches final errors', async () => {
    const store = create();
    const othersWaiting = gate();
    let waiting = 0;
    const oncekey = new Oncekey({
      store,
      ttl: '1h',
      lease: '30s',
      hooks: { onInProgress: () => void (++waiting === 19 && othersWaiting.open()) },
    });
    try {
      let runs = 0;
      const fn = async () => {
        runs++;
        await othersWaiting.promise;
        return { ok: true, n: runs };
      };
      const ref = { scope: 's', key: 'concurrent' };
      const results = await Promise.all(Array.from({ length: 20 }, () => oncekey.run(ref, { x: 1 }, fn)));
      expect(runs).toBe(1);
      expect(results.filter((r) => r.replayed)).toHaveLength(19);
      for (const r of results) expect(r.value).toEqual({ ok: true, n: 1 });

      const failing = { scope: 's', key: 'failing' };
      let failures = 0;
      const fail = () => {
        failures++;
        throw new Error('transient');
      };
      await rejection(oncekey.run(failing, 1, fail));
      await rejection(oncekey.run(failing, 1, fail));
      expect(failures).toBe(2);

      const final = { scope: 's', key: 'final' };
      await rejection(oncekey.run(final, 1, fail, { cacheErrors: true }));
      expect(await rejection(oncekey.run(final, 1, fail))).toBeInstanceOf(ReplayedError);
      expect(failures).toBe(3);

      const bad = { scope: 's', key: 'bad' };
      expect(await rejection(oncekey.run(bad, 1, () => new Map()))).toBeInstanceOf(UnserializableResultError);
      expect(await store.get(bad)).toBeUndefined();

      const held = { scope: 's', key: 'held' };
      const mayFinish = gate();
      const holder = oncekey.run(held, 1, () => mayFinish.promise.then(() => 'held'));
      expect(await rejection(oncekey.run(held, 1, () => 'never', { onInProgress: 'throw' }))).toBeInstanceOf(InProgressError);
      mayFinish.open();
      expect(await holder).toEqual({ value: 'held', replayed: false, attempt: 1 });
    } finally {
      await store.close();
    }
  });
});
