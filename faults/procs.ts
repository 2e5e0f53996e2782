/**
 * Child processes of the suite (gateways, workers): spawned with tsx, tracked, and always torn
 * down — by the scenario, and as a last resort when the test process exits. Only processes started
 * here are ever signalled, by their pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class Fixture {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Resolves with the URL the fixture printed; rejects if it exits first or takes over `startMs`. */
  readonly ready: Promise<string>;
  stderr = '';

  constructor(script: string, env: Record<string, string>, startMs = 20_000) {
    const path = fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url));
    this.child = spawn(process.execPath, ['--import', TSX, path], {
      cwd: REPO,
      env: { ...withoutFailpoints(process.env), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    let stdout = '';
    this.child.stderr!.on('data', (chunk: Buffer) => {
      // Keep the tail only: a long soak must not grow memory without bound.
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        resolve({ code, signal });
      }),
    );
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within ${startMs} ms:\n${this.stderr}`)), startMs);
      this.child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const url = /listening (http:\/\/\S+)/.exec(stdout)?.[1];
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      void this.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${exit.code ?? exit.signal}) before listening:\n${this.stderr}`));
      });
    });
    this.ready.catch(() => {});
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Signal it (SIGKILL unless told otherwise) and wait for the exit; no-op once exited. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/** Start a fixture and wait for its URL. */
export async function startFixture(script: string, env: Record<string, string>): Promise<Fixture & { url: string }> {
  const fixture = new Fixture(script, env);
  try {
    const url = await fixture.ready;
    return Object.assign(fixture, { url });
  } catch (error) {
    await fixture.stop();
    throw error;
  }
}

function withoutFailpoints(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !name.startsWith('ONCEKEY_FAILPOINT') && name !== 'ONCEKEY_FAULT_MUTATION'),
  );
}
