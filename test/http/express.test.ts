import express from 'express';
import { createServer } from 'node:http';
import { idempotency } from 'oncekey/express';
import { type ServerSetup, runHttpBehaviour } from './behaviour.js';
import { listen } from './listen.js';
import { nextTurn } from './app.js';

function app({ handler, options }: ServerSetup, parserFirst: boolean): express.Express {
  const app = express();
  const parser = express.raw({ type: () => true, limit: '10mb' });
  if (parserFirst) app.use(parser);
  app.use(idempotency(options));
  if (!parserFirst) app.use(parser); // reads the body the middleware put back into the request
  app.use(async (req, res) => {
    const reply = await handler({
      method: req.method,
      path: req.originalUrl,
      headers: new Headers(Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]]))),
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    });
    if (reply.throws) throw new Error('handler failed'); // Express 5 renders it as a 500
    res.status(reply.status);
    for (const [name, value] of reply.headers) res.append(name, value);
    if (reply.chunks) {
      for (const chunk of reply.chunks) {
        res.write(chunk);
        await nextTurn(); // really streaming: the middleware has answered before the last chunk
      }
      res.end();
    } else {
      res.send(Buffer.from(reply.body ?? new Uint8Array(0)));
    }
  });
  // Quiet error handler: Express's default one logs the stack of every thrown test error.
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).type('text/plain').send('Internal Server Error');
  });
  return app;
}

runHttpBehaviour('oncekey/express (mounted before the body parser)', async (setup) => listen(createServer(app(setup, false))));
// The store makes no difference to where the body comes from: one store is enough here.
runHttpBehaviour('oncekey/express (mounted after the body parser)', async (setup) => listen(createServer(app(setup, true))), {
  stores: ['memoryStore'],
});
