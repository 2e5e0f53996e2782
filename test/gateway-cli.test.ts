/**
 * `oncekey proxy` flags and environment variables: parsed strictly, validated with messages that
 * name the flag, and really applied by a running gateway process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_STORE, UsageError, envName, parseProxyArgs, parseSize } from '../src/cli/args.js';
import { parseStoreUrl } from '../src/cli/store-url.js';
import { redact } from '../src/core/url.js';
import { GatewayProcess, runCli } from './fixtures/gateway-process.js';
import { RecordingUpstream } from './fixtures/gateway-upstream.js';

const config = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseProxyArgs(argv, env);
  if (parsed.help) throw new Error('unexpected help');
  return parsed.config;
};
const usageError = (argv: string[], env: Record<string, string> = {}): string => {
  try {
    parseProxyArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
};

describe('parseProxyArgs', () => {
  test('defaults: only --upstream is required', () => {
    expect(config(['--upstream', 'http://127.0.0.1:3000'])).toEqual({
      upstream: 'http://127.0.0.1:3000',
      port: 8787,
      host: '127.0.0.1',
      store: DEFAULT_STORE,
      methods: ['POST', 'PATCH'],
      requireKey: false,
      ttlMs: undefined,
      leaseMs: undefined,
      scopeHeader: undefined,
      maxBody: undefined,
      maxResponseBody: undefined,
      upstreamTimeoutMs: undefined,
      adminPort: 8788,
      shutdownTimeoutMs: 10_000,
    });
    expect(DEFAULT_STORE).toBe('sqlite:.oncekey/oncekey.db');
  });

  test('every flag', () => {
    expect(
      config([
        '--upstream',
        'http://api:3000',
        '--port',
        '9000',
        '--host',
        '0.0.0.0',
        '--store',
        'memory:',
        '--methods',
        'post, put,PUT',
        '--require-key',
        '--ttl',
        '2h',
        '--lease',
        '5s',
        '--scope-header',
        'X-Tenant-Id',
        '--max-body',
        '64kb',
        '--max-response-body',
        '2mb',
        '--upstream-timeout',
        '1500ms',
        '--admin-port',
        'off',
        '--shutdown-timeout',
        '3s',
      ]),
    ).toEqual({
      upstream: 'http://api:3000',
      port: 9000,
      host: '0.0.0.0',
      store: 'memory:',
      methods: ['POST', 'PUT'],
      requireKey: true,
      ttlMs: 7_200_000,
      leaseMs: 5000,
      scopeHeader: 'x-tenant-id',
      maxBody: 65_536,
      maxResponseBody: 2_097_152,
      upstreamTimeoutMs: 1500,
      adminPort: false,
      shutdownTimeoutMs: 3000,
    });
  });

  test('every flag from its ONCEKEY_ environment variable', () => {
    const env = {
      ONCEKEY_UPSTREAM: 'http://api:3000',
      ONCEKEY_PORT: '9000',
      ONCEKEY_HOST: '::1',
      ONCEKEY_STORE: 'redis://127.0.0.1:6379?prefix=gw:',
      ONCEKEY_METHODS: 'PUT',
      ONCEKEY_REQUIRE_KEY: 'true',
      ONCEKEY_TTL: '1h',
      ONCEKEY_LEASE: '10s',
      ONCEKEY_SCOPE_HEADER: 'x-tenant',
      ONCEKEY_MAX_BODY: '1000',
      ONCEKEY_MAX_RESPONSE_BODY: '1k',
      ONCEKEY_UPSTREAM_TIMEOUT: '2s',
      ONCEKEY_ADMIN_PORT: '0',
      ONCEKEY_SHUTDOWN_TIMEOUT: '1m',
    };
    expect(config([], env)).toEqual({
      upstream: 'http://api:3000',
      port: 9000,
      host: '::1',
      store: 'redis://127.0.0.1:6379?prefix=gw:',
      methods: ['PUT'],
      requireKey: true,
      ttlMs: 3_600_000,
      leaseMs: 10_000,
      scopeHeader: 'x-tenant',
      maxBody: 1000,
      maxResponseBody: 1024,
      upstreamTimeoutMs: 2000,
      adminPort: 0,
      shutdownTimeoutMs: 60_000,
    });
    expect(envName('admin-port')).toBe('ONCEKEY_ADMIN_PORT');
  });

  test('flags win over the environment; an empty variable counts as unset', () => {
    const c = config(['--port', '1234', '--upstream', 'http://b'], { ONCEKEY_PORT: '9', ONCEKEY_UPSTREAM: 'http://a', ONCEKEY_HOST: '' });
    expect(c.port).toBe(1234);
    expect(c.upstream).toBe('http://b');
    expect(c.host).toBe('127.0.0.1');
    expect(config(['--upstream', 'http://a'], { ONCEKEY_REQUIRE_KEY: '0' }).requireKey).toBe(false);
    expect(config(['--upstream', 'http://a', '--require-key'], { ONCEKEY_REQUIRE_KEY: 'false' }).requireKey).toBe(true);
  });

  test('--help', () => {
    expect(parseProxyArgs(['--help'])).toEqual({ help: true });
    expect(parseProxyArgs(['-h'])).toEqual({ help: true });
  });

  test('mistakes are UsageErrors naming the flag or the variable', () => {
    expect(usageError(['--upstream', 'http://a', '--bogus'])).toBe('unknown flag --bogus');
    expect(usageError(['--upstream', 'http://a', '-x'])).toBe('unknown flag -x');
    expect(usageError(['--upstream', 'http://a', 'stray'])).toBe('unexpected argument stray');
    expect(usageError([])).toMatch(/--upstream is required/);
    expect(usageError(['--upstream'])).toMatch(/--upstream/);
    expect(usageError(['--upstream', 'http://a', '--port', '99999'])).toMatch(/^--port: expected a port/);
    expect(usageError(['--upstream', 'http://a'], { ONCEKEY_PORT: 'eighty' })).toMatch(/^ONCEKEY_PORT: expected a port/);
    expect(usageError(['--upstream', 'http://a', '--ttl', '10'])).toMatch(/^--ttl: expected a duration/);
    expect(usageError(['--upstream', 'http://a', '--lease', '2h', '--ttl', '1h'])).toMatch(/--ttl .* must be at least --lease/);
    expect(usageError(['--upstream', 'http://a', '--lease', '2d'])).toMatch(/must be at least --lease/);
    expect(usageError(['--upstream', 'http://a', '--methods', 'POST,GE T'])).toMatch(/^--methods:/);
    expect(usageError(['--upstream', 'http://a', '--max-body', '1 parsec'])).toMatch(/^--max-body: expected a size/);
    expect(usageError(['--upstream', 'http://a', '--scope-header', 'x tenant'])).toMatch(/^--scope-header:/);
    expect(usageError(['--upstream', 'http://a'], { ONCEKEY_REQUIRE_KEY: 'maybe' })).toMatch(
      /^ONCEKEY_REQUIRE_KEY: expected true or false/,
    );
    expect(usageError(['--upstream', 'http://a', '--store', 'mongodb://x'])).toMatch(/^--store: unknown store/);
  });

  test('sizes', () => {
    expect(parseSize('1048576')).toBe(1_048_576);
    expect(parseSize('512kb')).toBe(524_288);
    expect(parseSize('1MB')).toBe(1_048_576);
    expect(() => parseSize('0')).toThrow();
    expect(() => parseSize('-1')).toThrow();
    expect(() => parseSize('1.5mb')).toThrow();
  });
});

describe('store URLs', () => {
  test('forms', () => {
    expect(parseStoreUrl('memory:')).toEqual({ kind: 'memory' });
    expect(parseStoreUrl('sqlite:.oncekey/oncekey.db')).toEqual({ kind: 'sqlite', path: '.oncekey/oncekey.db' });
    expect(parseStoreUrl('sqlite:///var/lib/oncekey.db')).toEqual({ kind: 'sqlite', path: '/var/lib/oncekey.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStoreUrl('postgres://u:p@db:5432/app?table=keys&schema=idem&sslmode=require')).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:p@db:5432/app?sslmode=require',
      table: 'keys',
      schema: 'idem',
    });
    expect(parseStoreUrl('postgresql://db/app')).toEqual({ kind: 'postgres', connectionString: 'postgresql://db/app' });
    expect(parseStoreUrl('redis://:secret@cache:6379/2?prefix=gw:')).toEqual({
      kind: 'redis',
      url: 'redis://:secret@cache:6379/2',
      prefix: 'gw:',
    });
    expect(() => parseStoreUrl('sqlite:')).toThrow(/needs a file path/);
    expect(() => parseStoreUrl('/tmp/x.db')).toThrow(/unknown store/);
  });

  test('passwords never reach logs', () => {
    expect(redact('postgres://u:hunter2@db/app')).toBe('postgres://u:***@db/app');
    expect(redact('sqlite:x.db')).toBe('sqlite:x.db');
  });
});

describe('the oncekey command', () => {
  test('an unknown flag: a clear error, the usage, exit 2', async () => {
    const run = await runCli(['proxy', '--upstream', 'http://127.0.0.1:1', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^oncekey: unknown flag --bogus\n/);
    expect(run.stderr).toContain('Usage: oncekey proxy --upstream URL');
    expect(run.stdout).toBe('');
  });

  test('an unknown command and no command: exit 2; --help: the usage on stdout, exit 0', async () => {
    const [unknown, none, help] = await Promise.all([runCli(['serve']), runCli([]), runCli(['proxy', '--help'])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "serve"/);
    expect(none.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--scope-header NAME');
    expect(help.stdout).toContain('ONCEKEY_ADMIN_PORT');
  });

  test('a store that cannot be reached: exit 1 with the reason', async () => {
    const run = await runCli([
      'proxy',
      '--upstream',
      'http://127.0.0.1:1',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      'postgres://postgres@127.0.0.1:1/none',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot prepare PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none/);
  });
});

describe('a running gateway applies its configuration', () => {
  const upstream = new RecordingUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-cli-'));
  const running: GatewayProcess[] = [];
  beforeAll(() => upstream.start());
  afterEach(async () => {
    for (const p of running.splice(0)) await p.stop();
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, path: string, headers: Record<string, string>, body = '{}', method = 'POST') =>
    fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });

  test('from environment variables: methods, required key, store, ports', async () => {
    const gateway = await GatewayProcess.start(['proxy'], {
      env: {
        ONCEKEY_UPSTREAM: upstream.url,
        ONCEKEY_PORT: '0',
        ONCEKEY_ADMIN_PORT: '0',
        ONCEKEY_STORE: 'memory:',
        ONCEKEY_METHODS: 'PUT',
        ONCEKEY_REQUIRE_KEY: '1',
      },
    });
    running.push(gateway);
    const missing = await post(gateway.url, '/env/a', {}, '{}', 'PUT');
    expect(missing.status).toBe(400);
    expect((await missing.json()) as object).toMatchObject({ type: 'https://oncekey.dev/problems/key-required' });
    expect(upstream.seen.filter((s) => s.url === '/env/a')).toHaveLength(0);

    const first = await post(gateway.url, '/env/b', { 'idempotency-key': 'env-put' }, '{}', 'PUT');
    const again = await post(gateway.url, '/env/b', { 'idempotency-key': 'env-put' }, '{}', 'PUT');
    expect(first.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.runs('env-put')).toBe(1);

    // POST is not covered here: it passes through every time, key or not.
    await post(gateway.url, '/env/c', { 'idempotency-key': 'env-post' });
    await post(gateway.url, '/env/c', { 'idempotency-key': 'env-post' });
    expect(upstream.runs('env-post')).toBe(2);
  });

  test('from flags: --scope-header keeps tenants apart, --max-body refuses larger bodies', async () => {
    const gateway = await GatewayProcess.start([
      'proxy',
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      `sqlite:${join(dir, 'flags.db')}`,
      '--scope-header',
      'X-Tenant',
      '--max-body',
      '100',
    ]);
    running.push(gateway);
    const a1 = await post(gateway.url, '/tenants', { 'idempotency-key': 'shared', 'x-tenant': 'a' });
    const b1 = await post(gateway.url, '/tenants', { 'idempotency-key': 'shared', 'x-tenant': 'b' });
    const a2 = await post(gateway.url, '/tenants', { 'idempotency-key': 'shared', 'x-tenant': 'a' });
    expect(upstream.runs('shared')).toBe(2);
    expect(b1.headers.get('idempotent-replayed')).toBeNull();
    expect(a2.headers.get('idempotent-replayed')).toBe('true');
    expect(await a2.text()).toBe(await a1.text());
    expect(await b1.text()).not.toBe('');

    const big = await post(gateway.url, '/big', { 'idempotency-key': 'big' }, JSON.stringify({ pad: 'x'.repeat(200) }));
    expect(big.status).toBe(413);
    expect(upstream.runs('big')).toBe(0);
  });

  test('the default store is SQLite in .oncekey/oncekey.db under the working directory, created on start', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const gateway = await GatewayProcess.start(['proxy', '--upstream', upstream.url, '--port', '0', '--admin-port', '0'], { cwd });
    running.push(gateway);
    expect(existsSync(join(cwd, '.oncekey', 'oncekey.db'))).toBe(true);
    expect(gateway.stdout).toContain('store sqlite:.oncekey/oncekey.db');
    await post(gateway.url, '/default', { 'idempotency-key': 'default-store' });
    const again = await post(gateway.url, '/default', { 'idempotency-key': 'default-store' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.runs('default-store')).toBe(1);
  });
});
