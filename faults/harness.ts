/**
 * One scenario, start to verdict: a seed, a history, a temp dir, teardowns that always run (even
 * when the scenario throws), then the checker; the counts line is printed and appended to the
 * results file, the full history is kept on failure.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckInput, type Verdict, check, formatCounts } from './checker.js';
import { type Entry, History } from './history.js';
import { type Random, hash, random } from './random.js';

/** The suite's seed: `--seed` (ONCEKEY_FAULT_SEED), else drawn now and printed. */
export const SEED =
  process.env.ONCEKEY_FAULT_SEED !== undefined && process.env.ONCEKEY_FAULT_SEED !== ''
    ? Number(process.env.ONCEKEY_FAULT_SEED) >>> 0
    : (Date.now() ^ process.pid) >>> 0;
/** Multiplies the amount of work per scenario (`--scale`, soak). */
export const SCALE = Math.max(1, Number(process.env.ONCEKEY_FAULT_SCALE ?? 1));
/** Longest a scenario may run before the watchdog stops it (below vitest's testTimeout). */
const LIMIT_MS = Number(process.env.ONCEKEY_FAULT_SCENARIO_LIMIT_MS ?? 180_000) * SCALE;
const OUT = fileURLToPath(new URL('./.out/', import.meta.url));

export interface Scenario {
  readonly name: string;
  /** The scenario's own seed, derived from the suite seed and its name. */
  readonly seed: number;
  readonly rand: Random;
  readonly history: History;
  readonly dir: string;
  /** Run at the end, last registered first, whatever happened. */
  defer(teardown: () => unknown): void;
  /** Extra anomalies the scenario found itself (e.g. an answer on the wrong side of a time boundary). */
  violation(detail: string): void;
}

export interface Outcome extends Omit<CheckInput, 'history'> {
  /** Another history checked in the same scenario (e.g. a second client group). */
  readonly history?: History;
}

/** Run a scenario body and check what it returns; throws (fails the test) on any anomaly. */
export interface ScenarioOptions {
  /** Keep the history and files of a failure for reading; default true (false for the self-check's planted failures). */
  readonly keep?: boolean;
}

export async function runScenario(
  name: string,
  body: (s: Scenario) => Promise<Outcome | Outcome[]>,
  options: ScenarioOptions = {},
): Promise<Verdict[]> {
  const keepFailures = options.keep ?? true;
  const seed = hash(`${SEED}:${name}`);
  const dir = mkdtempSync(join(tmpdir(), `oncekey-faults-${name.replace(/\W+/g, '-')}-`));
  const teardowns: (() => unknown)[] = [];
  const violations: string[] = [];
  const history = new History();
  const started = performance.now();
  const scenario: Scenario = {
    name,
    seed,
    rand: random(seed),
    history,
    dir,
    defer: (teardown) => teardowns.push(teardown),
    violation: (detail) => violations.push(detail),
  };
  let outcomes: Outcome[];
  let completed = false;
  // Every wait in a scenario is bounded; this bounds the whole, and says what was still open.
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} still running after ${LIMIT_MS} ms (seed ${SEED}); ${openOperations(history.entries)}`)),
      LIMIT_MS,
    );
  });
  try {
    const running = body(scenario);
    running.catch(() => {});
    const result = await Promise.race([running, watchdog]);
    outcomes = Array.isArray(result) ? result : [result];
    completed = true;
  } finally {
    clearTimeout(timer);
    for (const teardown of teardowns.reverse()) {
      try {
        await teardown();
      } catch (error) {
        process.stderr.write(`[faults] ${name}: teardown failed: ${String(error)}\n`);
      }
    }
    if (!completed && keepFailures) process.stderr.write(`[faults] ${name}: failed; its files (ledger, store) are kept in ${dir}\n`);
    if (!completed && !keepFailures) rmSync(dir, { recursive: true, force: true });
  }
  const verdicts = outcomes.map((o) => check({ ...o, history: (o.history ?? history).entries }));
  const problems: string[] = [];
  verdicts.forEach((verdict, i) => {
    const label = outcomes.length > 1 ? `${name}#${i + 1}` : name;
    const line = `${formatCounts(label, SEED, verdict.counts)}${nemesis(history.entries)} ${((performance.now() - started) / 1000).toFixed(1)}s${i === 0 && violations.length > 0 ? ` violations=${violations.length}` : ''}`;
    process.stdout.write(`${line}\n`);
    record(line);
    for (const a of verdict.anomalies.filter((a) => a.kind !== 'incomplete').slice(0, 10))
      problems.push(`${label}: ${a.kind} ${a.key}: ${a.detail}`);
    if (!verdict.valid && keepFailures) keep(label, (outcomes[i]!.history ?? history).entries, verdict);
  });
  for (const v of violations.slice(0, 10)) problems.push(`${name}: ${v}`);
  if (violations.length > 0 && verdicts.every((v) => v.valid) && keepFailures) keep(name, history.entries, verdicts[0]!);
  if (problems.length > 0 && keepFailures) process.stderr.write(`[faults] ${name}: its files (ledger, store) are kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
  if (problems.length > 0) {
    throw new Error(`${name} (replay: npm run test:faults -- --seed ${SEED} --only ${name}):\n  ${problems.join('\n  ')}`);
  }
  return verdicts;
}

function openOperations(entries: readonly Entry[]): string {
  const open = new Map<number, Entry>();
  for (const e of entries) {
    if (e.type === 'invoke') open.set(e.id, e);
    else if (e.type !== 'nemesis') open.delete(e.id);
  }
  const tail = entries
    .slice(-8)
    .map((e) => JSON.stringify(e))
    .join('\n    ');
  return `${open.size} operation(s) open: ${[...open.values()]
    .slice(0, 10)
    .map((e) => JSON.stringify(e))
    .join(', ')}; last entries:\n    ${tail}`;
}

/** ` nemesis=crash:4,blackhole:2`, or nothing. */
function nemesis(entries: readonly Entry[]): string {
  const kinds = new Map<string, number>();
  for (const e of entries) if (e.type === 'nemesis') kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  return kinds.size === 0 ? '' : ` nemesis=${[...kinds].map(([k, n]) => `${k}:${n}`).join(',')}`;
}

function record(line: string): void {
  const file = process.env.ONCEKEY_FAULT_RESULTS;
  if (file) appendFileSync(file, `${line}\n`);
}

/** The history and verdict of a failed scenario, for reading (faults/.out/NAME.json). */
function keep(name: string, entries: unknown, verdict: Verdict): void {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, `${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(path, JSON.stringify({ seed: SEED, verdict, history: entries }, null, 1));
  process.stderr.write(`[faults] ${name}: history written to ${path}\n`);
}

/** True when this scenario is selected by `--only` (ONCEKEY_FAULT_ONLY, substrings, comma-separated). */
export function selected(name: string): boolean {
  const only = process.env.ONCEKEY_FAULT_ONLY;
  if (!only) return true;
  return only.split(',').some((part) => part !== '' && name.includes(part));
}
