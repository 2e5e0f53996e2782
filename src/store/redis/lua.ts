/**
 * Runs a Lua script by SHA, one round trip; when the server does not know the script yet (first
 * call, a restarted server, a new cluster master after a fail-over) it is sent once with EVAL,
 * which also caches it. This is what ioredis' `defineCommand` does, without adding methods to a
 * client the caller owns.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

type Flat = (...args: unknown[]) => Promise<unknown>;

export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  run(client: Redis | Cluster, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    // ioredis flattens array arguments (one level): no spread copies on the hot path.
    return (client.evalsha as Flat)(this.sha, keys.length, keys, args).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return (client.eval as Flat)(this.source, keys.length, keys, args);
    });
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
