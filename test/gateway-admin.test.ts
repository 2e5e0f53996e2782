/**
 * The admin endpoints and outcome metrics of an embedded gateway (`createGateway`) whose store can
 * be switched off: readiness follows the store, covered requests fail closed with 503.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/index.js';
import { memoryStore } from '../src/store/memory.js';
import { InvalidOptionError } from '../src/core/errors/invalid-option.js';
import { type SwitchableStore, switchableStore } from './http/switchable-store.js';
import { sample, scrape } from './fixtures/gateway-metrics.js';
import { RecordingUpstream } from './fixtures/gateway-upstream.js';

describe('gateway admin with a store that goes down', () => {
  const upstream = new RecordingUpstream();
  const store: SwitchableStore = switchableStore(memoryStore());
  let gateway: Gateway;
  let url: string;
  let adminUrl: string;
  beforeAll(async () => {
    await upstream.start();
    gateway = createGateway({ upstream: upstream.url, store, port: 0, adminPort: 0, processMetrics: false, log: () => {} });
    ({ url, adminUrl } = (await gateway.listen()) as { url: string; adminUrl: string });
  });
  afterAll(async () => {
    await gateway.close();
    await store.close();
    await upstream.close();
  });

  test('/readyz follows the store; covered requests get 503 and nothing runs; the rest still pass through', async () => {
    expect((await fetch(`${adminUrl}/readyz`)).status).toBe(200);
    const before = await scrape(adminUrl);
    store.down = true;
    try {
      const ready = await fetch(`${adminUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'store unreachable', detail: expect.stringContaining('switched off') });
      expect((await fetch(`${adminUrl}/healthz`)).status).toBe(200);

      const refused = await fetch(`${url}/orders`, { method: 'POST', headers: { 'idempotency-key': 'down-1' }, body: '{}' });
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ type: 'https://oncekey.dev/problems/store-unavailable' });
      expect(upstream.runs('down-1')).toBe(0);
      expect((await fetch(`${url}/list`)).status).toBe(200);
    } finally {
      store.down = false;
    }
    expect((await fetch(`${adminUrl}/readyz`)).status).toBe(200);
    const after = await scrape(adminUrl);
    const delta = (outcome: string) =>
      sample(after, 'oncekey_gateway_requests_total', { outcome }) - sample(before, 'oncekey_gateway_requests_total', { outcome });
    expect([delta('unavailable'), delta('skipped'), delta('executed')]).toEqual([1, 1, 0]);
    expect(sample(after, 'oncekey_store_operation_duration_seconds_count', { operation: 'begin', result: 'error' })).toBe(1);
  });

  test("/metrics is Prometheus text from the gateway's own registry", async () => {
    const response = await fetch(`${adminUrl}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE oncekey_gateway_requests_total counter');
    expect(text).toContain('# TYPE oncekey_store_operation_duration_seconds histogram');
    expect(text).toContain('# TYPE oncekey_gateway_in_flight_requests gauge');
    expect(text).not.toContain('process_cpu'); // processMetrics: false
  });
});

describe('createGateway options', () => {
  test('are validated at construction', () => {
    const store = memoryStore();
    expect(() => createGateway({ upstream: 'ftp://x', store })).toThrow(InvalidOptionError);
    expect(() => createGateway({ upstream: 'http://u:p@x', store })).toThrow(/credentials/);
    expect(() => createGateway({ upstream: 'http://x', store, port: 70000 })).toThrow(/port/);
    expect(() => createGateway({ upstream: 'http://x', store, bogus: 1 } as never)).toThrow(/gateway.bogus/);
    expect(() => createGateway({ upstream: 'http://x', store, idempotency: { store } as never })).toThrow(/gateway.idempotency.store/);
    expect(() => createGateway({ upstream: 'http://x', store, scopeHeader: 'x-t', idempotency: { scope: () => 's' } })).toThrow(/not both/);
    expect(() => createGateway({ upstream: 'http://x', store, ttl: '1s', lease: '5s' })).toThrow(InvalidOptionError);
  });
});
