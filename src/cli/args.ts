/**
 * `oncekey proxy` flags: parsed strictly with node:util `parseArgs`, each one also readable from
 * an environment variable `ONCEKEY_<FLAG>` (flags win), validated into a {@link ProxyConfig}.
 */
import { parseArgs } from 'node:util';
import { toMs } from '../engine/duration.js';
import { parseStoreUrl } from './store-url.js';

/** A mistake in the command line or environment: print it with the usage and exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ProxyConfig {
  readonly upstream: string;
  readonly port: number;
  readonly host: string;
  /** A store URL, see {@link openStore}. */
  readonly store: string;
  readonly methods: readonly string[];
  readonly requireKey: boolean;
  readonly ttlMs: number | undefined;
  readonly leaseMs: number | undefined;
  readonly scopeHeader: string | undefined;
  readonly maxBody: number | undefined;
  readonly maxResponseBody: number | undefined;
  readonly upstreamTimeoutMs: number | undefined;
  readonly adminPort: number | false;
  readonly shutdownTimeoutMs: number;
}

export const DEFAULT_STORE = 'sqlite:.oncekey/oncekey.db';
/** The middleware's defaults (24h, 30s), to check --ttl against --lease before starting. */
const DEFAULT_TTL_MS = 86_400_000;
const DEFAULT_LEASE_MS = 30_000;

const FLAGS = {
  upstream: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  store: { type: 'string' },
  methods: { type: 'string' },
  'require-key': { type: 'boolean' },
  ttl: { type: 'string' },
  lease: { type: 'string' },
  'scope-header': { type: 'string' },
  'max-body': { type: 'string' },
  'max-response-body': { type: 'string' },
  'upstream-timeout': { type: 'string' },
  'admin-port': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = Exclude<keyof typeof FLAGS, 'help'>;

/** The environment variable of a flag: `--admin-port` → `ONCEKEY_ADMIN_PORT`. */
export const envName = (flag: string): string => `ONCEKEY_${flag.toUpperCase().replace(/-/g, '_')}`;

/** `{ help: true }` when help was asked for, else the validated configuration. Throws UsageError. */
export function parseProxyArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { help: true } | { help: false; config: ProxyConfig } {
  let values: Partial<Record<Flag, string | boolean>> & { help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(parseError(error));
  }
  if (values.help === true) return { help: true };

  const read = (flag: Flag): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string') return value;
    const fromEnv = env[envName(flag)];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const where = (flag: Flag): string => (typeof values[flag] === 'string' ? `--${flag}` : envName(flag));
  const wrap =
    <T>(flag: Flag, parse: (value: string) => T) =>
    (value: string): T => {
      try {
        return parse(value);
      } catch (error) {
        throw new UsageError(
          `${where(flag)}: ${error instanceof Error ? error.message.replace(/^invalid option [^:]+: /, '') : String(error)}`,
        );
      }
    };
  const optional = <T>(flag: Flag, parse: (value: string) => T): T | undefined => {
    const value = read(flag);
    return value === undefined ? undefined : wrap(flag, parse)(value);
  };

  const upstream = read('upstream');
  if (upstream === undefined)
    throw new UsageError(`--upstream is required (or ${envName('upstream')}), e.g. --upstream http://127.0.0.1:3000`);
  const ttlMs = optional('ttl', (v) => toMs('ttl', v));
  const leaseMs = optional('lease', (v) => toMs('lease', v));
  if ((ttlMs ?? DEFAULT_TTL_MS) < (leaseMs ?? DEFAULT_LEASE_MS)) {
    throw new UsageError(
      `--ttl (${ttlMs ?? DEFAULT_TTL_MS} ms) must be at least --lease (${leaseMs ?? DEFAULT_LEASE_MS} ms): a record cannot expire while its request runs`,
    );
  }
  const adminPort = optional('admin-port', (v) => (/^(off|false|none)$/i.test(v) ? false : parsePort(v)));

  return {
    help: false,
    config: {
      upstream,
      port: optional('port', parsePort) ?? 8787,
      host: read('host') ?? '127.0.0.1',
      store: optional('store', (v) => (parseStoreUrl(v), v)) ?? DEFAULT_STORE,
      methods: optional('methods', parseMethods) ?? ['POST', 'PATCH'],
      requireKey: values['require-key'] === true || (optional('require-key', parseBoolean) ?? false),
      ttlMs,
      leaseMs,
      scopeHeader: optional('scope-header', parseHeaderName),
      maxBody: optional('max-body', parseSize),
      maxResponseBody: optional('max-response-body', parseSize),
      upstreamTimeoutMs: optional('upstream-timeout', (v) => toMs('upstream-timeout', v)),
      adminPort: adminPort ?? 8788,
      shutdownTimeoutMs: optional('shutdown-timeout', (v) => toMs('shutdown-timeout', v)) ?? 10_000,
    },
  };
}

function parseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(message ?? '')?.[1] ?? '';
    return `unknown flag ${flag}`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']+)'/.exec(message ?? '')?.[1] ?? '';
    return `unexpected argument ${arg}`;
  }
  return message ?? String(error);
}

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new Error(`expected a port number from 0 to 65535, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function parseMethods(value: string): string[] {
  const methods = value
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== '');
  if (methods.length === 0 || methods.some((m) => !/^[A-Z]+$/.test(m))) {
    throw new Error(`expected a comma-separated list of methods such as POST,PATCH, got ${JSON.stringify(value)}`);
  }
  return [...new Set(methods)];
}

export function parseBoolean(value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
}

export function parseHeaderName(value: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value))
    throw new Error(`expected a header name such as x-tenant-id, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A size in bytes: `1048576`, `512kb`, `1mb` (1024-based). */
export function parseSize(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new Error(`expected a size such as 1048576, 512kb or 1mb, got ${JSON.stringify(value)}`);
  return bytes;
}
