/**
 * Store URLs, as `--store` takes them:
 * - `sqlite:PATH` (also `sqlite://PATH`, `sqlite:///abs/path`) — a SQLite file, its directory
 *   created; `sqlite::memory:` for a private in-memory database;
 * - `memory:` — in this process only;
 * - `postgres://…` or `postgresql://…` — PostgreSQL; `?table=` and `?schema=` choose the table,
 *   the rest is pg's connection string; migrations run before use;
 * - `redis://…` or `rediss://…` — Redis; `?prefix=` sets the key prefix.
 * The PostgreSQL and Redis stores are imported only when asked for, so a plain install with
 * SQLite alone never needs `pg` or `ioredis`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Store } from '../store/contract.js';
import { redact } from '../core/url.js';

/** A store URL that is malformed or of an unknown kind. */
export class StoreUrlError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUrlError';
  }
}

export type StoreSpec =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly table?: string; readonly schema?: string }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix?: string };

const FORMS = 'sqlite:PATH, memory:, postgres://… or redis://…';

/** Parse a store URL without opening anything. Throws StoreUrlError. */
export function parseStoreUrl(value: string): StoreSpec {
  const text = value.trim();
  if (/^memory:?$/i.test(text)) return { kind: 'memory' };
  const sqlite = /^sqlite:(.*)$/i.exec(text);
  if (sqlite) {
    let path = sqlite[1]!;
    if (path.startsWith('//')) path = path.slice(2); // sqlite://rel.db, sqlite:///abs.db
    if (path === '') throw new StoreUrlError('sqlite: needs a file path, e.g. sqlite:.oncekey/oncekey.db');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    const url = parse(text);
    const table = take(url, 'table');
    const schema = take(url, 'schema');
    return { kind: 'postgres', connectionString: url.href, ...(table ? { table } : {}), ...(schema ? { schema } : {}) };
  }
  if (/^rediss?:\/\//i.test(text)) {
    const url = parse(text);
    const prefix = take(url, 'prefix');
    return { kind: 'redis', url: url.href, ...(prefix ? { prefix } : {}) };
  }
  throw new StoreUrlError(`unknown store ${JSON.stringify(redact(text))}; expected ${FORMS}`);
}

/** Open the store a URL names (creating the SQLite directory, migrating PostgreSQL). */
export async function openStore(value: string): Promise<Store> {
  const spec = parseStoreUrl(value);
  switch (spec.kind) {
    case 'memory': {
      const { memoryStore } = await import('../store/memory.js');
      return memoryStore();
    }
    case 'sqlite': {
      const { sqliteStore } = await import('../store/sqlite.js');
      if (spec.path !== ':memory:') mkdirSync(dirname(resolve(spec.path)), { recursive: true });
      return sqliteStore({ path: spec.path });
    }
    case 'postgres': {
      const { postgresStore } = await load('pg', () => import('../store/postgres/index.js'));
      const store = postgresStore({
        connectionString: spec.connectionString,
        ...(spec.table ? { table: spec.table } : {}),
        ...(spec.schema ? { schema: spec.schema } : {}),
      });
      try {
        await store.migrate();
      } catch (error) {
        await store.close().catch(() => {});
        throw new Error(
          `cannot prepare PostgreSQL at ${redact(spec.connectionString)}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      return store;
    }
    case 'redis': {
      const { redisStore } = await load('ioredis', () => import('../store/redis/index.js'));
      return redisStore({ client: spec.url, ...(spec.prefix ? { prefix: spec.prefix } : {}) });
    }
  }
}

function parse(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new StoreUrlError(`not a valid URL: ${JSON.stringify(redact(text))}`);
  }
}

/** Remove an Oncekey parameter from the URL so the driver never sees it. */
function take(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name) ?? undefined;
  url.searchParams.delete(name);
  return value;
}

/** Import a store module whose driver is an optional peer dependency, with a clear error when it is missing. */
async function load<T>(driver: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${driver}'`)) {
      throw new Error(`this store needs the ${driver} package: npm install ${driver}`, { cause: error });
    }
    throw error;
  }
}
