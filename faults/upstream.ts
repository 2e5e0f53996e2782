/**
 * The upstream behind the gateway in the HTTP scenarios: `POST /effects` with body `{"key": K}`
 * performs the effect — one durable ledger row — and answers 201 `{ key, effect }`. It runs in
 * the test process (which the nemesis never kills); a small seeded delay widens race windows.
 */
import { createServer } from 'node:http';
import { type Listening, listen } from '../test/http/listen.js';
import type { Ledger } from './ledger.js';
import type { Random } from './random.js';

/** The upstream's base URL, and `close`, which also cuts keep-alive connections. */
export type Upstream = Listening;

/** Deliberate defects for the self-check: acknowledge without an effect, or add an unrequested one. */
export interface UpstreamDefects {
  /** Chance of answering 201 with an effect id that was never written. */
  readonly ackWithoutEffect?: number;
  /** Chance of also writing an effect for a key nobody requested. */
  readonly phantomEffect?: number;
}

export async function startUpstream(ledger: Ledger, rand: Random, maxDelayMs = 15, defects: UpstreamDefects = {}): Promise<Upstream> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let key: unknown;
      try {
        key = (JSON.parse(Buffer.concat(chunks).toString()) as { key?: unknown }).key;
      } catch {
        key = undefined;
      }
      if (req.method !== 'POST' || typeof key !== 'string') {
        res.writeHead(400).end();
        return;
      }
      const effect = rand.chance(defects.ackWithoutEffect ?? 0) ? `never-written-${rand.next()}` : ledger.effect(key, 'upstream');
      if (rand.chance(defects.phantomEffect ?? 0)) ledger.effect(`${key}-phantom`, 'upstream');
      const reply = (): void => {
        if (!res.destroyed) res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ key, effect }));
      };
      const delay = rand.int(0, maxDelayMs);
      if (delay === 0) reply();
      else setTimeout(reply, delay);
    });
  });
  server.keepAliveTimeout = 30_000;
  return listen(server);
}
