/**
 * A small orders API that knows nothing about idempotency: every POST /orders creates a new
 * order. `npm start` puts the Oncekey gateway in front of it, which makes retries safe.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';

export interface Order {
  id: string;
  item: string;
  quantity: number;
  createdAt: string;
}

export interface OrdersApi {
  server: Server;
  url: string;
  /** Orders created so far (each one is an execution of the handler). */
  orders: Order[];
  close(): Promise<void>;
}

/** Start the orders API on `port` (0 = any free port). `delayMs` slows each order down, so a 409 can be seen. */
export async function startOrdersApi(options: { port?: number; host?: string; delayMs?: number } = {}): Promise<OrdersApi> {
  const orders: Order[] = [];
  const delayMs = options.delayMs ?? 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/orders') return send(200, orders);
      if (req.method !== 'POST' || req.url !== '/orders') return send(404, { error: 'not found' });
      let input: { item?: unknown; quantity?: unknown };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return send(400, { error: 'body must be JSON' });
      }
      if (typeof input.item !== 'string' || typeof input.quantity !== 'number') {
        return send(400, { error: 'expected { item: string, quantity: number }' });
      }
      const order: Order = { id: randomUUID(), item: input.item, quantity: input.quantity, createdAt: new Date().toISOString() };
      setTimeout(() => {
        orders.push(order);
        res.setHeader('location', `/orders/${order.id}`);
        send(201, order);
      }, delayMs);
    });
  });
  const host = options.host ?? '127.0.0.1';
  // An 'error' (EADDRINUSE, EACCES) rejects, so `npm start` can say which port to change.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    url: `http://${host}:${port}`,
    orders,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
