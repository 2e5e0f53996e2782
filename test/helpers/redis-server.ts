/**
 * A private `redis-server` for tests that kill, restart or cluster Redis: its own process on a
 * free loopback port, its own temp dir, never the shared server on 6379. Only processes started
 * here are ever signalled, by their pid.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Start the process (again) on the same port and dir; resolves once it answers PING. */
  start(): Promise<void>;
  /** Send `signal` (default SIGKILL: a crash) and wait until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kill it and remove its dir. */
  destroy(): Promise<void>;
}

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  readonly args?: readonly string[];
  /** A port to use; default a free one. */
  readonly port?: number;
  /** A dir to use; default a new temp dir, removed by destroy(). */
  readonly dir?: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'oncekey-redis-'));
  let child: ChildProcess | undefined;

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async start() {
      if (child) throw new Error(`redis-server on ${port} is already running`);
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--logfile',
        join(dir, 'redis.log'),
        ...(options.args ?? []),
      ];
      const proc = spawn('redis-server', args, { stdio: 'ignore' });
      child = proc;
      running.add(proc);
      proc.once('exit', () => {
        running.delete(proc);
        if (child === proc) child = undefined;
      });
      await waitForPing(port, proc);
    },
    async kill(signal = 'SIGKILL') {
      const proc = child;
      if (!proc) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(signal);
      await gone;
    },
    async destroy() {
      await server.kill('SIGKILL');
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

async function waitForPing(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server on ${port} exited at start`);
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server on ${port} did not answer PING within 10 s`);
}
