/**
 * The gateway's Prometheus metrics, in a registry of its own (never prom-client's global one, so
 * an application embedding the gateway keeps its metrics apart and two gateways in one process
 * do not collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IdempotencyOutcome } from '../http/options.js';
import type { UpstreamFailure } from './upstream.js';

/** Outcomes reported from the start at zero, so a dashboard's rate() has a series to work on. */
const OUTCOMES: readonly IdempotencyOutcome[] = ['executed', 'replayed', 'conflict', 'mismatch', 'rejected', 'unavailable', 'skipped'];

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Requests by what the idempotency layer did with them. */
  readonly requests: Counter<'outcome'>;
  /** Time of each store call, by operation and result. */
  readonly storeDuration: Histogram<'operation' | 'result'>;
  /** Requests the gateway is serving right now. */
  readonly inFlight: Gauge;
  /** Upstream requests that got no answer (502: unreachable, 504: timeout). */
  readonly upstreamFailures: Counter<'kind'>;

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'oncekey_gateway_requests_total',
      help: 'Requests by idempotency outcome: executed, replayed, conflict (409), mismatch (422), rejected (400/413), unavailable (503), skipped (not covered).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of OUTCOMES) this.requests.inc({ outcome }, 0);
    this.storeDuration = new Histogram({
      name: 'oncekey_store_operation_duration_seconds',
      help: 'Duration of idempotency store calls, by operation (begin, commit, release, extend, ping) and result (ok, error).',
      labelNames: ['operation', 'result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'oncekey_gateway_in_flight_requests',
      help: 'Requests being served by the gateway.',
      registers,
    });
    this.upstreamFailures = new Counter({
      name: 'oncekey_gateway_upstream_failures_total',
      help: 'Upstream requests without an answer, by kind: unreachable (502) or timeout (504).',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['unreachable', 'timeout'] satisfies UpstreamFailure[]) this.upstreamFailures.inc({ kind }, 0);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'oncekey_gateway_' });
  }

  /** The exposition text and its content type, for `/metrics`. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
