/** The checker on hand-made histories: each anomaly it exists to catch must make it fail. */
import { describe, expect, test } from 'vitest';
import { type Effect, type LeaseGrant, check } from './checker.js';
import { type Entry, History } from './history.js';
import { random } from './random.js';

/** A history built by hand: `ok('a', 'e1')` is one client operation on key a acknowledged with effect e1. */
function hist(
  build: (h: {
    ok: (key: string, value?: string) => void;
    fail: (key: string) => void;
    unknown: (key: string) => void;
    expire: (key: string) => void;
    open: (key: string) => void;
  }) => void,
): Entry[] {
  let t = 0;
  const h = new History(() => t++);
  build({
    ok: (key, value) => h.invoke('c', key).ok(value),
    fail: (key) => h.invoke('c', key).fail('409'),
    unknown: (key) => h.invoke('c', key).unknown('timeout'),
    expire: (key) => h.nemesis('expire', undefined, key),
    open: (key) => void h.invoke('c', key),
  });
  return h.entries;
}

const fx = (key: string, id: string, extra: Partial<Effect> = {}): Effect => ({ key, id, ...extra });

describe('check', () => {
  test('a clean history with replays, failures and unknowns is valid', () => {
    const history = hist((h) => {
      h.unknown('a');
      h.fail('a');
      h.ok('a', 'e1');
      h.ok('a', 'e1'); // replay
      h.ok('b', 'e2');
      h.unknown('c'); // may not have happened: no effect is fine
    });
    const verdict = check({ history, effects: [fx('a', 'e1'), fx('b', 'e2')], guarantee: 'exactly-once' });
    expect(verdict.valid).toBe(true);
    expect(verdict.counts).toEqual({
      operations: 6,
      ok: 3,
      fail: 1,
      unknown: 2,
      keys: 3,
      effects: 2,
      takeovers: 0,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
  });

  test('lost: acknowledged but no effect in the ledger', () => {
    const history = hist((h) => {
      h.ok('a', 'e1');
      h.ok('b', 'e2');
    });
    const verdict = check({ history, effects: [fx('a', 'e1')], guarantee: 'exactly-once' });
    expect(verdict.valid).toBe(false);
    expect(verdict.counts.lost).toBe(1);
    expect(verdict.anomalies).toContainEqual(expect.objectContaining({ kind: 'lost', key: 'b' }));
  });

  test('lost: acknowledged with an effect that belongs to another key, or with no effect id', () => {
    const history = hist((h) => {
      h.ok('a', 'eb');
      h.ok('c');
    });
    const verdict = check({ history, effects: [fx('b', 'eb'), fx('a', 'ea'), fx('c', 'ec')], guarantee: 'once-per-lease' });
    expect(verdict.counts.lost).toBe(2);
    expect(verdict.valid).toBe(false);
  });

  test('lost: a replay of a first answer that the ledger no longer has', () => {
    const history = hist((h) => {
      h.ok('a', 'e1');
      h.ok('a', 'e2'); // the record was lost, the key ran again: e1 vanished
    });
    const verdict = check({ history, effects: [fx('a', 'e2')], guarantee: 'once-per-lease' });
    expect(verdict.counts.lost).toBe(1);
    expect(verdict.valid).toBe(false);
  });

  test('duplicated: two effects for one key in exactly-once mode, even when a lease was taken over', () => {
    const history = hist((h) => h.ok('a', 'e2'));
    const leases: LeaseGrant[] = [
      { key: 'a', attempt: 1, recovered: false },
      { key: 'a', attempt: 2, recovered: true },
    ];
    const verdict = check({ history, effects: [fx('a', 'e1'), fx('a', 'e2')], leases, guarantee: 'exactly-once' });
    expect(verdict.counts.duplicated).toBe(1);
    expect(verdict.valid).toBe(false);
  });

  test('once-per-lease: a second effect needs a recorded take-over', () => {
    const history = hist((h) => h.ok('a', 'e2'));
    const effects = [fx('a', 'e1'), fx('a', 'e2')];
    const without = check({ history, effects, leases: [{ key: 'a', attempt: 1, recovered: false }], guarantee: 'once-per-lease' });
    expect(without.counts.duplicated).toBe(1);
    expect(without.valid).toBe(false);

    const withTakeover = check({
      history,
      effects,
      leases: [
        { key: 'a', attempt: 1, recovered: false },
        { key: 'a', attempt: 2, recovered: true },
      ],
      guarantee: 'once-per-lease',
    });
    expect(withTakeover.valid).toBe(true);
    expect(withTakeover.counts.takeovers).toBe(1);
  });

  test('once-per-lease: one take-over allows one extra effect, not two', () => {
    const history = hist((h) => h.ok('a', 'e3'));
    const effects = [
      fx('a', 'e1', { attempt: 1 }),
      fx('a', 'e2', { attempt: 2, recovered: true }),
      fx('a', 'e3', { attempt: 2, recovered: true }),
    ];
    // Stamped effects count take-overs too; two effects stamped recovered but only one grant recorded.
    const leases: LeaseGrant[] = [{ key: 'a', attempt: 2, recovered: true }];
    const verdict = check({
      history,
      effects: [effects[0]!, effects[1]!, fx('a', 'e3', { attempt: 1 })],
      leases,
      guarantee: 'once-per-lease',
    });
    expect(verdict.counts.duplicated).toBe(1);
    expect(verdict.valid).toBe(false);
    // A take-over of someone else's key does not help this one.
    const other = check({
      history,
      effects: [fx('a', 'e1'), fx('a', 'e3')],
      leases: [{ key: 'b', attempt: 2, recovered: true }],
      guarantee: 'once-per-lease',
    });
    expect(other.counts.duplicated).toBe(1);
  });

  test('an expire nemesis entry allows one more effect for that key only', () => {
    const history = hist((h) => {
      h.ok('a', 'e1');
      h.expire('a');
      h.ok('a', 'e2');
      h.ok('b', 'e4');
    });
    const verdict = check({ history, effects: [fx('a', 'e1'), fx('a', 'e2'), fx('b', 'e3'), fx('b', 'e4')], guarantee: 'exactly-once' });
    expect(verdict.counts.duplicated).toBe(1);
    expect(verdict.anomalies.map((a) => a.key)).toEqual(['b']);
  });

  test('unexpected: an effect for a key never requested', () => {
    const history = hist((h) => h.ok('a', 'e1'));
    const verdict = check({ history, effects: [fx('a', 'e1'), fx('zz', 'e9')], guarantee: 'once-per-lease' });
    expect(verdict.counts.unexpected).toBe(1);
    expect(verdict.valid).toBe(false);
  });

  test('an operation that never completed counts as unknown and is reported', () => {
    const history = hist((h) => h.open('a'));
    const verdict = check({ history, effects: [fx('a', 'e1')], guarantee: 'exactly-once' });
    expect(verdict.valid).toBe(true);
    expect(verdict.counts.unknown).toBe(1);
    expect(verdict.anomalies).toContainEqual(expect.objectContaining({ kind: 'incomplete' }));
  });

  test('completing an operation twice is a harness bug, refused', () => {
    const h = new History();
    const op = h.invoke('c', 'a');
    op.ok('e1');
    expect(() => op.unknown('late')).toThrow(/completed twice/);
  });
});

describe('random', () => {
  test('the same seed gives the same choices; forks are independent of draw order', () => {
    const a = random(42);
    const b = random(42);
    expect(Array.from({ length: 5 }, () => a.int(0, 1000))).toEqual(Array.from({ length: 5 }, () => b.int(0, 1000)));
    expect(random(42).fork('x').next()).toBe(random(42).fork('x').next());
    expect(random(42).fork('x').next()).not.toBe(random(43).fork('x').next());
  });
});
