/**
 * Redis key names of the store. Everything of one scope shares the hash tag `{scope}`, so the
 * record, its two index entries and every script that touches them live in one cluster slot.
 *
 *   <prefix>{<scope>}:r:<key>   hash: the record
 *   <prefix>{<scope>}:i         sorted set, all scores 0: the scope's keys, in key order (`list`)
 *   <prefix>{<scope>}:x         sorted set, score expiresAt: the scope's keys by expiry (`sweep`)
 *
 * The scope is escaped so it contains no `{` or `}`: the hash tag then ends where the scope ends
 * and names are unambiguous whatever the scope and key hold.
 */
import { InvalidOptionError } from '../../errors/invalid-option.js';

/** The keys of one record. */
export interface RecordKeys {
  readonly rec: string;
  readonly idx: string;
  readonly exp: string;
}

/** `%` first, so the escaping is reversible; an empty scope becomes `%` (an empty tag `{}` would not hash as a tag). */
export function escapeScope(scope: string): string {
  if (scope === '') return '%';
  return scope.replace(/%/g, '%25').replace(/\{/g, '%7B').replace(/\}/g, '%7D');
}

export class KeySpace {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) {
      throw new InvalidOptionError('redisStore.prefix', 'must not contain { or } (the store puts the scope in the hash tag)');
    }
  }

  /** `<prefix>{<scope>}`: the part every key of the scope starts with. */
  scopeTag(scope: string): string {
    return `${this.prefix}{${escapeScope(scope)}}`;
  }

  record(scope: string, key: string): RecordKeys {
    const tag = this.scopeTag(scope);
    return { rec: `${tag}:r:${key}`, idx: `${tag}:i`, exp: `${tag}:x` };
  }

  /** What a record key starts with; the key follows. */
  recordPrefix(scope: string): string {
    return `${this.scopeTag(scope)}:r:`;
  }

  /** The glob that `SCAN MATCH` uses to find every scope's expiry index. */
  expiryIndexPattern(): string {
    return `${globEscape(this.prefix)}{*}:x`;
  }

  /**
   * The keys `sweep` needs for an expiry index found by SCAN, or undefined for a name that only
   * looks like one (e.g. a record whose key ends in `}:x`, which SCAN's TYPE filter also drops).
   */
  fromExpiryIndex(name: string): { exp: string; idx: string; recPrefix: string } | undefined {
    if (!name.startsWith(`${this.prefix}{`) || !name.endsWith('}:x')) return undefined;
    const escaped = name.slice(this.prefix.length + 1, -3);
    if (escaped === '' || /[{}]/.test(escaped)) return undefined;
    const tag = `${this.prefix}{${escaped}}`;
    return { exp: name, idx: `${tag}:i`, recPrefix: `${tag}:r:` };
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
