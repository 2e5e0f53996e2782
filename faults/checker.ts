/**
 * The checker: a history plus the effect ledger in, counts and a verdict out.
 *
 * - lost: an effect a client was told happened (`ok` with value V for key K) that is not in the
 *   ledger as an effect of K. Counted once per distinct (K, V); an `ok` without a value is lost too.
 * - duplicated: per key, effects beyond what the guarantee allows, summed over keys.
 *     exactly-once:   allowance(K) = 1 + expiries(K)
 *     once-per-lease: allowance(K) = 1 + takeovers(K) + expiries(K)
 *   where takeovers(K) is the number of lease grants recorded with `recovered = true` for K (an
 *   expired lease of a crashed or stalled holder taken over: the one case where a non-transactional
 *   effect may run again; the holder's effect may have happened, its commit did not), counted from
 *   the lease ledger, or from effects stamped `recovered` when that is larger; and expiries(K) is
 *   the number of `expire` nemesis entries for K (the harness let the record's retention lapse).
 * - unexpected: an effect for a key no operation ever invoked.
 * The history is valid when all three are zero.
 */
import type { Entry } from './history.js';

export type Guarantee = 'exactly-once' | 'once-per-lease';

/** One effect, as the handler wrote it to the ledger. */
export interface Effect {
  readonly id: string;
  readonly key: string;
  /** The lease attempt that ran it, when the handler knows it (library workers do; an HTTP upstream does not). */
  readonly attempt?: number;
  readonly recovered?: boolean;
}

/** One lease granted to a holder (engine `onAcquire`), as recorded in the ledger. */
export interface LeaseGrant {
  readonly key: string;
  readonly attempt: number;
  readonly recovered: boolean;
}

export interface CheckInput {
  readonly history: readonly Entry[];
  readonly effects: readonly Effect[];
  readonly leases?: readonly LeaseGrant[];
  readonly guarantee: Guarantee;
}

export interface Counts {
  readonly operations: number;
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
  readonly keys: number;
  readonly effects: number;
  readonly takeovers: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
}

export interface Anomaly {
  readonly kind: 'lost' | 'duplicated' | 'unexpected' | 'incomplete';
  readonly key: string;
  readonly detail: string;
}

export interface Verdict {
  readonly valid: boolean;
  readonly counts: Counts;
  /** Every anomaly, for the failure message (the caller prints the first few). */
  readonly anomalies: readonly Anomaly[];
}

export function check(input: CheckInput): Verdict {
  const anomalies: Anomaly[] = [];
  const invoked = new Set<string>();
  const completed = new Set<number>();
  const acknowledged = new Map<string, Set<string | undefined>>();
  const expiries = new Map<string, number>();
  let ok = 0;
  let fail = 0;
  let unknown = 0;
  let operations = 0;

  for (const entry of input.history) {
    switch (entry.type) {
      case 'invoke':
        operations++;
        invoked.add(entry.key);
        break;
      case 'ok':
        ok++;
        completed.add(entry.id);
        add(acknowledged, entry.key, entry.value);
        break;
      case 'fail':
        fail++;
        completed.add(entry.id);
        break;
      case 'unknown':
        unknown++;
        completed.add(entry.id);
        break;
      case 'nemesis':
        if (entry.kind === 'expire' && entry.key !== undefined) expiries.set(entry.key, (expiries.get(entry.key) ?? 0) + 1);
        break;
    }
  }
  // An invoke that never completed is an unknown (its client vanished), as in Jepsen.
  for (const entry of input.history) {
    if (entry.type === 'invoke' && !completed.has(entry.id)) {
      unknown++;
      anomalies.push({
        kind: 'incomplete',
        key: entry.key,
        detail: `operation ${entry.id} of ${entry.process} never completed (counted as unknown)`,
      });
    }
  }

  const effectsByKey = new Map<string, Effect[]>();
  for (const effect of input.effects) {
    const list = effectsByKey.get(effect.key) ?? [];
    list.push(effect);
    effectsByKey.set(effect.key, list);
  }

  let lost = 0;
  for (const [key, values] of acknowledged) {
    const ids = new Set((effectsByKey.get(key) ?? []).map((e) => e.id));
    for (const value of values) {
      if (value !== undefined && ids.has(value)) continue;
      lost++;
      anomalies.push({
        kind: 'lost',
        key,
        detail:
          value === undefined
            ? 'acknowledged without an effect id'
            : `acknowledged effect ${value} is not in the ledger (ledger has ${ids.size} for this key)`,
      });
    }
  }

  const grants = new Map<string, number>();
  for (const grant of input.leases ?? []) if (grant.recovered) grants.set(grant.key, (grants.get(grant.key) ?? 0) + 1);

  let duplicated = 0;
  let unexpected = 0;
  let takeovers = 0;
  for (const [key, effects] of effectsByKey) {
    if (!invoked.has(key)) {
      unexpected += effects.length;
      anomalies.push({ kind: 'unexpected', key, detail: `${effects.length} effect(s) for a key no operation invoked` });
      continue;
    }
    const stamped = effects.filter((e) => e.recovered === true).length;
    const keyTakeovers = Math.max(grants.get(key) ?? 0, stamped);
    takeovers += keyTakeovers;
    const allowance = 1 + (expiries.get(key) ?? 0) + (input.guarantee === 'once-per-lease' ? keyTakeovers : 0);
    if (effects.length > allowance) {
      duplicated += effects.length - allowance;
      anomalies.push({
        kind: 'duplicated',
        key,
        detail: `${effects.length} effects, ${allowance} allowed (${input.guarantee}; takeovers ${keyTakeovers}, expiries ${expiries.get(key) ?? 0}); attempts ${effects.map((e) => `${e.attempt ?? '?'}${e.recovered ? 'r' : ''}`).join(',')}`,
      });
    }
  }

  const counts: Counts = {
    operations,
    ok,
    fail,
    unknown,
    keys: invoked.size,
    effects: input.effects.length,
    takeovers,
    lost,
    duplicated,
    unexpected,
  };
  return { valid: lost === 0 && duplicated === 0 && unexpected === 0, counts, anomalies };
}

/** One line per scenario: what it did and what the checker found, with the seed to replay it. */
export function formatCounts(name: string, seed: number, counts: Counts): string {
  const c = counts;
  return `[faults] ${name} seed=${seed} operations=${c.operations} ok=${c.ok} fail=${c.fail} unknown=${c.unknown} lost=${c.lost} duplicated=${c.duplicated} unexpected=${c.unexpected} (keys=${c.keys} effects=${c.effects} takeovers=${c.takeovers})`;
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key) ?? new Set<V>();
  set.add(value);
  map.set(key, set);
}
