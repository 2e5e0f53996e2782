/**
 * `createGateway`: the Oncekey reverse proxy. It puts the idempotency middleware in front of any
 * HTTP API without touching its code, and serves health, readiness and metrics on an admin port.
 *
 * ```ts
 * const gateway = createGateway({ upstream: 'http://127.0.0.1:3000', store: sqliteStore({ path: 'keys.db' }) });
 * const { url } = await gateway.listen();
 * // on SIGTERM:
 * await gateway.close({ deadlineMs: 10_000 });
 * ```
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { headerScope } from '../http/scope.js';
import { idempotency } from '../http/middleware.js';
import { createAdminServer } from './admin.js';
import { createProxyHandler } from './handler.js';
import { InFlight } from './in-flight.js';
import { instrumentStore } from './instrumented-store.js';
import { GatewayMetrics } from './metrics.js';
import { type GatewayOptions, type ResolvedGatewayOptions, describeGatewayError, resolveGatewayOptions } from './options.js';
import { Upstream } from './upstream.js';

export interface GatewayAddresses {
  /** Where the proxy listens, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** Where the admin endpoints listen, unless disabled. */
  readonly adminUrl: string | undefined;
}

export interface CloseResult {
  /** True when every in-flight request finished before the deadline. */
  readonly drained: boolean;
  /** Requests cut at the deadline. */
  readonly cut: number;
}

export interface Gateway {
  readonly options: ResolvedGatewayOptions;
  readonly metrics: GatewayMetrics;
  /** Requests being served now. */
  readonly inFlight: number;
  /** Start both servers. */
  listen(): Promise<GatewayAddresses>;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (answers close their
   * connections), cut what is left at `deadlineMs` (default 10 s). Does not close the store.
   */
  close(options?: { readonly deadlineMs?: number }): Promise<CloseResult>;
}

export function createGateway(options: GatewayOptions): Gateway {
  const config = resolveGatewayOptions(options);
  const metrics = new GatewayMetrics({ defaultMetrics: config.processMetrics });
  const store = instrumentStore(config.store, (operation, result, seconds) =>
    metrics.storeDuration.observe({ operation, result }, seconds),
  );
  const { onOutcome, ...passed } = config.idempotency;
  const middleware = idempotency({
    onError: (error, context) => config.log(describeGatewayError(error, context)),
    ...passed,
    store,
    methods: config.methods,
    required: config.requireKey,
    maxRequestBody: config.maxBody,
    maxResponseBody: config.maxResponseBody,
    ...(config.ttlMs === undefined ? {} : { ttl: config.ttlMs }),
    ...(config.leaseMs === undefined ? {} : { lease: config.leaseMs }),
    ...(config.scopeHeader === undefined ? {} : { scope: headerScope(config.scopeHeader) }),
    onOutcome: (event) => {
      metrics.requests.inc({ outcome: event.outcome });
      onOutcome?.(event);
    },
  });

  // Created once every option has been validated (the middleware validates its own).
  const upstream = new Upstream(config.upstream, {
    timeoutMs: config.upstreamTimeoutMs,
    ...(config.upstreamConnections === undefined ? {} : { connections: config.upstreamConnections }),
  });
  let draining = false;
  const inFlight = new InFlight();
  const handle = createProxyHandler({
    upstream,
    middleware,
    requireKey: config.requireKey,
    maxBody: config.maxBody,
    metrics,
    draining: () => draining,
    log: config.log,
  });
  const server = createServer((req, res) => {
    inFlight.enter();
    metrics.inFlight.inc();
    res.once('close', () => {
      inFlight.leave();
      metrics.inFlight.dec();
    });
    void handle(req, res);
  });
  const admin = config.adminPort === false ? undefined : createAdminServer({ store: config.store, metrics, draining: () => draining });

  let closing: Promise<CloseResult> | undefined;
  return {
    options: config,
    metrics,
    get inFlight() {
      return inFlight.count;
    },
    async listen() {
      const url = await listen(server, config.port, config.host, 'proxy');
      if (admin === undefined || config.adminPort === false) return { url, adminUrl: undefined };
      try {
        return { url, adminUrl: await listen(admin, config.adminPort, config.host, 'admin') };
      } catch (error) {
        await closeServer(server);
        throw error;
      }
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        draining = true;
        const deadline = Date.now() + (closeOptions.deadlineMs ?? 10_000);
        const stopped = closeServer(server);
        const drained = await inFlight.idle(deadline - Date.now());
        const cut = inFlight.count;
        // Idle keep-alive connections, and past the deadline the requests still running.
        server.closeAllConnections();
        await stopped;
        // An upstream call can outlive its client (a covered request whose caller left goes on,
        // so its answer is stored); wait for it until the deadline, then cut it.
        const upstreamClosed = await within(upstream.close(false), deadline - Date.now());
        if (!upstreamClosed) await upstream.close(true);
        if (admin !== undefined) {
          const adminStopped = closeServer(admin);
          admin.closeAllConnections();
          await adminStopped;
        }
        return { drained, cut };
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const hint = error.code === 'EADDRINUSE' ? ' (in use: pick another with --port / --admin-port)' : '';
      reject(new Error(`cannot listen on ${host}:${port} for the ${what} server: ${error.code ?? error.message}${hint}`, { cause: error }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}`);
    });
  });
}

/** Resolves true when `work` settles within `ms`, false otherwise. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stop accepting; resolves once every connection ended (node closes idle ones at once). */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
