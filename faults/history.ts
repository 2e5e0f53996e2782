/**
 * A Jepsen-style history: every client operation is an `invoke` followed by exactly one
 * completion — `ok` (acknowledged, with the value the client got back), `fail` (definitely did
 * not run because of this request: 409, 422, a 503 from `begin`) or `unknown` (timeout, connection
 * lost, 5xx: it may or may not have taken effect). Faults the harness injects are `nemesis`
 * entries; `expire` entries declare that a key's record was allowed to expire (the checker
 * then allows one more effect for that key).
 */
export type Completion = 'ok' | 'fail' | 'unknown';

interface Base {
  /** Milliseconds since the history started (for reading a failure; never asserted). */
  readonly time: number;
}

export interface Invoke extends Base {
  readonly type: 'invoke';
  readonly id: number;
  /** The logical client (one operation at a time per process). */
  readonly process: string;
  readonly key: string;
}

export interface Ok extends Base {
  readonly type: 'ok';
  readonly id: number;
  readonly process: string;
  readonly key: string;
  /** What the client was told happened: the effect id in the response. */
  readonly value: string | undefined;
}

export interface Fail extends Base {
  readonly type: 'fail' | 'unknown';
  readonly id: number;
  readonly process: string;
  readonly key: string;
  readonly error: string;
}

export interface Nemesis extends Base {
  readonly type: 'nemesis';
  /** e.g. `kill`, `start`, `stop-store`, `blackhole`, `resume`, `expire`, `clock`. */
  readonly kind: string;
  readonly detail?: string;
  readonly key?: string;
}

export type Entry = Invoke | Ok | Fail | Nemesis;

/** A handle on one invoked operation; complete it exactly once. */
export interface Operation {
  readonly id: number;
  readonly process: string;
  readonly key: string;
  ok(value: string | undefined): void;
  fail(error: string): void;
  unknown(error: string): void;
}

export class History {
  readonly entries: Entry[] = [];
  #next = 0;
  readonly #start: number;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#start = now();
  }

  #time(): number {
    return Math.round(this.#now() - this.#start);
  }

  invoke(process: string, key: string): Operation {
    const id = this.#next++;
    this.entries.push({ type: 'invoke', id, process, key, time: this.#time() });
    let done = false;
    const complete = (entry: (time: number) => Entry): void => {
      if (done) throw new Error(`operation ${id} (${process}, ${key}) completed twice`);
      done = true;
      this.entries.push(entry(this.#time()));
    };
    return {
      id,
      process,
      key,
      ok: (value) => complete((time) => ({ type: 'ok', id, process, key, value, time })),
      fail: (error) => complete((time) => ({ type: 'fail', id, process, key, error, time })),
      unknown: (error) => complete((time) => ({ type: 'unknown', id, process, key, error, time })),
    };
  }

  nemesis(kind: string, detail?: string, key?: string): void {
    this.entries.push({
      type: 'nemesis',
      kind,
      time: this.#time(),
      ...(detail === undefined ? {} : { detail }),
      ...(key === undefined ? {} : { key }),
    });
  }
}
