/**
 * Oncekey against the alternatives, on the same workload, the same store and in the same run:
 *
 * - function API (in-process loop, fixed concurrency): Oncekey `wrap`, AWS Powertools
 *   `makeIdempotent` (Redis/cache persistence layer), @node-idempotency/core (memory and Redis
 *   adapters), beside the bare function;
 * - HTTP (autocannon in a process of its own): Express with `oncekey/express` and with
 *   express-idempotency, both on memory, beside bare Express.
 *
 * Before any timing, each subject gets the checks our own tests make: 50 concurrent duplicates
 * with one key (how many executions, what the others got), the same key with another payload
 * (which answer), and a plain retry after completion (the first result back?). The verdict is
 * printed beside the speed: a fast wrong answer is not a win.
 *
 * Every measured run uses a fresh instance (fresh store, fresh key namespace), so no subject
 * carries the keys of an earlier run; runs are interleaved round after round and ratios are the
 * median of per-round ratios against the Oncekey row on the same store.
 *
 *   npx tsx bench/alternatives.ts [--json] [--quick] [--no-http] [--no-functions]
 *
 * Redis rows use ONCEKEY_TEST_REDIS_URL (default redis://127.0.0.1:6379) and are skipped when it
 * does not answer; they write only keys under `oncekey-bench-alt:<run>:` and delete them.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  type Charge,
  type ChargeFn,
  type FunctionSubject,
  type Instance,
  bareFunction,
  makeCharge,
  nodeIdempotencyMemory,
  nodeIdempotencyRedis,
  oncekeyMemory,
  oncekeyRedis,
  order,
  powertoolsRedis,
} from './lib/alt-functions.js';
import { type ExpressInstance, type ExpressSubject, bareExpress, expressIdempotencyMemory, oncekeyExpress } from './lib/alt-express.js';
import { type LoadResult, load } from './lib/load.js';
import { forEachLimited, inFlight } from './lib/loop.js';
import { type Column, type Row, type Topic, formatText } from './lib/report.js';
import { deleteRedisKeys, redisProblem, redisUrl } from './lib/services.js';
import { median, pairedRatio } from './lib/stats.js';

export interface AlternativesOptions {
  /** Redis for the Redis rows; `null` skips them. Default: the test URL if it answers. */
  readonly redisUrl?: string | null;
  /** Small sizes for a smoke test. */
  readonly quick?: boolean;
  /** Function-API rows; default true. */
  readonly functions?: boolean;
  /** HTTP (Express) rows; default true. */
  readonly http?: boolean;
  /** Function API: length of one measured run; default 1500 ms (quick 150). */
  readonly durationMs?: number;
  /** Function API: calls in flight; default 16. */
  readonly concurrency?: number;
  /** Measured rounds; default 3 (quick 1). */
  readonly rounds?: number;
  /** HTTP: seconds per measured run (default 4, quick 1) and connections (default 32). */
  readonly httpDurationSec?: number;
  readonly connections?: number;
  /** Progress lines go here; default none. */
  readonly log?: (line: string) => void;
}

/** What a subject did under the correctness checks. */
export interface Correctness {
  /** Handler executions for 50 concurrent calls with one key. */
  readonly duplicateExecutions: number;
  /** What the 50 callers got, e.g. `1 value, 49 IdempotencyAlreadyInProgressError`. */
  readonly duplicateAnswers: string;
  /** Same key, another payload, after completion. */
  readonly otherPayload: string;
  /** Same key, same payload, after completion. */
  readonly retry: string;
  /** Executions beyond the first: the other payload or the retry ran the handler again. */
  readonly extraExecutions: number;
  /** Exactly one execution, the other payload refused, the retry answered with the first result. */
  readonly correct: boolean;
  /** Why not, when not. */
  readonly problems: readonly string[];
}

export interface AlternativeRow {
  readonly api: 'function' | 'http';
  readonly store: 'memory' | 'redis' | 'none';
  readonly name: string;
  readonly config: string;
  readonly correctness: Correctness;
  /** Function API: ops/s; HTTP: requests/s. Medians over the rounds; NaN when not measurable. */
  readonly miss: number;
  readonly hit: number;
  /** HTTP only: median p99 latency in ms, and the server's median CPU time per request in µs. */
  readonly missP99?: number;
  readonly hitP99?: number;
  readonly missCpuUs?: number;
  readonly hitCpuUs?: number;
  /** HTTP only: requests/s against bare Express, same round. */
  readonly missVsBare?: number;
  /** Median per-round ratio against the Oncekey row on the same store (1 for that row). */
  readonly missVsOncekey: number;
  readonly hitVsOncekey: number;
  /** Why a figure is missing or suspect. */
  readonly remarks: readonly string[];
}

export interface AlternativesResult {
  readonly rows: readonly AlternativeRow[];
  readonly notes: readonly string[];
  readonly functionMethod: string;
  readonly httpMethod: string;
  readonly skipped: readonly string[];
}

const DUPLICATES = 50;
const CHECK_DELAY_MS = 25;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An error as its stable code when it has one, else its class name. */
function errorLabel(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; constructor?: { name?: string } };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  return e?.constructor?.name ?? String(error);
}

function tally(labels: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([l, n]) => `${n}× ${l}`)
    .join(', ');
}

/** Runs `fn` with console.warn silenced (Powertools warns on every call without a Lambda context). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

// ---------------------------------------------------------------------------------------------
// Function API

async function checkFunction(subject: FunctionSubject, namespace: string): Promise<Correctness> {
  let executions = 0;
  const handler: ChargeFn = async (o) => {
    const n = ++executions;
    await sleep(CHECK_DELAY_MS);
    return makeCharge(n, o);
  };
  const instance = await subject.create(handler, namespace);
  try {
    const key = `dup-${randomBytes(4).toString('hex')}`;
    const settled = await Promise.allSettled(Array.from({ length: DUPLICATES }, () => instance.call(order(key))));
    const duplicateExecutions = executions;
    const firstId = makeCharge(1, order(key)).chargeId;
    const label = (r: PromiseSettledResult<Charge>) =>
      r.status === 'rejected' ? errorLabel(r.reason) : r.value.chargeId === firstId ? 'first result' : 'another result';
    const duplicateAnswers = tally(settled.map(label));
    const [other] = await Promise.allSettled([instance.call(order(key, 9999))]);
    const [retry] = await Promise.allSettled([instance.call(order(key))]);
    const extraExecutions = executions - duplicateExecutions;
    const problems: string[] = [];
    if (duplicateExecutions !== 1) problems.push(`${duplicateExecutions} executions for ${DUPLICATES} concurrent duplicates`);
    if (settled.some((r) => r.status === 'fulfilled' && r.value.chargeId !== firstId)) problems.push('duplicates got different results');
    if (other!.status === 'fulfilled') problems.push('another payload under the same key was answered, not refused');
    if (retry!.status === 'rejected') problems.push(`a plain retry after completion failed (${errorLabel(retry!.reason)})`);
    else if (retry!.value.chargeId !== firstId) problems.push('a plain retry after completion got another result');
    if (extraExecutions > 0) problems.push(`${extraExecutions} more execution(s) after completion`);
    return {
      duplicateExecutions,
      duplicateAnswers,
      otherPayload: label(other!),
      retry: label(retry!),
      extraExecutions,
      correct: problems.length === 0,
      problems,
    };
  } finally {
    await instance.close();
  }
}

interface Timed {
  readonly miss: number[];
  readonly hit: number[];
  readonly hitError?: string;
  readonly hitReran?: number;
}

async function timeFunction(
  subject: FunctionSubject,
  newNamespace: () => string,
  cleanup: (namespace: string) => Promise<void>,
  durationMs: number,
  concurrency: number,
  hitKeys: number,
): Promise<{ miss: number; hit: number; hitError?: string; hitReran?: number }> {
  let n = 0;
  const handler: ChargeFn = async (o) => makeCharge(++n, o);
  const withInstance = async <T>(fn: (instance: Instance) => Promise<T>): Promise<T> => {
    const namespace = newNamespace();
    const instance = await subject.create(handler, namespace);
    try {
      return await fn(instance);
    } finally {
      await instance.close();
      await cleanup(namespace);
    }
  };
  const miss = await withInstance((i) => inFlight(concurrency, durationMs, (k) => i.call(order(`m-${k}`))));
  let hit = NaN;
  if (subject.store === 'none') return { miss: miss.opsPerSec, hit }; // nothing to replay
  let hitError: string | undefined;
  let hitReran: number | undefined;
  await withInstance(async (i) => {
    await forEachLimited(hitKeys, concurrency, (k) => i.call(order(`h-${k}`)));
    const before = n;
    try {
      hit = (await inFlight(concurrency, durationMs, (k) => i.call(order(`h-${k % hitKeys}`)))).opsPerSec;
    } catch (error) {
      hitError = errorLabel(error);
    }
    if (n !== before) hitReran = n - before;
  });
  return { miss: miss.opsPerSec, hit, ...(hitError ? { hitError } : {}), ...(hitReran ? { hitReran } : {}) };
}

// ---------------------------------------------------------------------------------------------
// HTTP

const ORDER_BODY = JSON.stringify({ item: 'sku_8Hq2Lm', quantity: 2, address: { city: 'Lyon', zip: '69002' } });
const OTHER_BODY = JSON.stringify({ item: 'sku_8Hq2Lm', quantity: 3, address: { city: 'Lyon', zip: '69002' } });

async function post(url: string, key: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body,
  });
  return { status: res.status, body: await res.text() };
}

async function checkHttp(subject: ExpressSubject): Promise<Correctness> {
  const instance = await subject.start();
  try {
    instance.setDelay(CHECK_DELAY_MS);
    const key = `dup-${randomBytes(4).toString('hex')}`;
    const answers = await Promise.all(Array.from({ length: DUPLICATES }, () => post(instance.url, key, ORDER_BODY)));
    const duplicateExecutions = instance.executions();
    const created = answers.filter((a) => a.status === 201);
    const firstBody = created[0]?.body;
    // Retried at once: a middleware that stores the response only after sending it may answer 409.
    const other = await post(instance.url, key, OTHER_BODY);
    const retry = await post(instance.url, key, ORDER_BODY);
    const extraExecutions = instance.executions() - duplicateExecutions;
    const statusLabel = (a: { status: number; body: string }) =>
      a.status === 201 && a.body !== firstBody ? '201 (another order)' : String(a.status);
    const problems: string[] = [];
    if (duplicateExecutions !== 1) problems.push(`${duplicateExecutions} executions for ${DUPLICATES} concurrent duplicates`);
    if (new Set(created.map((a) => a.body)).size > 1) problems.push('duplicates got different orders');
    if (other.status < 400) problems.push(`another body under the same key was answered ${other.status}, not refused`);
    if (retry.status !== 201 || retry.body !== firstBody)
      problems.push(`a plain retry after completion got ${retry.status}${retry.status === 201 ? ' with another body' : ''}`);
    if (extraExecutions > 0) problems.push(`${extraExecutions} more execution(s) after completion`);
    return {
      duplicateExecutions,
      duplicateAnswers: tally(answers.map(statusLabel)),
      otherPayload: statusLabel(other),
      retry: retry.status === 201 && retry.body === firstBody ? '201 (first order)' : statusLabel(retry),
      extraExecutions,
      correct: problems.length === 0,
      problems,
    };
  } finally {
    await instance.close();
  }
}

/** A load run's figures plus the server's CPU time per request (this process serves). */
type Served = LoadResult & { readonly cpuUsPerRequest: number };

interface HttpTimed {
  readonly miss: Served;
  readonly hit: Served | undefined;
  readonly hitReran: number;
}

async function timeHttp(
  subject: ExpressSubject,
  durationSec: number,
  warmupSec: number,
  connections: number,
  hitKeys: number,
): Promise<HttpTimed> {
  const run = async (fn: (instance: ExpressInstance, measure: (load: Promise<LoadResult>) => Promise<Served>) => Promise<Served>) => {
    const instance = await subject.start();
    // CPU time of this process (the server) over the load, warm-up included, per request served.
    const measure = async (running: Promise<LoadResult>): Promise<Served> => {
      const cpu = process.cpuUsage();
      const requests = instance.requests();
      const result = await running;
      const used = process.cpuUsage(cpu);
      return { ...result, cpuUsPerRequest: (used.user + used.system) / Math.max(1, instance.requests() - requests) };
    };
    try {
      return { result: await fn(instance, measure), executions: instance.executions() };
    } finally {
      await instance.close();
    }
  };
  const base = { method: 'POST', path: '/orders', body: ORDER_BODY, connections, durationSec, warmupSec };
  const prefix = `k${randomBytes(4).toString('hex')}`;
  const miss = await run((i, measure) =>
    measure(load({ ...base, url: i.url, keys: subject.store === 'none' ? { mode: 'none' } : { mode: 'fresh', prefix } })),
  );
  if (subject.store === 'none') return { miss: miss.result, hit: undefined, hitReran: 0 };
  let hitReran = 0;
  const hit = await run(async (i, measure) => {
    for (let k = 0; k < hitKeys; k++) {
      const r = await post(i.url, `${prefix}-hit-${k}`, ORDER_BODY);
      if (r.status !== 201) throw new Error(`${subject.name}: prefill answered ${r.status}`);
    }
    await sleep(50);
    const before = i.executions();
    const result = await measure(load({ ...base, url: i.url, keys: { mode: 'cycle', prefix: `${prefix}-hit`, count: hitKeys } }));
    hitReran = i.executions() - before;
    return result;
  });
  return { miss: miss.result, hit: hit.result, hitReran };
}

function unexpectedStatuses(r: LoadResult, ok: number): string | undefined {
  const other = Object.entries(r.statuses).filter(([code]) => Number(code) !== ok);
  const bad = other.reduce((s, [, n]) => s + n, 0) + r.errors + r.timeouts;
  if (bad === 0) return undefined;
  return `${bad} of ${r.total + r.errors} responses were not ${ok} (${other.map(([c, n]) => `${n}× ${c}`).join(', ')}${r.errors ? `, ${r.errors} errors` : ''}${r.timeouts ? `, ${r.timeouts} timeouts` : ''})`;
}

// ---------------------------------------------------------------------------------------------

/** Checks, then times, every subject; returns one row per subject. */
export async function benchAlternatives(options: AlternativesOptions = {}): Promise<AlternativesResult> {
  const quick = options.quick ?? false;
  const log = options.log ?? (() => undefined);
  const durationMs = options.durationMs ?? (quick ? 150 : 1500);
  const concurrency = options.concurrency ?? 16;
  const rounds = options.rounds ?? (quick ? 1 : 3);
  const httpDurationSec = options.httpDurationSec ?? (quick ? 1 : 4);
  const connections = options.connections ?? 32;
  const hitKeys = quick ? 50 : 1000;
  const httpHitKeys = quick ? 20 : 500;
  const rows: AlternativeRow[] = [];
  const notes: string[] = [];
  const skipped: string[] = [];

  let url = options.redisUrl === undefined ? redisUrl() : options.redisUrl;
  if (url !== null) {
    const problem = await redisProblem(url);
    if (problem) {
      skipped.push(`Redis rows skipped: ${problem}`);
      url = null;
    }
  }
  const run = `oncekey-bench-alt:${process.pid}-${randomBytes(3).toString('hex')}`;
  let namespaces = 0;
  const newNamespace = () => `${run}:${++namespaces}`;
  const cleanup = async (namespace: string) => {
    if (url) await deleteRedisKeys(url, `${namespace}*`);
  };

  try {
    if (options.functions ?? true) {
      const groups: { store: 'memory' | 'redis'; subjects: FunctionSubject[] }[] = [
        { store: 'memory', subjects: [bareFunction, oncekeyMemory, nodeIdempotencyMemory] },
      ];
      if (url) {
        groups.push({
          store: 'redis',
          subjects: [
            oncekeyRedis(url),
            powertoolsRedis(url, { validatePayload: true, lambdaContext: true }),
            powertoolsRedis(url, { validatePayload: false, lambdaContext: true }),
            nodeIdempotencyRedis(url),
          ],
        });
        // Outside Lambda there is no context unless the user registers one: show what happens then.
        const bare = powertoolsRedis(url, { validatePayload: true, lambdaContext: false });
        const namespace = newNamespace();
        const c = await quietly(() => checkFunction(bare, namespace));
        await cleanup(namespace);
        notes.push(
          `Powertools without registerLambdaContext (a plain Node service): ${c.duplicateExecutions} executions for ${DUPLICATES} concurrent duplicates (${c.duplicateAnswers}) — an in-progress record without an in-progress expiry is taken for an orphan and run again; the rows below register a context.`,
        );
      }
      for (const group of groups) {
        const checks = new Map<FunctionSubject, Correctness>();
        for (const s of group.subjects) {
          log(`alternatives: checking ${s.name} (${s.store})`);
          const namespace = newNamespace();
          checks.set(s, await checkFunction(s, namespace));
          await cleanup(namespace);
        }
        // Warm-up: one short miss+hit run each, not recorded.
        for (const s of group.subjects)
          await timeFunction(s, newNamespace, cleanup, Math.min(300, durationMs), concurrency, Math.min(hitKeys, 100));
        const timed = new Map<FunctionSubject, Timed>(group.subjects.map((s) => [s, { miss: [], hit: [] }]));
        for (let r = 0; r < rounds; r++) {
          const order_ = r % 2 ? [...group.subjects].reverse() : group.subjects;
          for (const s of order_) {
            log(`alternatives: round ${r + 1}/${rounds} ${s.name} (${group.store})`);
            const t = await timeFunction(s, newNamespace, cleanup, durationMs, concurrency, hitKeys);
            const prev = timed.get(s)!;
            timed.set(s, {
              miss: [...prev.miss, t.miss],
              hit: [...prev.hit, t.hit],
              ...(t.hitError ? { hitError: t.hitError } : prev.hitError ? { hitError: prev.hitError } : {}),
              ...((t.hitReran ?? 0) + (prev.hitReran ?? 0) > 0 ? { hitReran: (t.hitReran ?? 0) + (prev.hitReran ?? 0) } : {}),
            });
          }
        }
        const reference = group.subjects.find((s) => s.name.startsWith('Oncekey'))!;
        const ref = timed.get(reference)!;
        for (const s of group.subjects) {
          const t = timed.get(s)!;
          const remarks: string[] = [];
          if (t.hitError) remarks.push(`hit path: every replay failed with ${t.hitError}`);
          if (t.hitReran) remarks.push(`hit path ran the handler ${t.hitReran} times`);
          const hitOk = !t.hitError && t.hit.every(Number.isFinite);
          rows.push({
            api: 'function',
            store: s.store === 'none' ? 'none' : group.store,
            name: s.name,
            config: s.config,
            correctness: checks.get(s)!,
            miss: Math.round(median(t.miss)),
            hit: hitOk ? Math.round(median(t.hit)) : NaN,
            missVsOncekey: pairedRatio(t.miss, ref.miss),
            hitVsOncekey: hitOk && s.store !== 'none' ? pairedRatio(t.hit, ref.hit) : NaN,
            remarks,
          });
        }
      }
    }

    if (options.http ?? true) {
      const subjects = [bareExpress, oncekeyExpress, expressIdempotencyMemory];
      const checks = new Map<ExpressSubject, Correctness>();
      for (const s of subjects) {
        log(`alternatives: checking ${s.name}`);
        checks.set(s, await checkHttp(s));
      }
      const warmupSec = quick ? 0 : 1;
      const timed = new Map<ExpressSubject, HttpTimed[]>(subjects.map((s) => [s, []]));
      for (let r = 0; r < rounds; r++) {
        const order_ = r % 2 ? [...subjects].reverse() : subjects;
        for (const s of order_) {
          log(`alternatives: HTTP round ${r + 1}/${rounds} ${s.name}`);
          timed.get(s)!.push(await timeHttp(s, httpDurationSec, warmupSec, connections, httpHitKeys));
        }
      }
      const ref = timed.get(oncekeyExpress)!;
      const bare = timed.get(bareExpress)!;
      for (const s of subjects) {
        const t = timed.get(s)!;
        const remarks: string[] = [];
        const missBad = t.map((x) => unexpectedStatuses(x.miss, 201)).find(Boolean);
        if (missBad) remarks.push(`miss path: ${missBad}`);
        const hitBad = t.map((x) => (x.hit ? unexpectedStatuses(x.hit, 201) : undefined)).find(Boolean);
        if (hitBad) remarks.push(`hit path: ${hitBad}`);
        const reran = t.reduce((sum, x) => sum + x.hitReran, 0);
        if (reran > 0) remarks.push(`hit path ran the handler ${reran} times`);
        const hits = t.map((x) => x.hit?.rps ?? NaN);
        rows.push({
          api: 'http',
          store: s.store,
          name: s.name,
          config: s.config,
          correctness: checks.get(s)!,
          miss: Math.round(median(t.map((x) => x.miss.rps))),
          hit: s.store === 'none' ? NaN : Math.round(median(hits)),
          missP99: median(t.map((x) => x.miss.p99)),
          missCpuUs: Math.round(median(t.map((x) => x.miss.cpuUsPerRequest))),
          missVsBare: pairedRatio(
            t.map((x) => x.miss.rps),
            bare.map((x) => x.miss.rps),
          ),
          ...(s.store === 'none'
            ? {}
            : {
                hitP99: median(t.map((x) => x.hit?.p99 ?? NaN)),
                hitCpuUs: Math.round(median(t.map((x) => x.hit?.cpuUsPerRequest ?? NaN))),
              }),
          missVsOncekey: pairedRatio(
            t.map((x) => x.miss.rps),
            ref.map((x) => x.miss.rps),
          ),
          hitVsOncekey:
            s.store === 'none'
              ? NaN
              : pairedRatio(
                  hits,
                  ref.map((x) => x.hit?.rps ?? NaN),
                ),
          remarks,
        });
      }
    }
  } finally {
    if (url) await deleteRedisKeys(url, `${run}:*`);
  }

  return {
    rows,
    notes,
    skipped,
    functionMethod: `in-process loop, ${concurrency} calls in flight, ${durationMs} ms per run, ${rounds} interleaved round(s) after a warm-up, a fresh instance and key namespace per run; miss = a new key per call, hit = ${hitKeys} completed keys replayed in turn`,
    httpMethod: `autocannon in its own process, ${connections} connections, ${httpDurationSec} s per run after a ${quick ? 0 : 1} s warm-up, ${rounds} interleaved round(s), a fresh app and store per run; miss = a new Idempotency-Key per request, hit = ${httpHitKeys} completed keys replayed in turn`,
  };
}

// ---------------------------------------------------------------------------------------------
// Tables

const verdict = (c: Correctness) => (c.correct ? 'yes' : 'NO');

function baseCells(r: AlternativeRow): Row {
  return {
    store: r.store,
    name: r.name,
    correct: verdict(r.correctness),
    dupRuns: r.correctness.duplicateExecutions,
    dupAnswers: r.correctness.duplicateAnswers,
    other: r.correctness.otherPayload,
    retry: r.correctness.retry,
    miss: r.miss,
    missVsOncekey: r.missVsOncekey,
    hit: r.hit,
    hitVsOncekey: r.hitVsOncekey,
  };
}

const correctnessColumns: Column[] = [
  { key: 'store', label: 'store', kind: 'text' },
  { key: 'name', label: 'library', kind: 'text' },
  { key: 'dupRuns', label: `runs of ${DUPLICATES} dups`, kind: 'int' },
  { key: 'dupAnswers', label: 'the duplicates got', kind: 'text' },
  { key: 'other', label: 'other payload →', kind: 'text' },
  { key: 'retry', label: 'retry after done →', kind: 'text' },
];

function rowNotes(rows: readonly AlternativeRow[]): string[] {
  const notes: string[] = [];
  for (const r of rows) {
    if (!r.correctness.correct) notes.push(`${r.name} (${r.store}) is not correct: ${r.correctness.problems.join('; ')}.`);
    for (const remark of r.remarks) notes.push(`${r.name} (${r.store}): ${remark}.`);
  }
  return notes;
}

/** The function-API and HTTP tables of `npm run bench`. */
export function alternativesTopics(result: AlternativesResult): Topic[] {
  const functionRows = result.rows.filter((r) => r.api === 'function');
  const httpRows = result.rows.filter((r) => r.api === 'http');
  const topics: Topic[] = [];
  if (functionRows.length > 0 || httpRows.length === 0)
    topics.push({
      topic: 'alternatives',
      title: 'Alternatives, function API: correctness, then calls/s (miss and hit path)',
      method: result.functionMethod,
      baseline: 'the Oncekey row on the same store, same round (the bare function is compared with Oncekey on memory)',
      columns: [
        ...correctnessColumns,
        { key: 'correct', label: 'correct', kind: 'text' },
        { key: 'miss', label: 'miss calls/s', kind: 'int' },
        { key: 'missVsOncekey', label: 'miss vs Oncekey', kind: 'ratio' },
        { key: 'hit', label: 'hit calls/s', kind: 'int' },
        { key: 'hitVsOncekey', label: 'hit vs Oncekey', kind: 'ratio' },
      ],
      rows: functionRows.map(baseCells),
      notes: [
        ...result.skipped,
        ...result.notes,
        ...rowNotes(functionRows),
        "Per call, Oncekey wrap also arms a lease heartbeat (one background timer; the AbortSignal only when the function reads it), fingerprints the input as RFC 8785 canonical JSON + SHA-256 (node-idempotency: JSON.stringify + BLAKE2s; Powertools: MD5 of the selected field), checks that the result is strict JSON, and makes duplicates in flight wait for the first result instead of failing them. Its memoryStore is bounded (10 000 records, evicting the oldest completed); node-idempotency's memory adapter is an unbounded Map.",
      ],
    });
  if (httpRows.length > 0) {
    topics.push({
      topic: 'alternatives-http',
      title: 'Alternatives, HTTP (Express): correctness, then requests/s (miss and hit path)',
      method: result.httpMethod,
      baseline:
        "the Express + oncekey/express row (vs Oncekey) or bare Express (vs bare), same round; CPU µs/req is the server process's CPU time per request served",
      columns: [
        ...correctnessColumns,
        { key: 'correct', label: 'correct', kind: 'text' },
        { key: 'miss', label: 'miss req/s', kind: 'int' },
        { key: 'missP99', label: 'miss p99 ms', kind: 'float' },
        { key: 'missCpuUs', label: 'miss CPU µs/req', kind: 'int' },
        { key: 'missVsOncekey', label: 'miss vs Oncekey', kind: 'ratio' },
        { key: 'missVsBare', label: 'miss vs bare', kind: 'ratio' },
        { key: 'hit', label: 'hit req/s', kind: 'int' },
        { key: 'hitP99', label: 'hit p99 ms', kind: 'float' },
        { key: 'hitCpuUs', label: 'hit CPU µs/req', kind: 'int' },
        { key: 'hitVsOncekey', label: 'hit vs Oncekey', kind: 'ratio' },
      ],
      rows: httpRows.map((r) => ({
        ...baseCells(r),
        missP99: r.missP99 ?? null,
        missCpuUs: r.missCpuUs ?? null,
        missVsBare: r.missVsBare ?? null,
        hitP99: r.hitP99 ?? null,
        hitCpuUs: r.hitCpuUs ?? null,
      })),
      notes: [
        ...rowNotes(httpRows),
        'express-idempotency keeps its in-memory records in an array searched linearly on every request, so its miss path slows down as keys accumulate within a run; it stores the response after sending it (fire and forget).',
      ],
    });
  }
  return topics;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchAlternatives({
    quick: process.argv.includes('--quick'),
    http: !process.argv.includes('--no-http'),
    functions: !process.argv.includes('--no-functions'),
    log: (line) => console.error(line),
  });
  if (process.argv.includes('--json'))
    console.log(JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  else for (const topic of alternativesTopics(result)) console.log(`${formatText(topic)}\n`);
}
