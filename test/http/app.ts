/**
 * The application every adapter's test server runs: a framework-neutral handler that counts its
 * executions, so the behaviour suite can assert how many times an effect really happened.
 */
import { createHash } from 'node:crypto';

export interface HandlerInput {
  readonly method: string;
  /** Path and query, as received. */
  readonly path: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export interface HandlerReply {
  readonly status: number;
  readonly headers: readonly [string, string][];
  /** The whole body at once… */
  readonly body?: Uint8Array;
  /** …or written chunk by chunk (a streaming response). */
  readonly chunks?: readonly Uint8Array[];
  /** The adapter's handler throws an Error instead of answering. */
  readonly throws?: boolean;
}

export type TestHandler = (input: HandlerInput) => Promise<HandlerReply>;

/** One turn of the event loop: lets I/O and the middleware run between two chunks of a body. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const json = (value: unknown): Uint8Array => text(JSON.stringify(value));

export class TestApp {
  /** Executions per `authorization|key|method path`. */
  readonly runs = new Map<string, number>();
  total = 0;
  #gate = deferred();
  #entered = deferred();

  /** Resolves when a request reached `/slow` and is held there. */
  get entered(): Promise<void> {
    return this.#entered.promise;
  }

  /** Let every request held in `/slow` answer. */
  open(): void {
    this.#gate.resolve();
  }

  /** Executions for one key (and Authorization), all routes together. */
  runsFor(key: string, authorization = ''): number {
    let n = 0;
    for (const [id, count] of this.runs) if (id.startsWith(`${authorization}|${key}|`)) n += count;
    return n;
  }

  readonly handler: TestHandler = async (input) => {
    const id = `${input.headers.get('authorization') ?? ''}|${input.headers.get('idempotency-key') ?? ''}|${input.method} ${input.path}`;
    this.runs.set(id, (this.runs.get(id) ?? 0) + 1);
    const n = ++this.total;
    const url = new URL(input.path, 'http://test');
    const delay = Number(url.searchParams.get('delay') ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const bodyHash = createHash('sha256').update(input.body).digest('hex');
    switch (url.pathname) {
      case '/orders':
        return {
          status: 201,
          headers: [
            ['content-type', 'application/json'],
            ['location', `/orders/${n}`],
            ['set-cookie', `session=s${n}; HttpOnly`],
            ['x-execution', String(n)],
          ],
          body: json({ order: n, bodyHash }),
        };
      case '/binary':
        return {
          status: 200,
          headers: [['content-type', 'application/octet-stream']],
          body: Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + n * 7 + (i >> 8)) & 255),
        };
      case '/echo':
        return { status: 200, headers: [['content-type', 'application/octet-stream']], body: input.body };
      case '/slow':
        this.#entered.resolve();
        await this.#gate.promise;
        return { status: 201, headers: [['content-type', 'application/json']], body: json({ order: n, slow: true }) };
      case '/fail':
        return { status: 500, headers: [['content-type', 'application/json']], body: json({ error: 'boom', n }) };
      case '/invalid':
        return { status: 400, headers: [['content-type', 'application/json']], body: json({ error: 'invalid', n }) };
      case '/throw':
        return { status: 500, headers: [], throws: true };
      case '/stream':
        return {
          status: 200,
          headers: [['content-type', 'text/plain; charset=utf-8']],
          chunks: Array.from({ length: 20 }, (_, i) => text(`chunk ${i} of execution ${n}\n`)),
        };
      case '/big': {
        const size = Number(url.searchParams.get('size') ?? 10_000);
        return { status: 200, headers: [['content-type', 'text/plain']], chunks: [text('x'.repeat(size / 2)), text('y'.repeat(size / 2))] };
      }
      default:
        return { status: 404, headers: [['content-type', 'text/plain']], body: text('not found') };
    }
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
