/**
 * The shared circuit breaker on PostgreSQL (the suite is in fixtures/breaker-suite.ts): the
 * breakers share one row of a table made for this run. The store goes away through a TCP proxy
 * that closes; it comes back when the proxy listens again, the row deleted meanwhile.
 */
import pg from 'pg';
import { postgresBreakerState } from 'oncekey/resilience';
import { breakerSuite, type StoredSnapshot } from './fixtures/breaker-suite.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { describePostgres, POSTGRES_URL } from './helpers/services.js';

breakerSuite({
  store: 'PostgreSQL',
  describe: describePostgres(),
  fleetSize: 3,
  async connect() {
    const table = `breakers_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Pool({ connectionString: POSTGRES_URL!, max: 2 });
    // Two instances migrating at once must both succeed.
    await Promise.all([1, 2].map(() => postgresBreakerState({ pool: admin, name: 'x', table }).migrate()));
    const stored = async (name: string): Promise<StoredSnapshot> => {
      const { rows } = await admin.query(`SELECT snapshot FROM public."${table}" WHERE name = $1`, [name]);
      return rows[0] === undefined ? null : (JSON.parse((rows[0] as { snapshot: string }).snapshot) as StoredSnapshot);
    };
    return {
      workerArgs: (name, threshold, halfOpenAfterMs) => [
        'postgres',
        POSTGRES_URL!,
        'public',
        table,
        name,
        String(threshold),
        String(halfOpenAfterMs),
      ],
      stored,
      async outage(name, { retryStoreAfterMs }) {
        const direct = new URL(POSTGRES_URL!);
        const upstream = { host: direct.hostname, port: Number(direct.port || 5432) };
        let proxy = await startTcpProxy(upstream);
        const viaProxy = new URL(POSTGRES_URL!);
        viaProxy.host = `127.0.0.1:${proxy.port}`;
        const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 2, connectionTimeoutMillis: 300 });
        pool.on('error', () => {});
        return {
          state: postgresBreakerState({ pool, name, table, timeoutMs: 500, retryStoreAfterMs }),
          stored: () => stored(name),
          goAway: () => proxy.close(),
          async comeBack() {
            await admin.query(`DELETE FROM public."${table}" WHERE name = $1`, [name]);
            proxy = await startTcpProxy(upstream, proxy.port);
          },
          async close() {
            await pool.end();
            await proxy.close();
          },
        };
      },
      async close() {
        await admin.query(`DROP TABLE IF EXISTS public."${table}"`);
        await admin.end();
      },
    };
  },
});
