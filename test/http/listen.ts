/** A node:http server on a free local port, closed with its keep-alive connections. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StartedServer } from './behaviour.js';

export async function listen(server: Server): Promise<StartedServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
