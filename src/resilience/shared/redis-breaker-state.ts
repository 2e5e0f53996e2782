/**
 * Circuit breaker state in Redis: one hash per breaker (`v`: version, `s`: snapshot JSON), and one
 * Lua script that compares and sets it atomically, called by SHA in one round trip.
 *
 * ```ts
 * const state = redisBreakerState({ client: redis, key: 'breaker:payments-api' });
 * state.on('stateStoreUnavailable', (e) => log.warn('breaker on local state', e.error));
 * const breaker = circuitBreaker({ store: state, halfOpenAfterMs: 10_000 });
 * ```
 *
 * Times in the snapshot (when the circuit may half-open, when a trial's lease runs out) come from
 * each instance's breaker clock, so instances should have synchronised clocks (NTP: a few ms of
 * skew shifts those moments by as much). No ioredis import: any client with ioredis' `evalsha`
 * and `eval` works, a `Redis` or a `Cluster` (one key per breaker, so one slot).
 */
import { optional, positiveInt } from '../options.js';
import { checkFactoryOptions } from './factory.js';
import {
  SharedBreakerState,
  type BreakerStateBackend,
  type CommitAnswer,
  type SharedBreakerStateOptions,
  type VersionedSnapshot,
} from './shared-state.js';

/** The part of an ioredis client this needs. */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisBreakerStateOptions extends SharedBreakerStateOptions {
  /**
   * An ioredis client you own (never closed here). Give it options that fail fast while Redis is
   * down (`recommendedRedisOptions()` from `oncekey/redis`); `timeoutMs` bounds every call anyway.
   */
  readonly client: RedisScriptClient;
  /** The Redis key of this breaker's state; breakers that share a circuit share a key. */
  readonly key: string;
  /** The key expires this long after its last change (a breaker no one uses leaves no garbage). Default 7 days. */
  readonly ttlMs?: number;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * KEYS[1] the hash; ARGV[1] expected version ('' = absent); ARGV[2] new version, ARGV[3] new
 * snapshot ('' = compare only); ARGV[4] TTL in ms. Answers {1} on success, else {0, version, snapshot}.
 */
const COMMIT = `
local current = redis.call('HMGET', KEYS[1], 'v', 's')
local version = current[1] or ''
if version ~= ARGV[1] then
  return {0, version, current[2] or ''}
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {1}
`;

/** The script's SHA-1, computed once for every breaker (rejections are seen by commit()). */
const COMMIT_SHA: Promise<string> = sha1(COMMIT);
COMMIT_SHA.catch(() => {});

/** No version is ever this; a commit with it reads the current value. */
const READ_ONLY = '\u0000read';

class RedisBackend implements BreakerStateBackend {
  readonly name = 'redis';

  constructor(
    private readonly client: RedisScriptClient,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  async read(): Promise<VersionedSnapshot> {
    const answer = await this.commit(READ_ONLY, undefined);
    if (answer.ok) throw new Error('the breaker state script answered a read with a write');
    return answer.current;
  }

  async commit(expected: string, write: VersionedSnapshot | undefined): Promise<CommitAnswer> {
    const args = [expected, write?.version ?? '', write?.json ?? '', this.ttlMs];
    let reply: unknown;
    try {
      reply = await this.client.evalsha(await COMMIT_SHA, 1, this.key, ...args);
    } catch (error) {
      // A server that does not know the script yet (restarted, failed over): EVAL caches it.
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      reply = await this.client.eval(COMMIT, 1, this.key, ...args);
    }
    if (!Array.isArray(reply)) throw new Error(`unexpected reply from the breaker state script: ${String(reply)}`);
    if (Number(reply[0]) === 1) return { ok: true };
    return { ok: false, current: { version: String(reply[1] ?? ''), json: String(reply[2] ?? '') } };
  }
}

/** The script's SHA-1, with Web Crypto so this module needs nothing Node-specific. */
async function sha1(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Breaker state shared through Redis; pass it as the `store` option of `circuitBreaker`. */
export function redisBreakerState(options: RedisBreakerStateOptions): SharedBreakerState {
  const client = { option: 'client', kind: 'an ioredis client', methods: ['evalsha', 'eval'] } as const;
  const shared = checkFactoryOptions('redisBreakerState', options, ['client', 'key', 'ttlMs'], client, 'key');
  const ttlMs = optional(options.ttlMs, WEEK_MS, (v) => positiveInt('redisBreakerState.ttlMs', v));
  return new SharedBreakerState(new RedisBackend(options.client, options.key, ttlMs), shared, 'redisBreakerState');
}
