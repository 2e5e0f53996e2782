/**
 * The HTTP subjects of the alternatives benchmark: one Express 5 app, `POST /orders` answering
 * 201 with a ~200-byte JSON order, bare or behind an idempotency middleware (Oncekey's
 * `oncekey/express` on memoryStore, or express-idempotency on its in-memory adapter). Each
 * instance is a fresh app and store on a fresh port, and counts its handler's executions.
 */
import { createServer } from 'node:http';
import express from 'express';
import { getSharedIdempotencyService, idempotency as expressIdempotency } from 'express-idempotency';
import { idempotency as oncekeyIdempotency } from '../../src/http/express.js';
import { memoryStore } from '../../src/store/memory.js';
import { type Listening, listen } from '../../test/http/listen.js';

export interface ExpressInstance extends Listening {
  /** Handler executions so far. */
  executions(): number;
  /** Requests the server received so far (to divide its CPU time by). */
  requests(): number;
  /** Delay the handler by this much (the correctness checks make duplicates overlap). */
  setDelay(ms: number): void;
}

export interface ExpressSubject {
  readonly name: string;
  readonly store: 'memory' | 'none';
  readonly config: string;
  start(): Promise<ExpressInstance>;
}

type Guard = ((req: express.Request) => boolean) | undefined;

async function startApp(middleware: express.RequestHandler | undefined, alreadyAnswered: Guard): Promise<ExpressInstance> {
  let executions = 0;
  let requests = 0;
  let delayMs = 0;
  const app = express();
  // 'test' keeps Express's final handler from printing every 409/417 the middlewares pass on.
  app.set('env', 'test');
  app.use((_req, _res, next) => {
    requests++;
    next();
  });
  app.use(express.json());
  if (middleware) app.use(middleware);
  app.post('/orders', async (req, res) => {
    if (alreadyAnswered?.(req)) return;
    executions++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const body = req.body as { item?: string; quantity?: number };
    res.status(201).json({
      id: `ord_${executions.toString(36).padStart(8, '0')}`,
      item: body.item ?? null,
      quantity: body.quantity ?? null,
      state: 'accepted',
      created: 1_764_000_000,
      note: 'created once; a retry with the same key gets this very order back',
    });
  });
  const listening = await listen(createServer(app));
  return { ...listening, executions: () => executions, requests: () => requests, setDelay: (ms) => (delayMs = ms) };
}

export const bareExpress: ExpressSubject = {
  name: 'bare Express (no idempotency)',
  store: 'none',
  config: 'express.json() and the route',
  start: () => startApp(undefined, undefined),
};

export const oncekeyExpress: ExpressSubject = {
  name: 'Express + oncekey/express',
  store: 'memory',
  config: 'app.use(idempotency({ store: memoryStore() })) after express.json(); defaults (409 while in flight, 422 on another body)',
  start: () => startApp(oncekeyIdempotency({ store: memoryStore(), ttl: '1h', lease: '30s' }) as express.RequestHandler, undefined),
};

export const expressIdempotencyMemory: ExpressSubject = {
  name: 'Express + express-idempotency',
  store: 'memory',
  config: 'app.use(idempotency()) after express.json(), its in-memory adapter; the route returns early when isHit(req), as its README says',
  start: () => {
    const middleware = expressIdempotency() as unknown as express.RequestHandler;
    const service = getSharedIdempotencyService();
    return startApp(middleware, (req) => service.isHit(req));
  },
};
