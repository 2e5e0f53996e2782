/**
 * Clients: a seeded plan of logical requests (fresh keys and duplicates of recent ones), pulled by
 * concurrent clients that each retry their request with the same key until it is acknowledged or
 * their attempts run out. Every attempt is one operation in the history.
 *
 * Classification of one attempt: 2xx with `{ key, effect }` → ok(effect); 409, 422 and a 503
 * problem `store-unavailable` (the gateway refused before running anything) → fail; any other
 * status, a timeout, a connection error or a body cut short → unknown.
 */
import type { History } from './history.js';
import type { Random } from './random.js';

export type Reply =
  { readonly kind: 'ok'; readonly value: string | undefined } | { readonly kind: 'fail' | 'unknown'; readonly error: string };

/** Sends one attempt for a key somewhere (a gateway, a worker). */
export type Target = (key: string, timeoutMs: number) => Promise<Reply>;

/** `POST {url}/effects` with `Idempotency-Key: K` and body `{"key":"K"}` — through a gateway. */
export function gatewayTarget(urls: () => readonly string[], rand: Random): Target {
  return (key, timeoutMs) =>
    attempt(
      `${rand.pick(urls())}/effects`,
      { 'content-type': 'application/json', 'idempotency-key': `"${key}"` },
      JSON.stringify({ key }),
      key,
      timeoutMs,
    );
}

/** `POST {url}/op?key=K` — to a library worker. */
export function workerTarget(urls: () => readonly string[], rand: Random): Target {
  return (key, timeoutMs) => attempt(`${rand.pick(urls())}/op?key=${encodeURIComponent(key)}`, {}, '', key, timeoutMs);
}

async function attempt(url: string, headers: Record<string, string>, body: string, key: string, timeoutMs: number): Promise<Reply> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    const why = describe(error);
    // Refused: nothing was sent, so nothing can have run. Anything else may have been delivered.
    if (why === 'ECONNREFUSED') return { kind: 'fail', error: why };
    return { kind: 'unknown', error: why };
  }
  const status = response.status;
  if (status >= 200 && status < 300) {
    try {
      const parsed = JSON.parse(text) as { key?: string; effect?: string };
      // An answer for another key would be a mix-up: report no effect id, so the checker counts it lost.
      return { kind: 'ok', value: parsed.key === key ? parsed.effect : undefined };
    } catch {
      return { kind: 'ok', value: undefined };
    }
  }
  if (status === 409 || status === 422) return { kind: 'fail', error: String(status) };
  if (status === 503 && text.includes('store-unavailable')) return { kind: 'fail', error: '503 store-unavailable' };
  return { kind: 'unknown', error: `${status} ${text.slice(0, 120)}` };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.name;
}

export interface PlanOptions {
  /** Logical requests in the plan. */
  readonly requests: number;
  /** Chance a request repeats a recent key (a duplicate) instead of using a fresh one. */
  readonly duplicateRate: number;
  /** How far back a duplicate may reach, in requests. */
  readonly window: number;
  readonly prefix: string;
}

/** The sequence of keys to request, fixed by the seed. */
export function plan(rand: Random, o: PlanOptions): string[] {
  const keys: string[] = [];
  let fresh = 0;
  for (let i = 0; i < o.requests; i++) {
    if (i > 0 && rand.chance(o.duplicateRate)) keys.push(keys[rand.int(Math.max(0, i - o.window), i - 1)]!);
    else keys.push(`${o.prefix}-${fresh++}`);
  }
  return keys;
}

export interface ClientOptions {
  readonly history: History;
  readonly rand: Random;
  readonly target: Target;
  readonly clients: number;
  /** Attempts per logical request before giving up on it (it stays unacknowledged). */
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  /** Pause between attempts, drawn in [min, max] ms. */
  readonly backoffMs?: readonly [number, number];
  /**
   * Stop taking new requests when this returns true (attempts in flight finish)... A plan that
   * runs out while this still says false is an error: the faults outlasted the load, so the run
   * tested less than it claims (make the plan longer; `stop` ends it anyway).
   */
  readonly stop?: (() => boolean) | undefined;
  /** ...but only once this many requests were taken. */
  readonly minRequests?: number;
}

/** Run `keys` through `clients` concurrent clients. Resolves when every request taken is done. */
export async function runClients(keys: readonly string[], o: ClientOptions): Promise<void> {
  let next = 0;
  const [min, max] = o.backoffMs ?? [20, 200];
  const client = async (id: number): Promise<void> => {
    const rand = o.rand.fork(`client-${id}`);
    while (next < keys.length && !(next >= (o.minRequests ?? 0) && (o.stop?.() ?? false))) {
      const key = keys[next++]!;
      for (let n = 0; n < o.maxAttempts; n++) {
        const op = o.history.invoke(`c${id}`, key);
        const reply = await o.target(key, o.timeoutMs);
        if (reply.kind === 'ok') {
          op.ok(reply.value);
          break;
        }
        if (reply.kind === 'fail') op.fail(reply.error);
        else op.unknown(reply.error);
        // Jittered, growing pause: a dead server is not hammered, a busy key is polled.
        await sleep(rand.int(min, max) * Math.min(2 ** Math.floor(n / 2), 4));
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)));
  if (o.stop && !o.stop()) {
    throw new Error(
      `the plan's ${keys.length} requests ran out while the faults went on: the run tested less than it should; make the plan longer`,
    );
  }
}

/**
 * After the faults: retry every key that was invoked but never acknowledged, until it is (or the
 * attempts run out). An acknowledged key is what lets the checker find a lost effect. Returns
 * how many keys stayed unacknowledged.
 */
export async function settle(o: ClientOptions): Promise<number> {
  const acked = new Set<string>();
  const invoked = new Set<string>();
  for (const e of o.history.entries) {
    if (e.type === 'invoke') invoked.add(e.key);
    if (e.type === 'ok') acked.add(e.key);
  }
  const open = [...invoked].filter((k) => !acked.has(k));
  await runClients(open, { ...o, stop: undefined });
  const after = new Set(o.history.entries.filter((e) => e.type === 'ok').map((e) => e.key));
  return open.filter((k) => !after.has(k)).length;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
