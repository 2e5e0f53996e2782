import { createServer } from 'node:http';
import { withIdempotency } from 'oncekey/node';
import { runHttpBehaviour } from './behaviour.js';
import { listen } from './listen.js';
import { nextTurn } from './app.js';

runHttpBehaviour('oncekey/node', async ({ handler, options }) => {
  const server = createServer(
    withIdempotency(
      async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const reply = await handler({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: new Headers(
            Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])),
          ),
          body: Buffer.concat(chunks),
        });
        if (reply.throws) throw new Error('handler failed');
        res.writeHead(reply.status, reply.headers.flat());
        if (reply.chunks) {
          for (const chunk of reply.chunks) {
            res.write(chunk);
            await nextTurn(); // really streaming: the middleware has answered before the last chunk
          }
          res.end();
        } else {
          res.end(reply.body);
        }
      },
      { ...options, onHandlerError: () => {} },
    ),
  );
  return listen(server);
});
