/**
 * A private, throwaway PostgreSQL cluster for tests that stop, crash or restart the server: the
 * machine's shared server on 5432 is never touched. `initdb` into a temporary directory, start on
 * a free port, `stop('immediate')` under load, `start()` again, `destroy()` at the end.
 *
 * PostgreSQL refuses to run as root; when the tests run as root (CI does), every server command
 * runs as the `postgres` user through `runuser`, in a directory that user owns.
 *
 * Binaries: $ONCEKEY_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin, else PATH.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';
import { freePort } from './ports.js';

const run = promisify(execFile);

export interface PgCluster {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly dataDir: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** `immediate`: like a crash (no checkpoint, clients cut); `fast`: clean shutdown. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Stop if running and remove every file. */
  destroy(): Promise<void>;
}

export interface PgClusterOptions {
  /** Extra `postgres -c name=value` settings, e.g. `{ synchronous_commit: 'off' }`. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** The directory holding initdb/pg_ctl, or undefined when PostgreSQL's server binaries are missing. */
export function pgBinDir(): string | undefined {
  const fromEnv = process.env.ONCEKEY_PG_BINDIR;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

/**
 * `describe` when a private cluster can be created, a loud skip otherwise (a failure when
 * ONCEKEY_REQUIRE_SERVICES=1, as in CI).
 */
export function describePgCluster(): typeof describe {
  if (pgBinDir()) return describe;
  const message = 'PostgreSQL server binaries (initdb, pg_ctl) not found: set ONCEKEY_PG_BINDIR';
  if (process.env.ONCEKEY_REQUIRE_SERVICES === '1') throw new Error(`private-cluster tests are required but ${message}`);
  console.warn(`\n*** SKIPPING private PostgreSQL cluster tests: ${message} ***\n`);
  return describe.skip as unknown as typeof describe;
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/** Create, initialise and start a private cluster. */
export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (set ONCEKEY_PG_BINDIR)');
  const owner = await postgresUser();
  const root = mkdtempSync(join(tmpdir(), 'oncekey-pg-'));
  const dataDir = join(root, 'data');
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chmodSync(root, 0o700);
  }
  // As root, run each binary as `postgres`; otherwise as ourselves.
  const exec = (cmd: string, args: string[]) =>
    owner
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: root, timeout: 60_000 })
      : run(join(bin, cmd), args, { cwd: root, timeout: 60_000 });

  await exec('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: root,
    max_connections: '40',
    shared_buffers: '16MB',
    ...options.settings,
  };
  const serverOptions = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  let running = false;

  const cluster: PgCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    get running() {
      return running;
    },
    async start() {
      await exec('pg_ctl', ['-D', dataDir, '-o', serverOptions, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop(mode = 'fast') {
      await exec('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await cluster.stop('immediate').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}
