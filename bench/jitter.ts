/**
 * Jitter simulation: the workload of the AWS Architecture Blog's "Exponential Backoff And
 * Jitter" (Marc Brooker, 2015). N clients all start at once and each must write once to one
 * resource guarded by optimistic concurrency control. Time is cut into slots of `slotMs` (one
 * write's duration); among the attempts that land in the same slot one commits and every other
 * one conflicts, gets its failure at the end of the slot, and backs off. We count the calls made
 * and the time until the last client succeeded, for exponential backoff without jitter, with full
 * and equal jitter, and for decorrelated jitter, on the same workload and the same seeds.
 *
 * Pure and deterministic: fake time, seeded randomness, the library's own backoff generators.
 *
 *   npx tsx bench/jitter.ts [--json] [--clients 100] [--runs 5] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import { decorrelatedBackoff, exponentialBackoff, seededRandom, type Backoff } from '../src/resilience/index.js';

export type JitterStrategy = 'none' | 'full' | 'equal' | 'decorrelated';

export interface JitterBenchOptions {
  /** Clients contending at once; default 100. */
  readonly clients?: number;
  /** Duration of one write, the unit of contention; default 1 ms. */
  readonly slotMs?: number;
  /** Backoff base (first ceiling); default 5 ms. */
  readonly initialDelayMs?: number;
  /** Cap on each delay; default 10 000 ms. */
  readonly maxDelayMs?: number;
  /** Runs per strategy, each on its own seed; results are averaged. Default 5. */
  readonly runs?: number;
  /** Seed of the first run; default 1. */
  readonly seed?: number;
}

export interface JitterBenchResult {
  readonly strategy: JitterStrategy;
  /** Calls made by all clients together (first attempts included), mean over the runs. */
  readonly calls: number;
  /** Fake time until the last client's write committed, mean over the runs. */
  readonly completionMs: number;
  /** Calls per run, in run order. */
  readonly callsPerRun: readonly number[];
  readonly completionMsPerRun: readonly number[];
}

export const JITTER_STRATEGIES: readonly JitterStrategy[] = ['none', 'full', 'equal', 'decorrelated'];

function backoffFor(strategy: JitterStrategy, initialDelayMs: number, maxDelayMs: number): Backoff {
  if (strategy === 'decorrelated') return decorrelatedBackoff({ initialDelayMs, maxDelayMs });
  return exponentialBackoff({ initialDelayMs, maxDelayMs, factor: 2, jitter: strategy });
}

/** One run: returns the calls made and when the last client finished. */
export function simulateContention(
  strategy: JitterStrategy,
  options: Required<Omit<JitterBenchOptions, 'runs'>>,
): { calls: number; completionMs: number } {
  const { clients, slotMs, initialDelayMs, maxDelayMs, seed } = options;
  const random = seededRandom(seed);
  const backoff = backoffFor(strategy, initialDelayMs, maxDelayMs);
  // Every client keeps its own backoff sequence; all draw from one seeded source.
  const pending = Array.from({ length: clients }, () => ({ at: 0, delays: backoff(random) }));
  let calls = 0;
  let completionMs = 0;
  const maxCalls = clients * clients * 10;

  while (pending.length > 0) {
    if (calls > maxCalls) throw new Error(`simulation did not converge after ${calls} calls`);
    let earliest = Infinity;
    for (const p of pending) earliest = Math.min(earliest, p.at);
    const slot = Math.floor(earliest / slotMs);
    const contenders = pending.filter((p) => Math.floor(p.at / slotMs) === slot);
    calls += contenders.length;
    const winner = contenders[Math.floor(random() * contenders.length)]!;
    const slotEnd = (slot + 1) * slotMs;
    pending.splice(pending.indexOf(winner), 1);
    completionMs = slotEnd;
    for (const loser of contenders) {
      if (loser === winner) continue;
      const next = loser.delays.next();
      loser.at = slotEnd + (next.done ? 0 : next.value);
    }
  }
  return { calls, completionMs };
}

/** Run every strategy on the same workload and seeds. */
export function benchJitter(options: JitterBenchOptions = {}): JitterBenchResult[] {
  const base = {
    clients: options.clients ?? 100,
    slotMs: options.slotMs ?? 1,
    initialDelayMs: options.initialDelayMs ?? 5,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    seed: options.seed ?? 1,
  };
  const runs = options.runs ?? 5;
  return JITTER_STRATEGIES.map((strategy) => {
    const results = Array.from({ length: runs }, (_, i) => simulateContention(strategy, { ...base, seed: base.seed + i }));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const callsPerRun = results.map((r) => r.calls);
    const completionMsPerRun = results.map((r) => r.completionMs);
    return { strategy, calls: mean(callsPerRun), completionMs: mean(completionMsPerRun), callsPerRun, completionMsPerRun };
  });
}

export function formatJitterBench(results: readonly JitterBenchResult[]): string {
  const rows = results.map((r) => [r.strategy, r.calls.toFixed(0), r.completionMs.toFixed(0)]);
  const header = ['jitter', 'calls', 'completion ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const clients = flag('--clients');
  const runs = flag('--runs');
  const seed = flag('--seed');
  const results = benchJitter({
    ...(clients ? { clients } : {}),
    ...(runs ? { runs } : {}),
    ...(seed ? { seed } : {}),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : formatJitterBench(results));
}
