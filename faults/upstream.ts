/**
 * The upstream behind the gateway in the HTTP scenarios: `POST /effects` with body `{"key": K}`
 * performs the effect — one durable ledger row — and answers 201 `{ key, effect }`. It runs in
 * the test process (which the nemesis never kills); a small seeded delay widens race windows.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ledger } from './ledger.js';
import type { Random } from './random.js';

export interface Upstream {
  readonly url: string;
  close(): Promise<void>;
}

export async function startUpstream(ledger: Ledger, rand: Random, maxDelayMs = 15): Promise<Upstream> {
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
      const effect = ledger.effect(key, 'upstream');
      const reply = (): void => {
        if (!res.destroyed) res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ key, effect }));
      };
      const delay = rand.int(0, maxDelayMs);
      if (delay === 0) reply();
      else setTimeout(reply, delay);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
