/**
 * `npm run test:faults -- [--seed N] [--only NAME[,NAME]] [--duration 10m] [--scale N]`
 *
 * Runs the fault-injection suite (vitest.faults.config.ts) once, or, with `--duration`, pass
 * after pass with fresh seeds until the duration is used up (a soak; a pass is started only while
 * time is left). `--seed` replays a run's choices, `--only` keeps the scenarios whose name contains
 * one of the given parts, `--scale` multiplies the work in each scenario. Exits non-zero on the
 * first failing pass, and prints every scenario's counts at the end.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ms from 'ms';

const USAGE = 'usage: npm run test:faults -- [--seed N] [--only NAME[,NAME...]] [--duration 10m] [--scale N]';
const REPO = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let values: { seed?: string; only?: string; duration?: string; scale?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      seed: { type: 'string' },
      only: { type: 'string' },
      duration: { type: 'string' },
      scale: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) fail(`--seed: expected a non-negative integer, got ${values.seed}`);
const durationMs = values.duration === undefined ? 0 : ms(values.duration);
if (durationMs === undefined || !Number.isFinite(durationMs) || durationMs < 0)
  fail(`--duration: expected a duration such as 10m, got ${values.duration}`);
const scale = values.scale === undefined ? 1 : Number(values.scale);
if (!Number.isSafeInteger(scale) || scale < 1) fail(`--scale: expected a positive integer, got ${values.scale}`);

const dir = mkdtempSync(join(tmpdir(), 'oncekey-faults-run-'));
const results = join(dir, 'results.txt');

function pass(passSeed: number): Promise<number> {
  process.stdout.write(
    `\n[faults] pass with seed ${passSeed}${values.only ? ` (only ${values.only})` : ''}${scale > 1 ? ` (scale ${scale})` : ''}\n`,
  );
  const child = spawn(process.execPath, [VITEST, 'run', '--config', 'vitest.faults.config.ts'], {
    cwd: REPO,
    stdio: 'inherit',
    env: {
      ...process.env,
      ONCEKEY_FAULT_SEED: String(passSeed),
      ONCEKEY_FAULT_SCALE: String(scale),
      ONCEKEY_FAULT_RESULTS: results,
      ...(values.only ? { ONCEKEY_FAULT_ONLY: values.only } : {}),
    },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    }),
  );
}

const start = performance.now();
let code: number;
let passes = 0;
do {
  code = await pass(seed + passes);
  passes++;
} while (code === 0 && performance.now() - start < durationMs);

let lines: string[] = [];
try {
  lines = readFileSync(results, 'utf8').split('\n').filter(Boolean);
} catch {
  // no scenario reported (all skipped, or vitest failed before running one)
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `\n[faults] ${passes} pass(es) in ${((performance.now() - start) / 1000).toFixed(0)} s, first seed ${seed}; counts per scenario:\n${lines.join('\n')}\n`,
);
process.stdout.write(
  code === 0
    ? '[faults] all scenarios valid\n'
    : `[faults] FAILED (exit ${code}); replay with: npm run test:faults -- --seed ${seed + passes - 1}\n`,
);
process.exit(code);
