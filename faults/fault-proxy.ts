/**
 * A TCP fault proxy for the network scenarios: between client and gateway, or gateway and store.
 * Modes (switch at any time with `set`):
 * - `pass`: forward as is;
 * - `latency`: hold each chunk a seeded random delay in [minMs, maxMs], order kept per direction;
 * - `blackhole`: hold everything, open and new connections alike, until another mode: then the
 *   held bytes flow in order (as TCP retransmission would deliver them) — a request a client gave
 *   up on may still reach the server;
 * - `reset-after-delivery`: requests reach the server, but the first bytes of any answer reset
 *   both sides instead (the request was delivered and maybe applied; the reply is lost).
 *
 * test/helpers/tcp-proxy.ts has cut and blackhole but neither latency nor reset-after-delivery,
 * and is another part's file; this one is the fault suite's own.
 */
import net from 'node:net';
import type { Random } from './random.js';

export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'latency'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'reset-after-delivery' };

export interface FaultProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections reset by `reset-after-delivery` so far. */
  readonly resets: number;
  set(mode: ProxyMode): void;
  close(): Promise<void>;
}

const END = Symbol('end');
type Item = { readonly data: Buffer | typeof END; readonly at: number };

class Lane {
  readonly queue: Item[] = [];
  timer: NodeJS.Timeout | undefined;
  last = 0;
  constructor(readonly dst: net.Socket) {}
}

interface Pair {
  readonly client: net.Socket;
  readonly server: net.Socket;
  readonly up: Lane;
  readonly down: Lane;
}

export async function startFaultProxy(target: { host: string; port: number }, rand: Random): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let mode: ProxyMode = { kind: 'pass' };
  let resets = 0;

  const pump = (lane: Lane): void => {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (mode.kind === 'blackhole') return;
    const now = performance.now();
    while (lane.queue.length > 0 && lane.queue[0]!.at <= now) {
      const item = lane.queue.shift()!;
      if (lane.dst.destroyed) continue;
      if (item.data === END) lane.dst.end();
      else lane.dst.write(item.data);
    }
    if (lane.queue.length > 0) lane.timer = setTimeout(() => pump(lane), Math.max(1, lane.queue[0]!.at - now));
  };

  const enqueue = (lane: Lane, data: Buffer | typeof END): void => {
    let at = performance.now();
    if (mode.kind === 'latency' && data !== END) at += rand.int(mode.minMs, mode.maxMs);
    at = Math.max(at, lane.last); // never reorder
    lane.last = at;
    lane.queue.push({ data, at });
    if (lane.timer === undefined) pump(lane);
  };

  const reset = (pair: Pair): void => {
    pairs.delete(pair);
    for (const lane of [pair.up, pair.down]) {
      clearTimeout(lane.timer);
      lane.queue.length = 0;
    }
    for (const socket of [pair.client, pair.server]) if (!socket.destroyed) socket.resetAndDestroy();
  };

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    const pair: Pair = { client, server: upstream, up: new Lane(upstream), down: new Lane(client) };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => enqueue(pair.up, chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (mode.kind === 'reset-after-delivery') {
        resets++;
        reset(pair);
        return;
      }
      enqueue(pair.down, chunk);
    });
    // A side that closes: the other still gets what is queued for it, then an orderly end.
    let open = 2;
    const closed = (lane: Lane): void => {
      enqueue(lane, END);
      if (--open === 0) pairs.delete(pair);
    };
    client.on('close', () => closed(pair.up));
    upstream.on('close', () => closed(pair.down));
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    get mode() {
      return mode;
    },
    get resets() {
      return resets;
    },
    set(next) {
      mode = next;
      if (next.kind !== 'blackhole') {
        for (const pair of pairs) {
          pump(pair.up);
          pump(pair.down);
        }
      }
    },
    async close() {
      mode = { kind: 'pass' };
      for (const pair of [...pairs]) reset(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
