/**
 * Keeps one fixture process (gateway or worker) alive on a fixed port, the way a process manager
 * would: each start is armed with the next failpoint of a schedule; when the process dies the
 * crash goes into the history as a nemesis entry and a new one starts at once. Once the schedule
 * is used up the process runs unarmed until `stop`.
 */
import type { FailpointName } from './failpoints.js';
import type { Scenario } from './harness.js';
import { type Fixture, startFixture } from './procs.js';
import { freePort } from '../test/helpers/ports.js';

export interface Armed {
  readonly name: FailpointName;
  /** Crash at this hit of the failpoint. */
  readonly hit: number;
}

export class Supervisor {
  readonly #scenario: Scenario;
  readonly #script: string;
  readonly #env: (port: number) => Record<string, string>;
  readonly #schedule: Armed[];
  readonly #label: string;
  #port = 0;
  #current: Fixture | undefined;
  #currentArmed = false;
  #startError = '';
  #stopped = false;
  #loop: Promise<void> | undefined;
  crashes = 0;

  constructor(
    scenario: Scenario,
    label: string,
    script: 'gateway.ts' | 'worker.ts',
    env: (port: number) => Record<string, string>,
    schedule: readonly Armed[] = [],
  ) {
    this.#scenario = scenario;
    this.#label = label;
    this.#script = script;
    this.#env = env;
    this.#schedule = [...schedule];
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** True while failpoints are still to fire. */
  get armed(): boolean {
    return this.#schedule.length > 0 || (this.#currentArmed && this.#current?.running === true);
  }

  /** Start the first process and wait until it listens. */
  async start(): Promise<void> {
    this.#port = await freePort();
    this.#scenario.defer(() => this.stop());
    let first!: () => void;
    const started = new Promise<void>((resolve) => (first = resolve));
    this.#loop = this.#run(first);
    await Promise.race([started, this.#loop]);
    if (this.#current === undefined) throw new Error(`${this.#label} did not start: ${this.#startError}`);
  }

  async #run(started: () => void): Promise<void> {
    // Bounded: the schedule's crashes, plus a few unexpected ones (each already a violation).
    const maxStarts = this.#schedule.length + 4;
    for (let starts = 0; !this.#stopped; starts++) {
      if (starts >= maxStarts) {
        this.#scenario.violation(`${this.#label} crashed ${this.crashes} times; not restarted again`);
        started();
        return;
      }
      const armed = this.#schedule.shift();
      const env = {
        ...this.#env(this.#port),
        ...(armed === undefined ? {} : { ONCEKEY_FAILPOINT: armed.name, ONCEKEY_FAILPOINT_HIT: String(armed.hit) }),
      };
      let fixture: Fixture;
      try {
        fixture = await startWithRetry(this.#script, env);
      } catch (error) {
        this.#startError = String(error).slice(0, 2000);
        if (!this.#stopped) this.#scenario.violation(`${this.#label} could not be (re)started: ${this.#startError}`);
        started();
        return;
      }
      if (this.#stopped) {
        // stop() came while this one was starting: it must not outlive the scenario.
        await fixture.stop('SIGKILL');
        return;
      }
      this.#current = fixture;
      this.#currentArmed = armed !== undefined;
      started();
      const exit = await fixture.exited;
      if (this.#stopped) return;
      this.crashes++;
      if (armed === undefined) {
        this.#scenario.violation(
          `${this.#label} exited without an armed failpoint (${exit.code ?? exit.signal}): ${fixture.stderr.slice(-600)}`,
        );
      }
      this.#scenario.history.nemesis(
        'crash',
        `${this.#label} at ${armed ? `${armed.name}#${armed.hit}` : 'unarmed'} (${exit.signal ?? exit.code})`,
      );
    }
  }

  /** Stop for good: SIGTERM (graceful), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const current = this.#current;
    if (current?.running) {
      current.child.kill('SIGTERM');
      const timer = setTimeout(() => current.child.kill('SIGKILL'), 5000);
      await current.exited;
      clearTimeout(timer);
    }
    await this.#loop?.catch(() => {});
  }
}

async function startWithRetry(script: string, env: Record<string, string>): Promise<Fixture> {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      return await startFixture(script, env);
    } catch (error) {
      last = error; // e.g. the port not yet free after a crash
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw last;
}
