/**
 * What the shared behaviour suite cannot express: how each adapter fits its framework's own
 * body handling and connection reuse.
 */
import express from 'express';
import Fastify from 'fastify';
import { createServer } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { Agent, request } from 'undici';
import { idempotency as expressIdempotency } from 'oncekey/express';
import { idempotency as fastifyIdempotency } from 'oncekey/fastify';
import { withIdempotency } from 'oncekey/node';
import { memoryStore } from 'oncekey/memory';
import { listen } from './listen.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function post(agent: Agent, url: string, key: string, body: string, contentType = 'application/json') {
  const response = await request(url, {
    method: 'POST',
    body,
    headers: { 'idempotency-key': key, 'content-type': contentType },
    dispatcher: agent,
  });
  return { status: response.statusCode, replayed: response.headers['idempotent-replayed'], text: await response.body.text() };
}

describe('oncekey/express', () => {
  test('mounted before express.json(), the parser still gets the body; a replay skips the route', async () => {
    const app = express();
    let runs = 0;
    app.use(expressIdempotency({ store: memoryStore() }));
    app.use(express.json());
    app.post('/orders', (req, res) => {
      runs++;
      res.status(201).json({ got: req.body as unknown });
    });
    const server = await listen(createServer(app));
    const agent = new Agent({ connections: 1 });
    closers.push(
      () => agent.close(),
      () => server.close(),
    );
    const first = await post(agent, `${server.url}/orders`, 'e1', '{"item":"book"}');
    const again = await post(agent, `${server.url}/orders`, 'e1', '{ "item" : "book" }');
    expect(first).toEqual({ status: 201, replayed: undefined, text: '{"got":{"item":"book"}}' });
    expect(again).toEqual({ status: 201, replayed: 'true', text: first.text });
    expect(runs).toBe(1);
  });

  test('mounted after express.json(), it fingerprints the parsed body', async () => {
    const app = express();
    let runs = 0;
    app.use(express.json());
    app.use(expressIdempotency({ store: memoryStore() }));
    app.post('/orders', (req, res) => {
      runs++;
      res.status(201).json({ got: req.body as unknown });
    });
    const server = await listen(createServer(app));
    const agent = new Agent({ connections: 1 });
    closers.push(
      () => agent.close(),
      () => server.close(),
    );
    await post(agent, `${server.url}/orders`, 'e2', '{"item":"book","qty":1}');
    const same = await post(agent, `${server.url}/orders`, 'e2', '{"qty":1,"item":"book"}');
    const other = await post(agent, `${server.url}/orders`, 'e2', '{"qty":2,"item":"book"}');
    expect(same.replayed).toBe('true');
    expect(other.status).toBe(422);
    expect(runs).toBe(1);
  });
});

describe('oncekey/node', () => {
  test('a handler that never reads the body leaves the keep-alive connection usable', async () => {
    let runs = 0;
    const node = createServer(
      withIdempotency(
        (_req, res) => {
          runs++;
          res.writeHead(201, { 'content-type': 'text/plain' }).end('ok');
        },
        { store: memoryStore() },
      ),
    );
    // undici reconnects silently when the server closes a connection: count the TCP connections.
    let connections = 0;
    node.on('connection', () => connections++);
    const server = await listen(node);
    const agent = new Agent({ connections: 1 });
    closers.push(
      () => agent.close(),
      () => server.close(),
    );
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 3; i++) {
      expect((await post(agent, server.url, `n${i}`, big, 'text/plain')).status).toBe(201);
    }
    expect((await post(agent, server.url, 'n0', big, 'text/plain')).replayed).toBe('true');
    expect(runs).toBe(3);
    // All four requests went over the one keep-alive connection.
    expect(connections).toBe(1);
  });
});

describe('oncekey/fastify', () => {
  test('JSON routes get their parsed body; a hijacked reply releases the key', async () => {
    const app = Fastify();
    await app.register(fastifyIdempotency, { store: memoryStore() });
    let runs = 0;
    app.post('/orders', async (request, reply) => {
      runs++;
      return reply.code(201).send({ got: request.body });
    });
    let hijacked = 0;
    app.post('/raw', (_request, reply) => {
      hijacked++;
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.end('raw');
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const agent = new Agent({ connections: 1 });
    closers.push(
      () => agent.close(),
      () => app.close(),
    );
    const first = await post(agent, `${url}/orders`, 'f1', '{"item":"book"}');
    const again = await post(agent, `${url}/orders`, 'f1', '{"item":"book"}');
    expect(JSON.parse(first.text)).toEqual({ got: { item: 'book' } });
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect(runs).toBe(1);

    expect((await post(agent, `${url}/raw`, 'f2', '{}')).text).toBe('raw');
    expect((await post(agent, `${url}/raw`, 'f2', '{}')).text).toBe('raw');
    expect(hijacked).toBe(2);
  });
});
