import Fastify from 'fastify';
import { Readable } from 'node:stream';
import { idempotency } from 'oncekey/fastify';
import { runHttpBehaviour } from './behaviour.js';
import { nextTurn } from './app.js';

runHttpBehaviour('oncekey/fastify', async ({ handler, options }) => {
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  await app.register(idempotency, options);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((_error, _request, reply) => reply.code(500).type('text/plain').send('Internal Server Error'));
  app.all('/*', async (request, reply) => {
    const result = await handler({
      method: request.method,
      path: request.url,
      headers: new Headers(
        Object.entries(request.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])),
      ),
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    });
    if (result.throws) throw new Error('handler failed');
    reply.code(result.status);
    for (const [name, value] of result.headers) reply.header(name, value);
    const chunks = result.chunks;
    if (chunks === undefined) return reply.send(Buffer.from(result.body ?? new Uint8Array(0)));
    return reply.send(
      Readable.from(
        (async function* () {
          for (const chunk of chunks) {
            yield Buffer.from(chunk);
            await nextTurn(); // really streaming
          }
        })(),
        { objectMode: false },
      ),
    );
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: address, close: () => app.close() };
});
