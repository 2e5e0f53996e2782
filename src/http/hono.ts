/**
 * `oncekey/hono`: idempotency keys as Hono middleware, on any runtime Hono runs on.
 *
 * ```ts
 * import { Hono } from 'hono';
 * import { idempotency } from 'oncekey/hono';
 * import { memoryStore } from 'oncekey/memory';
 *
 * const app = new Hono();
 * app.use('/orders/*', idempotency({ store: memoryStore() }));
 * app.post('/orders', async (c) => c.json(await createOrder(await c.req.json()), 201));
 * ```
 */
import type { MiddlewareHandler } from 'hono';
import { idempotency as core } from './middleware.js';
import type { IdempotencyOptions } from './options.js';

/** Hono middleware applying Idempotency-Key semantics to the routes after it. */
export function idempotency(options: IdempotencyOptions): MiddlewareHandler {
  const middleware = core(options);
  return async (c, next) => {
    if (!middleware.covers(c.req.method)) return next();
    const request = c.req.raw;
    // An earlier middleware (a validator) read the body through c.req: the bytes are in Hono's
    // cache, where the handler reads them too, so the request is not copied.
    const inHand = request.bodyUsed ? new Uint8Array(await c.req.arrayBuffer()) : undefined;
    let ranNext = false;
    const response = await middleware(
      request,
      async (forwarded) => {
        // The middleware consumed the original body; the handler reads the same bytes from here.
        if (forwarded !== request) c.req.raw = forwarded;
        ranNext = true;
        await next(); // Hono turns a thrown error into c.res through onError, so this resolves
        return c.res;
      },
      inHand,
    );
    if (!ranNext) return response;
    // After next() the context is finalized, so a returned Response would be ignored.
    c.res = response;
    return undefined;
  };
}

export type { IdempotencyOptions } from './options.js';
