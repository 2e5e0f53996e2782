/**
 * `oncekey/express`: idempotency keys as Express middleware (Express 5 and 4).
 *
 * ```ts
 * import express from 'express';
 * import { idempotency } from 'oncekey/express';
 * import { sqliteStore } from 'oncekey/sqlite';
 *
 * const app = express();
 * app.use(express.json());
 * app.use(idempotency({ store: sqliteStore({ path: 'keys.db' }) }));
 * app.post('/orders', (req, res) => res.status(201).json(createOrder(req.body)));
 * ```
 *
 * Mount it before or after your body parser: after, it fingerprints the parsed `req.body`;
 * before, it reads the raw body and puts it back into the request for the parser. It uses only
 * node's `req`/`res` and `next`, so it does not depend on a given Express version.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { idempotency as core } from './middleware.js';
import type { IdempotencyOptions } from './options.js';
import { serveNode } from './node-bridge.js';

export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** Express middleware applying Idempotency-Key semantics to the routes after it. */
export function idempotency(options: IdempotencyOptions): ExpressMiddleware {
  const middleware = core(options);
  return (req, res, next) => {
    if (!middleware.covers(req.method ?? 'GET')) {
      next();
      return;
    }
    void serveNode(
      middleware,
      req,
      res,
      {
        // Express catches the routes' errors and renders them into `res`, where they are captured.
        downstream: () => next(),
        settles: false,
        failed: (error) => {
          if (res.destroyed) return; // the client left
          if (res.headersSent) res.destroy();
          else next(error);
        },
      },
      parsedBody(req),
    );
  };
}

/** The body a parser (express.json(), express.raw(), …) already consumed, as bytes. */
function parsedBody(req: IncomingMessage): Uint8Array | undefined {
  if (!req.readableEnded) return undefined; // not consumed: read (and put back) by the middleware
  const body = (req as { body?: unknown }).body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  // Parsed JSON or form fields: re-serialized; JSON is canonicalized again by the fingerprint.
  return new TextEncoder().encode(JSON.stringify(body));
}

export type { IdempotencyOptions } from './options.js';
