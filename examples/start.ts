/**
 * `npm start`: the example orders API (it knows nothing about idempotency; each order takes about
 * 3 s) with the Oncekey gateway in front of it on the embedded SQLite store, then three curl
 * commands that show a replay, a 409 and a 422.
 *
 * Environment: ORDERS_PORT (default 3000), ORDERS_DELAY_MS (default 3000), and every
 * `oncekey proxy` variable (ONCEKEY_PORT 8787, ONCEKEY_ADMIN_PORT 8788, ONCEKEY_STORE, …).
 */
import { randomBytes } from 'node:crypto';
import { UsageError, parseProxyArgs } from '../src/cli/args.js';
import { startProxy } from '../src/cli/proxy.js';
import { redact } from '../src/core/url.js';
import { startOrdersApi } from './orders-api.js';

const ordersPort = Number(process.env.ORDERS_PORT ?? 3000);
const delayMs = Number(process.env.ORDERS_DELAY_MS ?? 3000);

let api;
try {
  api = await startOrdersApi({ port: ordersPort, delayMs });
} catch (error) {
  fail(
    `cannot start the orders API on port ${ordersPort} (${(error as NodeJS.ErrnoException).code ?? String(error)}); set ORDERS_PORT to another port`,
  );
}

let proxy;
let store = '';
try {
  const parsed = parseProxyArgs(['--upstream', api.url], process.env);
  if (parsed.help) throw new UsageError('unexpected --help');
  store = parsed.config.store;
  proxy = await startProxy(parsed.config, { out: () => {}, err: (line) => process.stderr.write(`${line}\n`) });
} catch (error) {
  await api.close();
  fail(
    `cannot start the gateway: ${error instanceof Error ? error.message : String(error)} (ONCEKEY_PORT and ONCEKEY_ADMIN_PORT choose its ports)`,
  );
}

// Keys unique to this run: the store outlives it, and a key from a previous run would replay.
const run = randomBytes(3).toString('hex');
const gateway = proxy.url;
const json = "-H 'Content-Type: application/json'";
const post = (key: string, body: string): string => `curl -i -X POST ${gateway}/orders -H 'Idempotency-Key: ${key}' ${json} -d '${body}'`;
const quiet = (key: string, body: string): string =>
  `curl -s -o /dev/null -X POST ${gateway}/orders -H 'Idempotency-Key: ${key}' ${json} -d '${body}'`;
const book = '{"item":"book","quantity":1}';
const pens = '{"item":"pen","quantity":2}';
const seconds = Math.round(delayMs / 100) / 10;

console.log(`
  orders API (no idempotency of its own, ${seconds} s per order)   ${api.url}
  Oncekey gateway in front of it  <- send requests here   ${gateway}
  gateway admin (/healthz /readyz /metrics)               ${proxy.adminUrl ?? '(off)'}
  keys stored in ${redact(store)}

Try it from another terminal:

1. Replay: run this twice. The first call takes ${seconds} s and creates an order; the second answers
   at once with the same order and "Idempotent-Replayed: true".

   ${post(`order-${run}-1`, book)}

2. 409: two calls with one key at the same time. The second gets 409 Conflict (with Retry-After)
   while the first is still running.

   ${quiet(`order-${run}-2`, pens)} & sleep 1; ${post(`order-${run}-2`, pens)}; wait

3. 422: after 1, the same key with a different body. Nothing runs.

   ${post(`order-${run}-1`, '{"item":"book","quantity":5}')}

Orders the API really created (one per key, however often you retry):

   curl -s ${gateway}/orders

Ctrl-C stops both.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void proxy.stop().then(async (code) => {
      await api.close();
      process.exit(code);
    });
  });
}

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}
