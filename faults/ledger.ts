/**
 * The effect ledger: where handlers write what they did, so the checker can compare it with what
 * clients were told. A SQLite file in WAL mode with `synchronous = FULL`: a row is on disk before
 * the handler answers, so it survives a SIGKILL of the process that wrote it (and of every other
 * writer: several processes share one ledger file).
 *
 * Transactional mode writes its effects into the store's own database instead (that is the
 * point of it); {@link readSqliteEffects} and {@link readPgEffects} read them back.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Effect, LeaseGrant } from './checker.js';

/** The table transactional workers write their effects to, in the store's database. */
export const EFFECTS_TABLE = 'fault_effects';

export class Ledger {
  readonly #db: Database.Database;
  readonly #insertEffect: Database.Statement;
  readonly #insertLease: Database.Statement;

  constructor(readonly path: string) {
    this.#db = new Database(path, { timeout: 30_000 });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS effects (id TEXT PRIMARY KEY, key TEXT NOT NULL, attempt INTEGER, recovered INTEGER, writer TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS leases (key TEXT NOT NULL, attempt INTEGER NOT NULL, recovered INTEGER NOT NULL, writer TEXT NOT NULL);
    `);
    this.#insertEffect = this.#db.prepare('INSERT INTO effects (id, key, attempt, recovered, writer) VALUES (?, ?, ?, ?, ?)');
    this.#insertLease = this.#db.prepare('INSERT INTO leases (key, attempt, recovered, writer) VALUES (?, ?, ?, ?)');
  }

  /** Record one effect durably; returns its id (what the handler answers with). */
  effect(key: string, writer: string, lease?: { attempt: number; recovered: boolean }): string {
    const id = randomUUID();
    this.#insertEffect.run(id, key, lease?.attempt ?? null, lease === undefined ? null : Number(lease.recovered), writer);
    return id;
  }

  /** Record a lease grant (the engine's onAcquire), before the holder runs anything. */
  lease(key: string, attempt: number, recovered: boolean, writer: string): void {
    this.#insertLease.run(key, attempt, Number(recovered), writer);
  }

  effects(): Effect[] {
    return (this.#db.prepare('SELECT id, key, attempt, recovered FROM effects').all() as EffectRow[]).map(toEffect);
  }

  leases(): LeaseGrant[] {
    return (
      this.#db.prepare('SELECT key, attempt, recovered FROM leases').all() as { key: string; attempt: number; recovered: number }[]
    ).map((r) => ({
      key: r.key,
      attempt: r.attempt,
      recovered: r.recovered === 1,
    }));
  }

  close(): void {
    this.#db.close();
  }
}

interface EffectRow {
  id: string;
  key: string;
  attempt: number | null;
  recovered: number | boolean | null;
}

function toEffect(row: EffectRow): Effect {
  return {
    id: row.id,
    key: row.key,
    ...(row.attempt === null ? {} : { attempt: Number(row.attempt) }),
    ...(row.recovered === null ? {} : { recovered: row.recovered === 1 || row.recovered === true }),
  };
}

const DDL = `CREATE TABLE IF NOT EXISTS ${EFFECTS_TABLE} (id TEXT PRIMARY KEY, key TEXT NOT NULL, attempt INTEGER, recovered BOOLEAN)`;

/** Create the transactional effects table in a SQLite store file. */
export function prepareSqliteEffects(path: string): void {
  const db = new Database(path, { timeout: 30_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.exec(DDL);
  } finally {
    db.close();
  }
}

export function readSqliteEffects(path: string): Effect[] {
  const db = new Database(path, { timeout: 30_000, readonly: true });
  try {
    return (db.prepare(`SELECT id, key, attempt, recovered FROM ${EFFECTS_TABLE}`).all() as EffectRow[]).map(toEffect);
  } finally {
    db.close();
  }
}

/** Create the transactional effects table in a PostgreSQL database. */
export async function preparePgEffects(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 30_000 });
  await client.connect();
  try {
    await client.query(DDL);
  } finally {
    await client.end();
  }
}

export async function readPgEffects(url: string): Promise<Effect[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 30_000 });
  await client.connect();
  try {
    const { rows } = await client.query<EffectRow>(`SELECT id, key, attempt, recovered FROM ${EFFECTS_TABLE}`);
    return rows.map(toEffect);
  } finally {
    await client.end();
  }
}
