/**
 * Smoke test of `npm run bench`: the runner and the alternatives and scale benchmarks run at tiny
 * sizes and report in the agreed shape (tables with rows whose ratios are finite numbers). No
 * timing is asserted; what is asserted is structure, and the correctness checks that the
 * alternatives benchmark prints beside its speeds.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alternativesTopics, benchAlternatives } from '../bench/alternatives.js';
import type { Report, Topic } from '../bench/lib/report.js';
import { benchScale, scaleTopics } from '../bench/scale.js';
import { REDIS_URL } from './helpers/services.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every row has each ratio column as a finite number or null (not applicable), and one finite ratio at least. */
function expectWellFormed(topic: Topic): void {
  expect(topic.skipped, `${topic.topic} was skipped`).toBeUndefined();
  expect(topic.rows.length, `${topic.topic} has no rows`).toBeGreaterThan(0);
  expect(topic.method.length).toBeGreaterThan(0);
  expect(topic.baseline.length).toBeGreaterThan(0);
  const ratioKeys = topic.columns.filter((c) => c.kind === 'ratio').map((c) => c.key);
  expect(ratioKeys.length, `${topic.topic} has no ratio column`).toBeGreaterThan(0);
  for (const row of topic.rows) {
    for (const column of topic.columns) expect(row, `${topic.topic} row lacks ${column.key}`).toHaveProperty(column.key);
    const ratios = ratioKeys.map((k) => row[k]);
    for (const r of ratios) {
      if (r === null) continue;
      expect(typeof r, `${topic.topic}: ratio ${String(r)}`).toBe('number');
      // NaN stands for "not measurable" in memory; the JSON output turns it into null.
      if (!Number.isNaN(r)) expect(Number.isFinite(r)).toBe(true);
    }
    expect(
      ratios.some((r) => typeof r === 'number' && Number.isFinite(r)),
      `${topic.topic}: a row without any ratio`,
    ).toBe(true);
  }
}

describe('npm run bench (smoke)', () => {
  it('bench/run.ts --quick --json prints one table per topic with same-run ratios', async () => {
    const { code, stdout, stderr } = await runCli(['--quick', '--json', '--only', 'jitter,store', '--no-results']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report & { findings: string[] };
    expect(report.mode).toBe('quick');
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.cpu.length).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.topics.map((t) => t.topic)).toEqual(['jitter', 'store']);
    for (const topic of report.topics) expectWellFormed(topic);
    // Each store row is paired with its bare reference, measured in the same run.
    const store = report.topics.find((t) => t.topic === 'store')!;
    const names = store.rows.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['sqliteStore NORMAL', 'bare better-sqlite3 NORMAL', 'memoryStore', 'bare Map']));
    expect(store.rows.find((r) => r.name === 'bare Map')!.ratioToBare).toBe(1);
    // The baselines are 1 by construction; the stores' own ratios are the measured ones.
    for (const name of ['memoryStore', 'sqliteStore NORMAL']) {
      const ratio = store.rows.find((r) => r.name === name)?.ratioToBare;
      expect(typeof ratio, `${name} ratioToBare`).toBe('number');
      expect(Number.isFinite(ratio), `${name} ratioToBare ${String(ratio)}`).toBe(true);
      expect(ratio as number, `${name} ratioToBare`).toBeGreaterThan(0);
    }
    expect(Array.isArray(report.findings)).toBe(true);
  });

  it('rejects an unknown topic', async () => {
    const { code, stderr } = await runCli(['--quick', '--json', '--only', 'nope', '--no-results']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unknown topic "nope"/);
  });

  it('alternatives: checks correctness before timing, and reports ratios against Oncekey', async () => {
    // Redis rows only when the tests are given a Redis (ONCEKEY_TEST_REDIS_URL), as elsewhere.
    const result = await benchAlternatives({ quick: true, http: false, durationMs: 40, rounds: 1, redisUrl: REDIS_URL ?? null });
    const [topic] = alternativesTopics(result);
    expectWellFormed(topic!);
    const byName = (name: string, store: string) => result.rows.find((r) => r.name === name && r.store === store);
    const oncekey = byName('Oncekey wrap', 'memory')!;
    expect(oncekey.correctness).toMatchObject({
      duplicateExecutions: 1,
      extraExecutions: 0,
      correct: true,
      otherPayload: 'FINGERPRINT_MISMATCH',
      retry: 'first result',
    });
    expect(oncekey.missVsOncekey).toBe(1);
    // The check sees what it should: without idempotency, every duplicate runs.
    const bare = byName('bare function (no idempotency)', 'none')!;
    expect(bare.correctness.duplicateExecutions).toBe(50);
    expect(bare.correctness.correct).toBe(false);
    expect(byName('@node-idempotency/core', 'memory')!.correctness.duplicateExecutions).toBe(1);
    // Oncekey against itself is 1 by construction; an alternative's ratio is a measured one.
    const nodeIdempotency = byName('@node-idempotency/core', 'memory')!;
    expect(Number.isFinite(nodeIdempotency.missVsOncekey), `missVsOncekey ${nodeIdempotency.missVsOncekey}`).toBe(true);
    expect(nodeIdempotency.missVsOncekey).toBeGreaterThan(0);
    const redis = byName('Oncekey wrap', 'redis');
    if (REDIS_URL) expect(redis?.correctness.correct).toBe(true);
    else expect(redis).toBeUndefined();
  });

  it('scale: latency and footprint by size, sweep against the bare minimum', async () => {
    const result = await benchScale({ stores: ['memory', 'sqlite'], sizes: [200, 400], samples: 20, sweepRecords: 300 });
    expect(result.rows.map((r) => [r.store, r.size])).toEqual([
      ['memory', 200],
      ['memory', 400],
      ['sqlite', 200],
      ['sqlite', 400],
    ]);
    for (const row of result.rows.filter((r) => r.size === 200)) expect(row.beginP50Growth).toBe(1);
    // At the larger size the growth is measured against the first size: a finite, positive ratio.
    for (const row of result.rows.filter((r) => r.size === 400)) {
      for (const growth of [row.beginP50Growth, row.beginP99Growth]) {
        expect(Number.isFinite(growth), `${row.store} growth at 400: ${growth}`).toBe(true);
        expect(growth, `${row.store} growth at 400`).toBeGreaterThan(0);
      }
    }
    // The heap delta of a few hundred records is within GC noise; a file is not.
    for (const row of result.rows) expect(Number.isFinite(row.bytes)).toBe(true);
    for (const row of result.rows.filter((r) => r.store === 'sqlite')) expect(row.bytes).toBeGreaterThan(0);
    // Every expired record is found and removed, and only those.
    for (const sweep of result.sweeps) expect(sweep.removed).toBe(300);
    for (const topic of scaleTopics(result, 'test')) expectWellFormed(topic);
  });
});
