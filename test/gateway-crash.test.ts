/**
 * A gateway killed with SIGKILL while the upstream works on a request: the key's lease is left
 * behind in the SQLite file. A gateway restarted on that file answers 409 while the lease lives
 * and lets the key run again once it has expired (one lease: 3 s here), never sooner; the
 * upstream sees at most one execution per lease. The second gateway is started before the kill,
 * so its first retry comes well within the dead gateway's lease and must be a 409.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sqliteStore } from '../src/store/sqlite.js';
import { GatewayProcess } from './fixtures/gateway-process.js';
import { RecordingUpstream } from './fixtures/gateway-upstream.js';

const LEASE_MS = 3000;

const post = (url: string, key: string) =>
  fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: '{"item":"book"}',
  });

describe('oncekey proxy killed mid-request', () => {
  const upstream = new RecordingUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-crash-'));
  const running: GatewayProcess[] = [];
  beforeAll(() => upstream.start());
  afterAll(async () => {
    for (const p of running) await p.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGKILL, restart on the same SQLite file: the key is usable again after one lease, one execution per lease', async () => {
    const path = join(dir, 'crash.db');
    const args = [
      'proxy',
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      `sqlite:${path}`,
      '--lease',
      `${LEASE_MS / 1000}s`,
    ];

    const first = await GatewayProcess.start(args);
    running.push(first);
    upstream.hold();
    const lost = post(first.url, 'crash-1').then(
      (r) => r.status,
      (error: unknown) => error,
    );
    await upstream.arrived(1);
    // Started (tsx takes about a second) while the first still holds the key, so the first retry
    // below follows the kill at once, within the lease the dead gateway left behind.
    const second = await GatewayProcess.start(args);
    running.push(second);
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await lost).toBeInstanceOf(Error); // the client lost its connection, no answer
    upstream.release(); // the first execution finishes, but nobody is left to store its answer
    expect(upstream.runs('crash-1')).toBe(1);

    // Retry as a client would: a 409 means the dead gateway's lease still holds the key; wait past
    // one lease and try again. Nothing runs upstream for a 409.
    let response: Response | undefined;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      response = await post(second.url, 'crash-1');
      statuses.push(response.status);
      if (response.status !== 409) break;
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      await response.arrayBuffer();
      expect(upstream.runs('crash-1')).toBe(1);
      await new Promise((r) => setTimeout(r, LEASE_MS + 100));
    }
    expect(statuses.filter((s) => s !== 409)).toEqual([201]);
    // The first retry met the dead gateway's live lease: 409, never a second execution that soon;
    // one lease later the key ran again.
    expect(statuses[0]).toBe(409);
    expect(statuses).toEqual([409, 201]);
    expect(response!.headers.get('idempotent-replayed')).toBeNull();
    const body = await response!.text();
    expect(upstream.runs('crash-1')).toBe(2);

    // From now on the key replays: no third execution.
    const again = await post(second.url, 'crash-1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(body);
    expect(upstream.runs('crash-1')).toBe(2);

    await second.stop('SIGTERM');
    const store = sqliteStore({ path });
    try {
      const record = await store.get({ scope: 'anonymous', key: 'crash-1' });
      // The second execution took over the expired lease (attempt 2), it did not start afresh.
      expect(record).toMatchObject({ state: 'completed', attempt: 2 });
    } finally {
      await store.close();
    }
  });
});
