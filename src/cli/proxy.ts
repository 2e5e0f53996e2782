/**
 * `oncekey proxy`: open the store, start the gateway, and on SIGTERM or SIGINT drain in-flight
 * requests (up to the shutdown deadline), close the store and exit.
 */
import { createGateway, type Gateway, type GatewayAddresses } from '../gateway/gateway.js';
import type { Store } from '../store/contract.js';
import type { ProxyConfig } from './args.js';
import { redact } from '../core/url.js';
import { openStore } from './store-url.js';

export interface RunningProxy extends GatewayAddresses {
  readonly gateway: Gateway;
  readonly store: Store;
  /** Drain, close the store; resolves with the exit code (0 drained, 1 requests were cut). */
  stop(): Promise<number>;
}

export interface ProxyIo {
  /** Normal output (the listening addresses). */
  readonly out: (line: string) => void;
  /** Errors and shutdown notes. */
  readonly err: (line: string) => void;
}

const stdio: ProxyIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Start the gateway described by `config`; the caller decides when to `stop`. */
export async function startProxy(config: ProxyConfig, io: ProxyIo = stdio): Promise<RunningProxy> {
  const store = await openStore(config.store);
  let gateway: Gateway;
  let addresses: GatewayAddresses;
  try {
    await store.ping();
    gateway = createGateway({
      upstream: config.upstream,
      store,
      port: config.port,
      host: config.host,
      adminPort: config.adminPort,
      methods: config.methods,
      requireKey: config.requireKey,
      ...(config.ttlMs === undefined ? {} : { ttl: config.ttlMs }),
      ...(config.leaseMs === undefined ? {} : { lease: config.leaseMs }),
      ...(config.scopeHeader === undefined ? {} : { scopeHeader: config.scopeHeader }),
      ...(config.maxBody === undefined ? {} : { maxBody: config.maxBody }),
      ...(config.maxResponseBody === undefined ? {} : { maxResponseBody: config.maxResponseBody }),
      ...(config.upstreamTimeoutMs === undefined ? {} : { upstreamTimeout: config.upstreamTimeoutMs }),
      log: io.err,
    });
    addresses = await gateway.listen();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const { url, adminUrl } = addresses;
  io.out(`oncekey proxy listening on ${url} -> ${gateway.options.upstream.href}`);
  io.out(`  store ${redact(config.store)} · keys on ${config.methods.join(', ')}${config.requireKey ? ' (required)' : ''}`);
  if (adminUrl !== undefined) io.out(`  admin ${adminUrl} (/healthz /readyz /metrics)`);

  let stopping: Promise<number> | undefined;
  return {
    url,
    adminUrl,
    gateway,
    store,
    stop() {
      stopping ??= (async () => {
        const result = await gateway.close({ deadlineMs: config.shutdownTimeoutMs });
        if (!result.drained) io.err(`oncekey proxy: ${result.cut} request(s) still running after ${config.shutdownTimeoutMs} ms were cut`);
        await store.close().catch((error: unknown) => io.err(`oncekey proxy: closing the store failed: ${String(error)}`));
        return result.drained ? 0 : 1;
      })();
      return stopping;
    },
  };
}

/** Run until SIGTERM or SIGINT, then drain and exit. A second signal exits at once. */
export async function runProxy(config: ProxyConfig, io: ProxyIo = stdio): Promise<void> {
  const proxy = await startProxy(config, io);
  const onSignal = (signal: NodeJS.Signals): void => {
    process.on(signal, () => {
      io.err(`oncekey proxy: ${signal} again, exiting now`);
      process.exit(1);
    });
    io.err(`oncekey proxy: ${signal}, finishing ${proxy.gateway.inFlight} in-flight request(s) (up to ${config.shutdownTimeoutMs} ms)`);
    void proxy.stop().then((code) => process.exit(code));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
