/**
 * An HTTP proxy that loses answers, for end-to-end tests of retries. It forwards each request to a
 * real server; for the requests you tell it to drop, the client's connection is reset (the client
 * sees ECONNRESET, "socket hang up", undici's "fetch failed") at a moment you choose:
 *
 * - `afterResponse`: the whole response was read from the server first: the server did the work
 *   and (with the idempotency middleware) stored its outcome. The lost-acknowledgement case.
 * - `whileRunning`: as soon as `until` resolves (say, once the handler started), while the
 *   server is still working on it; the proxy keeps its own upstream request going.
 *
 * Unlike test/helpers/tcp-proxy.ts, which cuts TCP connections without knowing about requests,
 * this one knows where a response ends, so "after the server answered" is exact.
 *
 * ```ts
 * const proxy = await startFaultProxy('http://127.0.0.1:3000');
 * proxy.drop(2, { mode: 'afterResponse' });
 * // point the client at proxy.url
 * ```
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface DropRule {
  readonly mode: 'afterResponse' | 'whileRunning';
  /** `whileRunning`: reset the client once this resolves (default at once). */
  readonly until?: () => Promise<void>;
}

export interface ForwardedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The server's answer (status and body) when the proxy read it, also for dropped requests. */
  readonly response?: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string };
  readonly dropped: boolean;
}

export interface FaultProxy {
  readonly url: string;
  /** Every request the proxy received, in order. */
  readonly requests: readonly ForwardedRequest[];
  /** Drop the next `count` requests. */
  drop(count: number, rule: DropRule): void;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and those fetch computes itself.
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'te',
  'trailer',
  'proxy-connection',
]);

const readAll = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const requests: ForwardedRequest[] = [];
  const rules: DropRule[] = [];
  const sockets = new Set<Socket>();
  const pending = new Set<Promise<unknown>>();

  const server = createServer(async (req, res) => {
    const body = await readAll(req);
    const rule = rules.shift();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const entry: { -readonly [K in keyof ForwardedRequest]: ForwardedRequest[K] } = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      body: body.toString('utf8'),
      dropped: rule !== undefined,
    };
    requests.push(entry);

    const upstream = (async () => {
      const response = await fetch(new URL(entry.path, target), {
        method: entry.method,
        headers,
        body: body.byteLength > 0 ? body : null,
        redirect: 'manual',
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      const answer = { status: response.status, headers: Object.fromEntries(response.headers), body: bytes.toString('utf8') };
      entry.response = answer;
      return { answer, bytes };
    })();
    pending.add(upstream);
    void upstream.catch(() => undefined).finally(() => pending.delete(upstream));

    if (rule?.mode === 'whileRunning') {
      await (rule.until?.() ?? Promise.resolve());
      req.socket.resetAndDestroy();
      return;
    }
    let forwarded;
    try {
      forwarded = await upstream;
    } catch {
      req.socket.resetAndDestroy();
      return;
    }
    if (rule?.mode === 'afterResponse') {
      req.socket.resetAndDestroy();
      return;
    }
    const out = { ...forwarded.answer.headers };
    for (const name of Object.keys(out)) if (HOP.has(name) || name === 'content-encoding') delete out[name];
    res.writeHead(forwarded.answer.status, { ...out, 'content-length': String(forwarded.bytes.byteLength) });
    res.end(forwarded.bytes);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    drop(count, rule) {
      for (let i = 0; i < count; i++) rules.push(rule);
    },
    async close() {
      await Promise.allSettled([...pending]);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
