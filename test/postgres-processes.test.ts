/**
 * Several OS processes on one PostgreSQL table behave like one: across 5 processes firing 10
 * concurrent begins each on 200 keys (50 per key), exactly one begin per key acquires.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, POSTGRES_URL } from './helpers/services.js';
import { pgTestBed, type PgTestBed } from './fixtures/pg-store.js';

const WORKER = fileURLToPath(new URL('./fixtures/pg-begin-worker.ts', import.meta.url));
const PROCESSES = 5;
const KEYS = 200;
const CALLERS = 10;

/** Spawn a worker; resolves once it said `ready`; `result` resolves with its JSON line. */
function startWorker(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; result: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${stderr}`))));
  exited.catch(() => undefined);
  const next = async () => (await Promise.race([lines.next(), exited])).value as string;
  return next().then((line) => {
    if (line !== 'ready') throw new Error(`worker said ${line}: ${stderr}`);
    return { child, result: next().then((l) => JSON.parse(l) as unknown) };
  });
}

describePostgres()('postgres store across processes', () => {
  let bed: PgTestBed;
  beforeAll(() => {
    bed = pgTestBed(POSTGRES_URL!);
  });
  afterAll(async () => {
    await bed?.end();
  });

  it(`${PROCESSES} processes x ${CALLERS} concurrent begins on ${KEYS} keys: exactly one acquired per key`, async () => {
    const store = await bed.create();
    try {
      const workers = await Promise.all(
        Array.from({ length: PROCESSES }, () => startWorker([POSTGRES_URL!, store.schema, store.table, String(KEYS), String(CALLERS)])),
      );
      for (const w of workers) w.child.stdin.write('go\n');
      const results = (await Promise.all(workers.map((w) => w.result))) as { acquired: string[]; other: string[] }[];
      const acquired = results.flatMap((r) => r.acquired).sort();
      expect(acquired).toEqual(Array.from({ length: KEYS }, (_, i) => `key-${i}`).sort());
      expect(new Set(results.flatMap((r) => r.other))).toEqual(new Set(['in_progress']));
      const { rows } = await bed.admin.query(`SELECT count(*)::int AS n, max(attempt) AS attempt FROM "${store.schema}"."${store.table}"`);
      expect(rows[0]).toEqual({ n: KEYS, attempt: 1 });
    } finally {
      await bed.destroy(store);
    }
  });
});
