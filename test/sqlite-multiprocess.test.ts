/**
 * sqliteStore shared by several OS processes on one database file: exactly one `acquired` per key,
 * every process sees the same outcome, fencing holds across processes, and a SIGKILLed process
 * loses neither an acknowledged commit nor the key it held (after one lease).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteStore } from '../src/store/sqlite.js';
import { startChildren, type Child } from './fixtures/sqlite-child.js';
import type { BeginSummary } from './fixtures/sqlite-worker.js';

const PROCESSES = 4;
const SCOPE = 'multiprocess'; // as in the worker
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let path: string;
let children: Child[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'oncekey-sqlite-mp-'));
  path = join(dir, 'shared.db');
});

afterEach(async () => {
  await Promise.all(children.map((c) => c.stop()));
  children = [];
  rmSync(dir, { recursive: true, force: true });
});

type Results = Record<string, BeginSummary>;

/** Every process gets the same start instant, a little ahead so all commands have arrived. */
const beginAll = (keys: string[], leaseMs: number, ttlMs: number) => ({ keys, leaseMs, ttlMs, startAt: Date.now() + 200 });

/** Per key: which workers got which kind. */
function byKey(keys: string[], results: Results[]) {
  return keys.map((key) => ({ key, answers: results.map((r, worker) => ({ worker, ...r[key]! })) }));
}

describe('sqliteStore across processes', () => {
  it('grants each key to exactly one process, and every process replays the same outcome', async () => {
    // The children all open the fresh file at once: schema creation must survive that race too.
    children = await startChildren(path, PROCESSES);
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    const opts = { keys, leaseMs: 60_000, ttlMs: 3_600_000 };

    // Phase 1: every process begins every key, concurrently, in its own random order.
    const first = await Promise.all(children.map((c) => c.send<Results>('beginAll', beginAll(keys, 60_000, 3_600_000))));
    const holders = new Map<string, number>();
    for (const { key, answers } of byKey(keys, first)) {
      const acquired = answers.filter((a) => a.kind === 'acquired');
      expect(acquired, key).toHaveLength(1);
      expect(acquired[0]).toMatchObject({ attempt: 1, recovered: false });
      expect(
        answers.filter((a) => a.kind === 'in_progress'),
        key,
      ).toHaveLength(PROCESSES - 1);
      holders.set(key, acquired[0]!.worker);
    }
    // With 4 processes racing on 200 keys, more than one process should have won some keys;
    // if one always won, the test would not be exercising contention at all.
    expect(new Set(holders.values()).size).toBeGreaterThan(1);

    // Phase 2: holders commit while the others poll for the replay, all interleaved.
    const outcomes = await Promise.all(
      children.map((c, worker) => {
        const tokens = Object.fromEntries(keys.filter((k) => holders.get(k) === worker).map((k) => [k, first[worker]![k]!.token!]));
        return c.send<Record<string, string>>('settle', { ...opts, tokens });
      }),
    );
    for (const key of keys) {
      const expected = `worker ${holders.get(key)} ran ${key}`;
      for (const seen of outcomes) expect(seen[key]).toBe(expected);
    }
  });

  it('lets exactly one process take over each expired lease, and fences the old holders out', async () => {
    children = await startChildren(path, PROCESSES);
    const keys = Array.from({ length: 100 }, (_, i) => `lease-${i}`);
    const opts = { keys, leaseMs: 60_000, ttlMs: 3_600_000 };

    const first = await Promise.all(children.map((c) => c.send<Results>('beginAll', beginAll(keys, 60_000, 3_600_000))));
    // Every process's clock jumps past the lease: all holders are now stale.
    await Promise.all(children.map((c) => c.send('advance', { ms: 120_000 })));
    const second = await Promise.all(children.map((c) => c.send<Results>('beginAll', beginAll(keys, 60_000, 3_600_000))));

    const oldTokens: Record<string, string>[] = children.map(() => ({}));
    const newTokens: Record<string, string>[] = children.map(() => ({}));
    const newHolder = new Map<string, number>();
    for (const { key, answers } of byKey(keys, second)) {
      const acquired = answers.filter((a) => a.kind === 'acquired');
      expect(acquired, key).toHaveLength(1);
      expect(acquired[0]).toMatchObject({ attempt: 2, recovered: true });
      for (const a of answers.filter((x) => x.kind !== 'acquired')) expect(a).toMatchObject({ kind: 'in_progress', attempt: 2 });
      newTokens[acquired[0]!.worker]![key] = acquired[0]!.token!;
      newHolder.set(key, acquired[0]!.worker);
      const oldWorker = byKey([key], first)[0]!.answers.find((a) => a.kind === 'acquired')!;
      oldTokens[oldWorker.worker]![key] = oldWorker.token!;
    }

    // Stale holders and new holders commit concurrently: only the new tokens get through.
    const [stale, fresh] = await Promise.all([
      Promise.all(children.map((c, w) => c.send<Record<string, string>>('commitAll', { ...opts, tokens: oldTokens[w] }))),
      Promise.all(children.map((c, w) => c.send<Record<string, string>>('commitAll', { ...opts, tokens: newTokens[w] }))),
    ]);
    for (const r of stale) for (const code of Object.values(r)) expect(code).toBe('LEASE_LOST');
    for (const r of fresh) for (const code of Object.values(r)) expect(code).toBe('ok');
    expect(fresh.reduce((n, r) => n + Object.keys(r).length, 0)).toBe(keys.length);

    const replays = await Promise.all(children.map((c) => c.send<Results>('beginAll', beginAll(keys, 60_000, 3_600_000))));
    for (const { key, answers } of byKey(keys, replays)) {
      for (const { kind, outcome } of answers)
        expect({ kind, outcome }).toEqual({ kind: 'replay', outcome: `worker ${newHolder.get(key)} ran ${key}` });
    }
  });

  it('after a SIGKILL, keeps the acknowledged commit and hands the held key over after its lease', async () => {
    const [victim] = (children = await startChildren(path, 1));
    // Real clock and a short real lease: the parent waits it out, nothing is asserted about timing.
    const opts = { leaseMs: 200, ttlMs: 3_600_000 };
    const committed = await victim!.send<string>('acquireAndCommit', { key: 'done', ...opts });
    const held = await victim!.send<BeginSummary>('begin', { key: 'held', ...opts });
    expect(held).toMatchObject({ kind: 'acquired', attempt: 1 });
    expect(await victim!.kill('SIGKILL')).toBe('SIGKILL');

    // This test process is the survivor, on its own connection to the file the victim left.
    const store = sqliteStore({ path });
    try {
      const during = await store.begin({ scope: SCOPE, key: 'held' }, 'fp', opts);
      // Normally still leased; on a very slow machine the lease may already be over.
      if (during.kind !== 'acquired') expect(during).toMatchObject({ kind: 'in_progress', attempt: 1 });
      else expect(during).toMatchObject({ recovered: true, attempt: 2 });
      if (during.kind !== 'acquired') {
        while (Date.now() <= held.leaseUntil!) await sleep(held.leaseUntil! - Date.now() + 20);
        const after = await store.begin({ scope: SCOPE, key: 'held' }, 'fp', opts);
        expect(after).toMatchObject({ kind: 'acquired', recovered: true, attempt: 2 });
      }
      expect(await store.begin({ scope: SCOPE, key: 'done' }, 'fp', opts)).toMatchObject({ kind: 'replay', outcome: committed });
    } finally {
      await store.close();
    }
  });

  it('loses no acknowledged commit when a writing process is SIGKILLed mid-stream', async () => {
    const [victim] = (children = await startChildren(path, 1));
    victim!.fire('commitForever', { prefix: 'stream', leaseMs: 60_000, ttlMs: 3_600_000 });
    while (victim!.acks.length < 300) await sleep(5);
    expect(await victim!.kill('SIGKILL')).toBe('SIGKILL');
    const acked = [...victim!.acks];

    const raw = new Database(path);
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      raw.close();
    }
    const store = sqliteStore({ path });
    try {
      for (const { ack, outcome } of acked) {
        expect(await store.begin({ scope: SCOPE, key: ack }, 'fp', { leaseMs: 1000, ttlMs: 60_000 })).toMatchObject({
          kind: 'replay',
          outcome,
        });
      }
      // The key after the last acknowledged one was at most begun, never half-committed.
      const next = await store.get({ scope: SCOPE, key: `stream-${acked.length}` });
      if (next?.state === 'completed') expect(next.outcome).toBe(`worker 0 ran stream-${acked.length}`);
    } finally {
      await store.close();
    }
  });
});
