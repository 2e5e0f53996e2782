/**
 * The HTTP behaviour suite every middleware adapter passes, run against the gateway: a real
 * upstream server (no idempotency of its own) behind a real gateway, over real HTTP.
 */
import { createGateway } from '../src/gateway/gateway.js';
import { runHttpBehaviour } from './http/behaviour.js';
import { serveTestHandler } from './fixtures/gateway-upstream.js';

runHttpBehaviour('oncekey gateway', async ({ handler, options }) => {
  const upstream = await serveTestHandler(handler);
  const { store, methods, required, maxRequestBody, maxResponseBody, ttl, lease, oncekey, ...idempotency } = options;
  if (store === undefined || oncekey !== undefined) throw new Error('the gateway suite needs a store');
  const gateway = createGateway({
    upstream: upstream.url,
    store,
    port: 0,
    adminPort: false,
    processMetrics: false,
    log: () => {},
    ...(methods === undefined ? {} : { methods }),
    ...(required === undefined ? {} : { requireKey: required }),
    ...(maxRequestBody === undefined ? {} : { maxBody: maxRequestBody }),
    ...(maxResponseBody === undefined ? {} : { maxResponseBody }),
    ...(ttl === undefined ? {} : { ttl }),
    ...(lease === undefined ? {} : { lease }),
    idempotency,
  });
  const { url } = await gateway.listen();
  return {
    url,
    close: async () => {
      await gateway.close({ deadlineMs: 5000 });
      await upstream.close();
    },
  };
});
