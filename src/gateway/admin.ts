/**
 * The admin endpoints, on a port of their own so they are never proxied nor exposed with the API:
 * `/healthz` (the process serves), `/readyz` (the store answers and the gateway is not draining;
 * 503 otherwise) and `/metrics` (Prometheus text format).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Store } from '../store/contract.js';
import type { GatewayMetrics } from './metrics.js';
import { sendText } from './node-http.js';

export interface AdminOptions {
  readonly store: Store;
  readonly metrics: GatewayMetrics;
  /** True once shutdown began: not ready any more, so load balancers stop sending traffic. */
  readonly draining: () => boolean;
  /** How long `/readyz` waits for the store's `ping`; default 2000 ms. */
  readonly pingTimeoutMs?: number;
}

const JSON_HEADERS = [
  ['content-type', 'application/json'],
  ['cache-control', 'no-store'],
] as const;

export function createAdminServer(options: AdminOptions): Server {
  const pingTimeoutMs = options.pingTimeoutMs ?? 2000;
  const json = (res: ServerResponse, status: number, body: unknown): void =>
    sendText(res, status, JSON_HEADERS, `${JSON.stringify(body)}\n`);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    switch (path) {
      case '/healthz':
        return json(res, 200, { status: 'ok' });
      case '/readyz': {
        if (options.draining()) return json(res, 503, { status: 'draining' });
        const error = await ping(options.store, pingTimeoutMs);
        if (error === undefined) return json(res, 200, { status: 'ready', store: options.store.name });
        return json(res, 503, { status: 'store unreachable', store: options.store.name, detail: error });
      }
      case '/metrics': {
        const { contentType, body } = await options.metrics.expose();
        return sendText(res, 200, [['content-type', contentType]], body);
      }
      default:
        return json(res, 404, { error: 'not found', endpoints: ['/healthz', '/readyz', '/metrics'] });
    }
  }

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => json(res, 500, { error: error instanceof Error ? error.message : String(error) }));
  });
}

/** `undefined` when the store answered within `timeoutMs`, else why not. */
async function ping(store: Store, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      store.ping().then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
