/**
 * `npm start` works on a fresh checkout: it starts the orders API and the gateway on the default
 * SQLite store, and the three curl commands it prints really show a replay, a 409 and a 422.
 * The commands are read from its output and sent as printed (with fetch).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TSX } from './fixtures/gateway-process.js';
import { sample, scrape } from './fixtures/gateway-metrics.js';

const START = fileURLToPath(new URL('../examples/start.ts', import.meta.url));
const PROBLEM = 'https://oncekey.dev/problems/';

interface Curl {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** Shell words of a line, with single quotes; `&` and `;` as words of their own. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|([^\s';&]+)|([;&])/g)) out.push(match[1] ?? match[2] ?? match[3]!);
  return out;
}

/** The curl invocations of one printed command line, in order. */
function curls(line: string): Curl[] {
  const result: Curl[] = [];
  const all = words(line);
  for (let i = 0; i < all.length; i++) {
    if (all[i] !== 'curl') continue;
    let url = '';
    let method = 'GET';
    let body: string | undefined;
    const headers: Record<string, string> = {};
    for (i++; i < all.length && all[i] !== '&' && all[i] !== ';'; i++) {
      const w = all[i]!;
      if (w === '-X') method = all[++i]!;
      else if (w === '-H') {
        const [name, ...value] = all[++i]!.split(':');
        headers[name!.trim().toLowerCase()] = value.join(':').trim();
      } else if (w === '-d') {
        body = all[++i]!;
        if (method === 'GET') method = 'POST';
      } else if (w === '-o') i++;
      else if (w.startsWith('http')) url = w;
      else if (!/^-[is]+$/.test(w)) throw new Error(`unexpected curl argument ${w} in: ${line}`);
    }
    result.push({ url, method, headers, body });
  }
  return result;
}

const send = (c: Curl) => fetch(c.url, { method: c.method, headers: c.headers, ...(c.body === undefined ? {} : { body: c.body }) });

describe('npm start', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'oncekey-start-'));
  let child: ChildProcess;
  let output = '';
  let errors = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', TSX, START], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ORDERS_PORT: '0', ONCEKEY_PORT: '0', ONCEKEY_ADMIN_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => output.includes('Ctrl-C stops both.') && resolve());
      void exited.then((code) => reject(new Error(`npm start exited (${code}):\n${output}\n${errors}`)));
    });
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  });

  test('says which port is which, uses the default SQLite store, and its three curls show a replay, a 409 and a 422', async () => {
    const api = /orders API .*?(http:\/\/\S+)/.exec(output)?.[1];
    const gateway = /Oncekey gateway .*?(http:\/\/\S+)/.exec(output)?.[1];
    const admin = /gateway admin .*?(http:\/\/\S+)/.exec(output)?.[1];
    expect(api).toBeDefined();
    expect(gateway).toBeDefined();
    expect(admin).toBeDefined();
    expect(new Set([api, gateway, admin]).size).toBe(3);
    expect(output).toContain('keys stored in sqlite:.oncekey/oncekey.db');
    expect(existsSync(join(cwd, '.oncekey', 'oncekey.db'))).toBe(true);

    const commands = output
      .split('\n')
      .filter((line) => line.trimStart().startsWith('curl'))
      .map(curls);
    expect(commands).toHaveLength(4); // replay, 409, 422, the list of orders
    const [[replay], [background, conflict], [mismatch], [list]] = commands as [[Curl], [Curl, Curl], [Curl], [Curl]];
    for (const c of [replay, background, conflict, mismatch, list]) expect(c.url.startsWith(`${gateway}/`)).toBe(true);

    // 1. Run twice: the order is created once, the second answer is its replay.
    const first = await send(replay);
    const firstBody = await first.text();
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await send(replay);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(firstBody);

    // 2. The printed command backgrounds the first call and sleeps 1 s; here, instead of
    // sleeping, wait until the gateway has taken the key (its store saw one more begin).
    const begins = async () =>
      sample(await scrape(admin!), 'oncekey_store_operation_duration_seconds_count', { operation: 'begin', result: 'ok' });
    const before = await begins();
    const running = send(background);
    while ((await begins()) === before) await new Promise((r) => setTimeout(r, 20));
    const duplicate = await send(conflict);
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await duplicate.json()).toMatchObject({ type: `${PROBLEM}key-in-use`, status: 409 });
    expect((await running).status).toBe(201);

    // 3. The first key with another body: 422, nothing runs.
    const other = await send(mismatch);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ type: `${PROBLEM}fingerprint-mismatch`, status: 422 });

    // One order per key, however many calls.
    const orders = (await (await send(list)).json()) as { item: string; quantity: number }[];
    expect(orders.map((o) => `${o.item}×${o.quantity}`).sort()).toEqual(['book×1', 'pen×2']);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
