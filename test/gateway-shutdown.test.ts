/**
 * Graceful shutdown of a real gateway process: on SIGTERM it stops accepting, lets the in-flight
 * request finish (and its outcome be stored), closes the store and exits 0; past the deadline it
 * cuts what is left and exits 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sqliteStore } from '../src/store/sqlite.js';
import { GatewayProcess } from './fixtures/gateway-process.js';
import { RecordingUpstream } from './fixtures/gateway-upstream.js';

/** Resolves true once `url` refuses new connections; false if it still accepts after many tries. */
async function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  for (let attempt = 0; attempt < 400; attempt++) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

const post = (url: string, key: string) =>
  fetch(`${url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: '{"n":1}' });

describe('oncekey proxy shutdown', () => {
  const upstream = new RecordingUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-shutdown-'));
  const running: GatewayProcess[] = [];
  beforeAll(() => upstream.start());
  afterEach(async () => {
    upstream.release();
    for (const p of running.splice(0)) await p.stop();
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGTERM: new connections refused, readiness 503, the in-flight request completes and is stored, exit 0', async () => {
    const path = join(dir, 'drain.db');
    const gateway = await GatewayProcess.start([
      'proxy',
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      `sqlite:${path}`,
    ]);
    running.push(gateway);
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);

    upstream.hold();
    const first = post(gateway.url, 'drain-1');
    let answered = false;
    void first.then(
      () => (answered = true),
      () => {},
    );
    await upstream.arrived(upstream.seen.length + 1);

    gateway.child.kill('SIGTERM');
    expect(await refusesConnections(gateway.url)).toBe(true);
    const readiness = await fetch(`${gateway.adminUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toEqual({ status: 'draining' });
    expect(answered).toBe(false);
    expect(gateway.child.exitCode).toBeNull();

    upstream.release();
    const response = await first;
    expect(response.status).toBe(201);
    expect(JSON.parse(await response.text())).toMatchObject({ method: 'POST', url: '/orders' });
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(gateway.stderr).toContain('SIGTERM, finishing 1 in-flight request(s)');

    // The outcome was committed before the store closed: a new gateway on the file replays it.
    const store = sqliteStore({ path });
    try {
      expect((await store.get({ scope: 'anonymous', key: 'drain-1' }))?.state).toBe('completed');
    } finally {
      await store.close();
    }
    expect(upstream.runs('drain-1')).toBe(1);
  });

  test('SIGINT with a request still running at --shutdown-timeout: it is cut, exit 1', async () => {
    const gateway = await GatewayProcess.start([
      'proxy',
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      'memory:',
      '--shutdown-timeout',
      '300ms',
    ]);
    running.push(gateway);
    upstream.hold();
    const stuck = post(gateway.url, 'stuck-1').then(
      (r) => r.status,
      (error: unknown) => error,
    );
    await upstream.arrived(upstream.seen.length + 1);
    gateway.child.kill('SIGINT');
    expect(await gateway.exited).toEqual({ code: 1, signal: null });
    expect(gateway.stderr).toContain('1 request(s) still running after 300 ms were cut');
    expect(await stuck).toBeInstanceOf(Error); // the connection was cut, no answer
  });

  test('SIGTERM when idle: exit 0 at once', async () => {
    const gateway = await GatewayProcess.start([
      'proxy',
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      'memory:',
    ]);
    running.push(gateway);
    await post(gateway.url, 'idle-1'); // leaves an idle keep-alive connection behind
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
  });
});
