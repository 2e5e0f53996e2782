/**
 * The gateway as a proxy, as a real process in front of a real upstream: what reaches the
 * upstream (the key, the client's hop, no hop-by-hop headers), what passes through untouched,
 * upstream failures (502, 504, the key released after both) and the admin endpoints.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GatewayProcess } from './fixtures/gateway-process.js';
import { sample, scrape } from './fixtures/gateway-metrics.js';
import { RecordingUpstream } from './fixtures/gateway-upstream.js';
import { freePort } from './helpers/ports.js';

const PROBLEM = 'https://oncekey.dev/problems/';
type Started = Awaited<ReturnType<typeof GatewayProcess.start>>;

/** One raw HTTP/1.1 exchange (so the test can send headers fetch refuses); the request asks to close. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Not end(): node's server treats a half-closed client as gone. `Connection: close` ends it.
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

const post = (url: string, key: string | undefined, body = '{}', headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers },
    body,
  });

describe('oncekey proxy in front of an upstream', () => {
  const upstream = new RecordingUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-proxy-'));
  let main: Started;
  let timeout: Started;
  let dead: Started;

  beforeAll(async () => {
    await upstream.start();
    const common = ['--port', '0', '--admin-port', '0'];
    [main, timeout, dead] = await Promise.all([
      GatewayProcess.start(['proxy', '--upstream', upstream.url, '--store', `sqlite:${join(dir, 'main.db')}`, ...common]),
      GatewayProcess.start(['proxy', '--upstream', upstream.url, '--store', 'memory:', '--upstream-timeout', '2s', ...common]),
      GatewayProcess.start(['proxy', '--upstream', `http://127.0.0.1:${await freePort()}`, '--store', 'memory:', ...common]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([main, timeout, dead].map((g) => g?.stop()));
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const last = () => upstream.seen[upstream.seen.length - 1]!;

  test('the upstream gets the Idempotency-Key, its own Host, and this hop appended to Forwarded and X-Forwarded-*', async () => {
    const gatewayHost = new URL(main.url).host;
    const response = await post(`${main.url}/orders`, '"fwd-1"', '{"a":1}', {
      authorization: 'Bearer t',
      forwarded: 'for=203.0.113.7;proto=https',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com',
    });
    expect(response.status).toBe(201);
    const seen = last();
    expect(seen.headers['idempotency-key']).toBe('"fwd-1"');
    expect(seen.headers.authorization).toBe('Bearer t');
    expect(seen.headers.host).toBe(new URL(upstream.url).host);
    expect(seen.headers.forwarded).toBe(`for=203.0.113.7;proto=https, for=127.0.0.1;host="${gatewayHost}";proto=http`);
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('https, http');
    expect(seen.headers['x-forwarded-host']).toBe(`api.example.com, ${gatewayHost}`);
    expect(seen.body.toString()).toBe('{"a":1}');

    await post(`${main.url}/plain`, undefined); // not covered: the same headers on the pass-through path
    expect(last().headers.forwarded).toBe(`for=127.0.0.1;host="${gatewayHost}";proto=http`);
    expect(last().headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  test('hop-by-hop headers are dropped both ways, on covered and pass-through requests', async () => {
    for (const [method, key] of [
      ['POST', 'Idempotency-Key: hop-1\r\n'],
      ['GET', ''],
    ] as const) {
      const body = method === 'POST' ? '{}' : '';
      const text = await raw(
        main.url,
        [
          `${method} /hop HTTP/1.1`,
          'Host: gateway.test',
          'Connection: close, X-Client-Hop',
          'X-Client-Hop: secret',
          'Keep-Alive: timeout=9',
          'TE: trailers',
          'Proxy-Authorization: Basic Zm9vOmJhcg==',
          'Upgrade: h2c',
          'X-End-To-End: yes',
          `Content-Length: ${body.length}`,
          '',
          '',
        ]
          .join('\r\n')
          .replace('\r\n\r\n', `\r\n${key}\r\n`) + body,
      );
      const seen = last();
      expect(seen.method).toBe(method);
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      for (const hop of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade'])
        expect(names, `${method} ${hop}`).not.toContain(hop);
      expect(seen.headers['x-end-to-end']).toBe('yes');
      expect(seen.headers['x-forwarded-host']).toBe('gateway.test');
      const [head] = text.split('\r\n\r\n');
      expect(head, method).toMatch(/^HTTP\/1\.1 20[01] /);
      expect(head, method).toMatch(/\r\nx-end-to-end: kept\r\n/i);
      expect(head, method).not.toMatch(/x-up-hop/i);
      expect(head, method).not.toMatch(/keep-alive: timeout=5/i);
    }
  });

  test('requests that are not covered pass through untouched: method, path, query, headers, streamed body, every Set-Cookie', async () => {
    const target = '/items//deep/%7Bx%7D?b=2&a=%20&a=3';
    const got = await fetch(`${main.url}${target}`, { headers: { 'x-custom': 'one', accept: 'text/x-test' } });
    expect(got.status).toBe(200);
    expect(got.headers.getSetCookie()).toHaveLength(2);
    expect(await got.json()).toMatchObject({ method: 'GET', url: target });
    expect(last().url).toBe(target);
    expect(last().headers['x-custom']).toBe('one');
    expect(last().headers.accept).toBe('text/x-test');

    // 300 KB, over the 1 MiB-default limit of nothing: PUT is not covered, so it streams as is.
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 255));
    const put = await fetch(`${main.url}/upload`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(put.status).toBe(200);
    expect(last().method).toBe('PUT');
    expect(last().body.equals(bytes)).toBe(true);

    const head = await fetch(`${main.url}/head`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    // POST without a key is not covered either (keys are optional by default): it runs each time.
    const before = upstream.seen.length;
    const a = await post(`${main.url}/nokey`, undefined);
    const b = await post(`${main.url}/nokey`, undefined);
    expect(upstream.seen.length - before).toBe(2);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(await a.text()).not.toBe(await b.text());
  });

  test('upstream refusing connections: 502 problem, and the key is not held (each retry is tried again)', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await post(`${dead.url}/orders`, 'down-1');
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ type: `${PROBLEM}upstream-unreachable`, status: 502 });
    }
    const metrics = await scrape(dead.adminUrl);
    expect(sample(metrics, 'oncekey_gateway_upstream_failures_total', { kind: 'unreachable' })).toBe(2);
    expect(sample(metrics, 'oncekey_gateway_requests_total', { outcome: 'executed' })).toBe(2);
  });

  test('upstream resetting the connection: 502, then the same key runs once the upstream is back', async () => {
    const before = await scrape(main.adminUrl);
    upstream.refuse = true;
    const failed = await post(`${main.url}/orders`, 'reset-1');
    upstream.refuse = false;
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ type: `${PROBLEM}upstream-unreachable` });
    const after = await scrape(main.adminUrl);
    expect(
      sample(after, 'oncekey_gateway_upstream_failures_total', { kind: 'unreachable' }) -
        sample(before, 'oncekey_gateway_upstream_failures_total', { kind: 'unreachable' }),
    ).toBe(1);

    const retry = await post(`${main.url}/orders`, 'reset-1');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(`${main.url}/orders`, 'reset-1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(await retry.text());
    expect(upstream.runs('reset-1')).toBe(1);
  });

  test('upstream slower than --upstream-timeout: 504 problem, and the key is released', async () => {
    upstream.hold();
    const before = upstream.seen.length;
    const slow = await post(`${timeout.url}/orders`, 'slow-1');
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ type: `${PROBLEM}upstream-timeout`, status: 504 });
    expect(upstream.seen.length - before).toBe(1); // it did reach the upstream: a 504 says "may have run"
    upstream.release();

    const retry = await post(`${timeout.url}/orders`, 'slow-1');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(`${timeout.url}/orders`, 'slow-1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.runs('slow-1')).toBe(2);
    const metrics = await scrape(timeout.adminUrl);
    expect(sample(metrics, 'oncekey_gateway_upstream_failures_total', { kind: 'timeout' })).toBe(1);
  });

  test('admin: /healthz, /readyz, and /metrics counters move by exactly what happened', async () => {
    const health = await fetch(`${main.adminUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${main.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'sqlite' });
    expect((await fetch(`${main.adminUrl}/nope`)).status).toBe(404);
    await fetch(`${main.url}/healthz`);
    expect(last().url).toBe('/healthz'); // on the proxy port, admin paths are the upstream's

    const before = await scrape(main.adminUrl);
    const orders = `${main.url}/orders`;
    expect((await post(orders, 'm-1', '{"n":1}')).status).toBe(201); // executed
    expect((await post(orders, 'm-1', '{"n":1}')).headers.get('idempotent-replayed')).toBe('true'); // replayed
    expect((await post(orders, 'm-1', '{"n":2}')).status).toBe(422); // mismatch
    expect((await post(orders, '"unterminated', '{}')).status).toBe(400); // rejected
    expect((await fetch(orders)).status).toBe(200); // skipped

    upstream.hold();
    const arrivedBefore = upstream.seen.length;
    const first = post(orders, 'm-2');
    await upstream.arrived(arrivedBefore + 1);
    const during = await scrape(main.adminUrl);
    expect(sample(during, 'oncekey_gateway_in_flight_requests')).toBe(1);
    expect((await post(orders, 'm-2')).status).toBe(409); // conflict
    upstream.release();
    expect((await first).status).toBe(201); // executed
    const after = await scrape(main.adminUrl);

    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    const outcomes = Object.fromEntries(
      ['executed', 'replayed', 'conflict', 'mismatch', 'rejected', 'unavailable', 'skipped'].map((outcome) => [
        outcome,
        delta('oncekey_gateway_requests_total', { outcome }),
      ]),
    );
    expect(outcomes).toEqual({ executed: 2, replayed: 1, conflict: 1, mismatch: 1, rejected: 1, unavailable: 0, skipped: 1 });
    // One begin per covered request with a valid key; one commit per execution.
    expect(delta('oncekey_store_operation_duration_seconds_count', { operation: 'begin', result: 'ok' })).toBe(5);
    expect(delta('oncekey_store_operation_duration_seconds_count', { operation: 'commit', result: 'ok' })).toBe(2);
    expect(sample(after, 'oncekey_gateway_in_flight_requests')).toBe(0);
    expect(after).toContain('oncekey_store_operation_duration_seconds_bucket{le="0.005",operation="begin",result="ok"}');
  });
});
