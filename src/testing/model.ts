/**
 * Model-based test: random sequences of operations and clock moves run against the store and
 * against a reference model (a plain Map that restates the contract), and every answer must agree.
 *
 * Tokens are random, so the model refers to them symbolically: the harness remembers every token
 * a begin returned, and the model records which one is current for each key.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KeyRef, RecordState, Store } from '../store/contract.js';
import { isLeaseLostError } from '../core/errors/lease-lost.js';
import { FakeClock } from '../core/fake-clock.js';
import { T0, beginFields, compareUtf8, listAll, recordFields, settle } from './harness.js';
import type { ResolvedOptions, Settled } from './harness.js';

// Small pools so operations collide. 't' + ':' + 'a:k' and 't:a' + ':' + 'k' join to the same
// string; 'K'/'k' and 'FP'/'fp' differ only in case; '～' (U+FF5E) sorts before '𝄞' (U+1D11E) by
// code point but after it by UTF-16 unit.
const SCOPES = ['t', 't:a'] as const;
const KEYS = ['k', 'a:k', 'K', '𝄞', '～'] as const;
const OUTCOMES = ['', 'ok', '{"status":200}', 'ü\u0000𝄞'] as const;

interface ModelRecord {
  fingerprint: string;
  state: RecordState;
  attempt: number;
  createdAt: number;
  expiresAt: number;
  /** Index into `Real.tokens` of the current token, while in progress. */
  tokenId?: number;
  leaseUntil?: number;
  outcome?: string;
  completedAt?: number;
}

interface Model {
  now: number;
  /** By `JSON.stringify([scope, key])`. Expired records stay until swept or replaced. */
  records: Map<string, ModelRecord>;
}

interface Real {
  store: Store;
  clock: FakeClock;
  /** Every token any begin returned, in order; a token's index is its symbolic id. */
  tokens: string[];
  tokenIdsByRef: Map<string, number[]>;
}

type TokenPick =
  | { kind: 'latest' } // the last token begin gave for this key (current unless something changed)
  | { kind: 'earlier'; n: number } // any token this key ever had
  | { kind: 'foreign'; n: number } // any token of any key
  | { kind: 'random'; n: number }; // never a real token

type Cmd = fc.AsyncCommand<Model, Real>;

const idOf = (ref: KeyRef): string => JSON.stringify([ref.scope, ref.key]);
const show = (ref: KeyRef): string => `${ref.scope}/${ref.key}`;
const NOT_FOUND = -1;

function liveRecord(m: Model, ref: KeyRef): ModelRecord | undefined {
  const rec = m.records.get(idOf(ref));
  return rec !== undefined && m.now < rec.expiresAt ? rec : undefined;
}

function expectedFields(ref: KeyRef, rec: ModelRecord, real: Real): Record<string, unknown> {
  return {
    scope: ref.scope,
    key: ref.key,
    state: rec.state,
    fingerprint: rec.fingerprint,
    attempt: rec.attempt,
    createdAt: rec.createdAt,
    expiresAt: rec.expiresAt,
    token: rec.tokenId === undefined ? undefined : real.tokens[rec.tokenId],
    leaseUntil: rec.leaseUntil,
    outcome: rec.outcome,
    completedAt: rec.completedAt,
  };
}

function pickToken(real: Real, ref: KeyRef, pick: TokenPick): { token: string; tokenId: number } {
  const own = real.tokenIdsByRef.get(idOf(ref)) ?? [];
  let tokenId = NOT_FOUND;
  if (pick.kind === 'latest' && own.length > 0) tokenId = own[own.length - 1]!;
  if (pick.kind === 'earlier' && own.length > 0) tokenId = own[pick.n % own.length]!;
  if (pick.kind === 'foreign' && real.tokens.length > 0) tokenId = pick.n % real.tokens.length;
  if (tokenId === NOT_FOUND) return { token: `not-a-token-${pick.kind}-${'n' in pick ? pick.n : 0}`, tokenId };
  return { token: real.tokens[tokenId]!, tokenId };
}

function registerToken(real: Real, ref: KeyRef, token: unknown, label: string): number {
  expect(typeof token === 'string' && token.length > 0, `${label}: token must be a non-empty string`).toBe(true);
  expect(real.tokens.includes(token as string), `${label}: token ${String(token)} was handed out before`).toBe(false);
  real.tokens.push(token as string);
  const own = real.tokenIdsByRef.get(idOf(ref)) ?? [];
  own.push(real.tokens.length - 1);
  real.tokenIdsByRef.set(idOf(ref), own);
  return real.tokens.length - 1;
}

/** A fenced call must succeed exactly when the model says the token is current. */
function expectFenced(result: Settled<unknown>, holds: boolean, label: string): void {
  if (holds) {
    expect(result.ok, `${label}: should succeed, failed with ${result.ok ? '' : String(result.error)}`).toBe(true);
  } else {
    expect(
      !result.ok && isLeaseLostError(result.error),
      `${label}: expected LeaseLostError, got ${result.ok ? 'success' : String(result.error)}`,
    ).toBe(true);
  }
}

class BeginCmd implements Cmd {
  constructor(
    readonly ref: KeyRef,
    readonly fingerprint: string,
    readonly leaseMs: number,
    readonly ttlMs: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const label = this.toString();
    const rec = liveRecord(m, this.ref);
    const got = await r.store.begin(this.ref, this.fingerprint, { leaseMs: this.leaseMs, ttlMs: this.ttlMs });
    const now = m.now;

    const takeOver = rec !== undefined && rec.fingerprint === this.fingerprint && rec.state === 'in_progress' && now >= rec.leaseUntil!;
    if (rec === undefined || takeOver) {
      const recovered = rec !== undefined;
      expect(got.kind, `${label}: ${JSON.stringify(got)}`).toBe('acquired');
      const token = got.kind === 'acquired' ? got.token : undefined;
      const tokenId = registerToken(r, this.ref, token, label);
      const attempt = rec !== undefined ? rec.attempt + 1 : 1;
      expect(beginFields(got), label).toEqual({
        kind: 'acquired',
        token,
        attempt,
        recovered,
        leaseUntil: now + this.leaseMs,
      });
      m.records.set(idOf(this.ref), {
        fingerprint: this.fingerprint,
        state: 'in_progress',
        attempt,
        createdAt: rec !== undefined ? rec.createdAt : now,
        expiresAt: now + this.ttlMs,
        tokenId,
        leaseUntil: now + this.leaseMs,
      });
    } else if (rec.fingerprint !== this.fingerprint) {
      expect(beginFields(got), label).toEqual({ kind: 'mismatch', state: rec.state });
    } else if (rec.state === 'completed') {
      expect(beginFields(got), label).toEqual({
        kind: 'replay',
        outcome: rec.outcome,
        completedAt: rec.completedAt,
        expiresAt: rec.expiresAt,
      });
    } else {
      expect(beginFields(got), label).toEqual({
        kind: 'in_progress',
        attempt: rec.attempt,
        leaseUntil: rec.leaseUntil,
        retryAfterMs: rec.leaseUntil! - now,
      });
    }
  }
  toString = () => `begin(${show(this.ref)}, ${this.fingerprint}, lease ${this.leaseMs}, ttl ${this.ttlMs})`;
}

class CommitCmd implements Cmd {
  constructor(
    readonly ref: KeyRef,
    readonly pick: TokenPick,
    readonly outcome: string,
    readonly ttlMs: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { token, tokenId } = pickToken(r, this.ref, this.pick);
    const rec = liveRecord(m, this.ref);
    const holds = rec?.state === 'in_progress' && rec.tokenId === tokenId;
    expectFenced(await settle(r.store.commit(this.ref, token, this.outcome, this.ttlMs)), holds, this.toString());
    if (holds) {
      rec.state = 'completed';
      rec.outcome = this.outcome;
      rec.completedAt = m.now;
      rec.expiresAt = m.now + this.ttlMs;
      delete rec.tokenId;
      delete rec.leaseUntil;
    }
  }
  toString = () => `commit(${show(this.ref)}, token ${JSON.stringify(this.pick)}, ${JSON.stringify(this.outcome)}, ttl ${this.ttlMs})`;
}

class ReleaseCmd implements Cmd {
  constructor(
    readonly ref: KeyRef,
    readonly pick: TokenPick,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { token, tokenId } = pickToken(r, this.ref, this.pick);
    const rec = liveRecord(m, this.ref);
    const holds = rec?.state === 'in_progress' && rec.tokenId === tokenId;
    expectFenced(await settle(r.store.release(this.ref, token)), holds, this.toString());
    if (holds) m.records.delete(idOf(this.ref));
  }
  toString = () => `release(${show(this.ref)}, token ${JSON.stringify(this.pick)})`;
}

class ExtendCmd implements Cmd {
  constructor(
    readonly ref: KeyRef,
    readonly pick: TokenPick,
    readonly leaseMs: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { token, tokenId } = pickToken(r, this.ref, this.pick);
    const rec = liveRecord(m, this.ref);
    const holds = rec?.state === 'in_progress' && rec.tokenId === tokenId;
    const result = await settle(r.store.extend(this.ref, token, this.leaseMs));
    expectFenced(result, holds, this.toString());
    if (holds && result.ok) {
      const leaseUntil = m.now + this.leaseMs;
      expect(result.value, `${this.toString()}: returned leaseUntil`).toBe(leaseUntil);
      rec.leaseUntil = leaseUntil;
      rec.expiresAt = Math.max(rec.expiresAt, leaseUntil);
    }
  }
  toString = () => `extend(${show(this.ref)}, token ${JSON.stringify(this.pick)}, lease ${this.leaseMs})`;
}

class GetCmd implements Cmd {
  constructor(readonly ref: KeyRef) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const rec = liveRecord(m, this.ref);
    const got = recordFields(await r.store.get(this.ref));
    expect(got, this.toString()).toEqual(rec && expectedFields(this.ref, rec, r));
  }
  toString = () => `get(${show(this.ref)})`;
}

class DeleteCmd implements Cmd {
  constructor(readonly ref: KeyRef) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const rec = liveRecord(m, this.ref);
    expect(await r.store.delete(this.ref), this.toString()).toBe(rec !== undefined);
    // An expired record may or may not be removed physically; keep it for sweep's upper bound.
    if (rec) m.records.delete(idOf(this.ref));
  }
  toString = () => `delete(${show(this.ref)})`;
}

class SweepCmd implements Cmd {
  constructor(readonly batchSize: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const expired = [...m.records].filter(([, rec]) => m.now >= rec.expiresAt).map(([id]) => id);
    const removed = await r.store.sweep({ batchSize: this.batchSize });
    // A store may already have dropped some expired records (on delete or when replacing), so
    // the model knows an upper bound; the exact counts are checked by the sweep scenarios.
    expect(removed, `${this.toString()}: removed count`).toBeGreaterThanOrEqual(0);
    expect(removed, `${this.toString()}: removed count`).toBeLessThanOrEqual(expired.length);
    for (const id of expired) m.records.delete(id);
  }
  toString = () => `sweep(batchSize ${this.batchSize})`;
}

class ListCmd implements Cmd {
  constructor(
    readonly scope: string,
    readonly state: RecordState | undefined,
    readonly limit: number | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await compareList(m, r, this.scope, this.state, this.limit, this.toString());
  }
  toString = () => `list(${this.scope}, ${this.state ?? 'any state'}, limit ${this.limit ?? 'default'})`;
}

type Advance = { kind: 'by'; ms: number } | { kind: 'to'; field: 'leaseUntil' | 'expiresAt'; n: number; offset: -1 | 0 | 1 };

class AdvanceCmd implements Cmd {
  constructor(readonly advance: Advance) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    let target = m.now;
    if (this.advance.kind === 'by') {
      target = m.now + this.advance.ms;
    } else {
      // Jump to (or next to) a boundary of an existing record, where off-by-one bugs live.
      const { field, n, offset } = this.advance;
      const candidates = [...m.records.values()]
        .map((rec) => rec[field])
        .filter((t): t is number => t !== undefined && t + offset > m.now)
        .sort((a, b) => a - b);
      if (candidates.length > 0) target = candidates[n % candidates.length]! + offset;
    }
    m.now = target;
    await r.clock.advanceTo(target);
  }
  toString = () =>
    this.advance.kind === 'by'
      ? `advance(+${this.advance.ms} ms)`
      : `advance(to ${this.advance.field}[${this.advance.n}] ${this.advance.offset >= 0 ? '+' : ''}${this.advance.offset})`;
}

async function compareList(
  m: Model,
  r: Real,
  scope: string,
  state: RecordState | undefined,
  limit: number | undefined,
  label: string,
): Promise<void> {
  const expected = [...m.records]
    .map(([id, rec]) => {
      const [s, key] = JSON.parse(id) as [string, string];
      return { ref: { scope: s, key }, rec };
    })
    .filter(({ ref, rec }) => ref.scope === scope && m.now < rec.expiresAt && (state === undefined || rec.state === state))
    .sort((a, b) => compareUtf8(a.ref.key, b.ref.key))
    .map(({ ref, rec }) => expectedFields(ref, rec, r));
  const got = (await listAll(r.store, scope, state, limit)).map(recordFields);
  expect(got, label).toEqual(expected);
}

/** After a run: every key and every scope must still agree with the model. */
async function compareEverything(m: Model, r: Real): Promise<void> {
  for (const scope of SCOPES) {
    for (const key of KEYS) await new GetCmd({ scope, key }).run(m, r);
    await compareList(m, r, scope, undefined, undefined, `final list(${scope})`);
  }
}

const refArb = fc.record({ scope: fc.constantFrom(...SCOPES), key: fc.constantFrom(...KEYS) });
const fingerprintArb = fc.oneof({ weight: 5, arbitrary: fc.constant('fp') }, { weight: 1, arbitrary: fc.constant('FP') });
const leaseArb = fc.oneof(fc.constantFrom(1, 10, 100, 1000), fc.integer({ min: 1, max: 500 }));
const ttlArb = fc.oneof(fc.constantFrom(1, 100, 1000, 10_000), fc.integer({ min: 1, max: 3000 }));
const tokenArb: fc.Arbitrary<TokenPick> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'latest' as const }) },
  { weight: 2, arbitrary: fc.nat(20).map((n) => ({ kind: 'earlier' as const, n })) },
  { weight: 1, arbitrary: fc.nat(50).map((n) => ({ kind: 'foreign' as const, n })) },
  { weight: 1, arbitrary: fc.nat(3).map((n) => ({ kind: 'random' as const, n })) },
);
const advanceArb: fc.Arbitrary<Advance> = fc.oneof(
  fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 1, max: 1500 })).map((ms) => ({ kind: 'by' as const, ms })),
  fc.record({
    kind: fc.constant('to' as const),
    field: fc.constantFrom('leaseUntil' as const, 'expiresAt' as const),
    n: fc.nat(10),
    offset: fc.constantFrom(-1 as const, 0 as const, 1 as const),
  }),
);

const commandArbs: fc.Arbitrary<Cmd>[] = [
  // Begin twice as often: it drives every transition.
  ...[1, 2].map(() =>
    fc
      .tuple(refArb, fingerprintArb, leaseArb, fc.oneof(fc.constantFrom(0, 1, 10_000), fc.integer({ min: 0, max: 2000 })))
      .map(([ref, fp, leaseMs, extra]) => new BeginCmd(ref, fp, leaseMs, leaseMs + extra)),
  ),
  fc.tuple(refArb, tokenArb, fc.constantFrom(...OUTCOMES), ttlArb).map(([ref, t, o, ttl]) => new CommitCmd(ref, t, o, ttl)),
  fc.tuple(refArb, tokenArb).map(([ref, t]) => new ReleaseCmd(ref, t)),
  fc.tuple(refArb, tokenArb, leaseArb).map(([ref, t, leaseMs]) => new ExtendCmd(ref, t, leaseMs)),
  refArb.map((ref) => new GetCmd(ref)),
  refArb.map((ref) => new DeleteCmd(ref)),
  fc.constantFrom(1, 2, 500).map((n) => new SweepCmd(n)),
  fc
    .tuple(
      fc.constantFrom(...SCOPES),
      fc.constantFrom(undefined, 'in_progress' as const, 'completed' as const),
      fc.constantFrom(undefined, 1, 2),
    )
    .map(([scope, state, limit]) => new ListCmd(scope, state, limit)),
  advanceArb.map((a) => new AdvanceCmd(a)),
  advanceArb.map((a) => new AdvanceCmd(a)),
];

export function describeModel(options: ResolvedOptions): void {
  describe('model-based', () => {
    it(`random operations and clock moves agree with the reference model (${options.modelRuns} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commandArbs, { maxCommands: 100, size: 'large' }), async (cmds) => {
          const clock = new FakeClock(T0);
          const store = await options.create(clock);
          try {
            const model: Model = { now: clock.now(), records: new Map() };
            const real: Real = { store, clock, tokens: [], tokenIdsByRef: new Map() };
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            await compareEverything(model, real);
          } finally {
            await options.destroy(store);
          }
        }),
        { numRuns: options.modelRuns },
      );
    }, 600_000);
  });
}
