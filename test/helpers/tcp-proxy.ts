/**
 * A small TCP proxy for failure tests: put it between a client and a real server, then cut every
 * connection (RST, as when a NAT or load balancer drops state), or blackhole the link (bytes are
 * held, as in a network partition without resets) and resume it (held bytes flow again, in order,
 * as TCP retransmission would deliver them).
 *
 * ```ts
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 * // connect the client to 127.0.0.1:proxy.port
 * proxy.cut(); proxy.blackhole(); proxy.resume(); await proxy.close();
 * ```
 */
import net from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Reset every open connection at once (both sides get ECONNRESET). New connections still work. */
  cut(): void;
  /** Hold all traffic, on open and new connections, until {@link resume}. */
  blackhole(): void;
  /** Deliver what was held and forward traffic again. */
  resume(): void;
  /** Stop listening and reset every connection. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: net.Socket;
  readonly server: net.Socket;
  /** Chunks held while blackholed, per direction. */
  readonly toServer: Buffer[];
  readonly toClient: Buffer[];
  /** A side that ended while blackholed: end the other side on resume. */
  clientEnded: boolean;
  serverEnded: boolean;
}

export async function startTcpProxy(target: { host: string; port: number }, listenPort = 0): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let held = false;
  let accepted = 0;

  const forward = (pair: Pair, from: 'client' | 'server') => {
    const src = from === 'client' ? pair.client : pair.server;
    const dst = from === 'client' ? pair.server : pair.client;
    const queue = from === 'client' ? pair.toServer : pair.toClient;
    src.on('data', (chunk: Buffer) => {
      if (held || queue.length > 0) queue.push(chunk);
      else dst.write(chunk);
    });
    src.on('end', () => {
      if (held) {
        if (from === 'client') pair.clientEnded = true;
        else pair.serverEnded = true;
      } else {
        dst.end();
      }
    });
  };

  const drop = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.server.destroy();
  };

  const server = net.createServer((client) => {
    accepted++;
    client.setNoDelay(true);
    const upstream = net.connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    const pair: Pair = { client, server: upstream, toServer: [], toClient: [], clientEnded: false, serverEnded: false };
    pairs.add(pair);
    forward(pair, 'client');
    forward(pair, 'server');
    // Errors are the point of this proxy: any failure on one side closes the other.
    client.on('error', () => drop(pair));
    upstream.on('error', () => drop(pair));
    client.on('close', () => {
      if (!held) drop(pair);
    });
    upstream.on('close', () => {
      if (!held) drop(pair);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const reset = (socket: net.Socket) => {
    if (!socket.destroyed) socket.resetAndDestroy();
  };

  return {
    port,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        reset(pair.client);
        reset(pair.server);
      }
    },
    blackhole() {
      held = true;
    },
    resume() {
      held = false;
      for (const pair of [...pairs]) {
        for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
        for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
        // A side that closed meanwhile: the other gets what was held, then a clean end.
        if (pair.clientEnded || pair.client.destroyed) pair.server.end();
        if (pair.serverEnded || pair.server.destroyed) pair.client.end();
        if (pair.client.destroyed || pair.server.destroyed) pairs.delete(pair);
      }
    },
    async close() {
      held = false;
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        reset(pair.client);
        reset(pair.server);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
