/** Free loopback ports for the servers tests start (PostgreSQL clusters, Redis, proxies). */
import { createServer } from 'node:net';

/** A loopback port nothing listens on (and, with `plus`, neither on port + plus: a cluster bus). */
export async function freePort(plus?: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await listenOnce(0);
    if (plus === undefined) return port;
    if (port + plus > 65535) continue;
    const other = await listenOnce(port + plus).catch(() => undefined);
    if (other !== undefined) return port;
  }
  throw new Error('no free port pair found');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      srv.close(() => resolve(chosen));
    });
  });
}
