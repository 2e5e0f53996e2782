/**
 * The function-API subjects of the alternatives benchmark: the same `charge(order)` made
 * idempotent by Oncekey (`wrap`), by AWS Powertools (`makeIdempotent` on its Redis/cache
 * persistence layer) and by @node-idempotency/core (`onRequest`/`onResponse` around the call, as
 * its README shows), each on the store it ships (memory or Redis). Every subject is built fresh,
 * under its own key namespace, for each check and each measured run.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { Idempotency } from '@node-idempotency/core';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import { RedisStorageAdapter } from '@node-idempotency/storage-adapter-redis';
import { createClient } from '@redis/client';
import { Oncekey } from '../../src/engine/oncekey.js';
import type { Store } from '../../src/store/contract.js';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis/index.js';

export interface Order {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly customer: string;
}

/** About 200 bytes once serialized, like the outcome of the store benchmarks. */
export interface Charge {
  readonly chargeId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly state: string;
  readonly created: number;
  readonly note: string;
}

export type ChargeFn = (order: Order) => Promise<Charge>;

export interface Instance {
  readonly call: ChargeFn;
  close(): Promise<void>;
}

export interface FunctionSubject {
  /** Row label. */
  readonly name: string;
  readonly store: 'memory' | 'redis' | 'none';
  /** What the subject is configured like, for the notes. */
  readonly config: string;
  /** A fresh idempotent wrapper around `handler`, with keys under `namespace` (no `{` or `}`). */
  create(handler: ChargeFn, namespace: string): Promise<Instance>;
}

export function order(id: string, amount = 4200): Order {
  return { id, amount, currency: 'eur', customer: 'cus_Q2w3E4r5T6y7U8' };
}

export function makeCharge(n: number, o: Order): Charge {
  return {
    chargeId: `ch_${n.toString(36).padStart(8, '0')}`,
    orderId: o.id,
    amount: o.amount,
    currency: o.currency,
    state: 'captured',
    created: 1_764_000_000,
    note: 'charged once; a retry with the same key gets this very object back',
  };
}

/** No idempotency at all: the floor every other row is measured against. */
export const bareFunction: FunctionSubject = {
  name: 'bare function (no idempotency)',
  store: 'none',
  config: 'the handler called directly',
  async create(handler) {
    return { call: handler, close: async () => undefined };
  },
};

function oncekeyOn(name: string, storeKind: 'memory' | 'redis', makeStore: (namespace: string) => Store): FunctionSubject {
  return {
    name,
    store: storeKind,
    config: 'wrap(fn, { scope, key: (o) => o.id }), fingerprint of the whole input, ttl 1h, lease 30s, duplicates in flight wait (default)',
    async create(handler, namespace) {
      const store = makeStore(namespace);
      const oncekey = new Oncekey({ store, ttl: '1h', lease: '30s' });
      const call = oncekey.wrap(handler, { scope: 'payments:charge', key: (o: Order) => o.id });
      return { call, close: () => store.close() };
    },
  };
}

/** Oncekey on memoryStore (its default bound of 10 000 records, as shipped). */
export const oncekeyMemory = oncekeyOn('Oncekey wrap', 'memory', () => memoryStore());

export function oncekeyRedis(url: string): FunctionSubject {
  return oncekeyOn('Oncekey wrap', 'redis', (namespace) => redisStore({ client: url, prefix: `${namespace}:` }));
}

function nodeIdempotency(name: string, storeKind: 'memory' | 'redis', url?: string): FunctionSubject {
  return {
    name,
    store: storeKind,
    config:
      'onRequest/onResponse around the call, key header = order id, fingerprint of the body, cacheTTLMS 1h, in-progress strategy default (no wait)',
    async create(handler, namespace) {
      const storage = url === undefined ? new MemoryStorageAdapter() : new RedisStorageAdapter({ url });
      if (storage instanceof RedisStorageAdapter) await storage.connect();
      const idempotency = new Idempotency(storage, { cacheKeyPrefix: namespace, cacheTTLMS: 3_600_000 });
      const call: ChargeFn = async (o) => {
        const req = { method: 'POST', path: '/charge', headers: { 'idempotency-key': o.id }, body: { ...o } };
        const cached = await idempotency.onRequest(req);
        if (cached) return cached.body as Charge;
        const value = await handler(o);
        await idempotency.onResponse(req, { body: value });
        return value;
      };
      return {
        call,
        close: async () => {
          if (storage instanceof RedisStorageAdapter) await storage.disconnect();
        },
      };
    },
  };
}

export const nodeIdempotencyMemory = nodeIdempotency('@node-idempotency/core', 'memory');
export const nodeIdempotencyRedis = (url: string) => nodeIdempotency('@node-idempotency/core', 'redis', url);

/** A stand-in Lambda context: Powertools derives the in-progress expiry from the remaining time. */
const lambdaContext = { getRemainingTimeInMillis: () => 30_000 };

export interface PowertoolsVariant {
  /** `payloadValidationJmesPath: '@'` (refuse a different payload under the same key). */
  readonly validatePayload: boolean;
  /** Call `registerLambdaContext` (outside Lambda there is none unless the user supplies one). */
  readonly lambdaContext: boolean;
}

export function powertoolsRedis(url: string, variant: PowertoolsVariant): FunctionSubject {
  const parts = [variant.validatePayload ? 'payload validation on' : 'no payload validation (default)'];
  if (!variant.lambdaContext) parts.push('no Lambda context');
  return {
    name: `Powertools makeIdempotent (${parts.join(', ')})`,
    store: 'redis',
    config:
      "CachePersistenceLayer on @redis/client, eventKeyJmesPath 'id'" +
      (variant.validatePayload ? ", payloadValidationJmesPath '@'" : '') +
      ', expiresAfterSeconds 3600' +
      (variant.lambdaContext ? ', registerLambdaContext (30 s remaining)' : ''),
    async create(handler, namespace) {
      const client = await createClient({ url }).connect();
      const config = new IdempotencyConfig({
        eventKeyJmesPath: 'id',
        ...(variant.validatePayload ? { payloadValidationJmesPath: '@' } : {}),
        expiresAfterSeconds: 3600,
      });
      if (variant.lambdaContext) config.registerLambdaContext(lambdaContext as never);
      const persistenceStore = new CachePersistenceLayer({ client: client as never });
      const call = makeIdempotent(handler, { persistenceStore, config, keyPrefix: namespace });
      return { call, close: () => client.close() };
    },
  };
}
