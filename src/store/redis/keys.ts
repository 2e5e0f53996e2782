/**
 * Redis key names of the store. Everything of one scope shares the hash tag `{scope}`, so a
 * record, its index entry and every script that touches them live in one cluster slot.
 *
 *   <prefix>{<scope>}:r:<key>   string: the record (MessagePack, see scripts.ts)
 *   <prefix>{<scope>}:i         sorted set, all scores 0: the scope's keys in key order
 *
 * The scope is escaped so it contains no `{` or `}`: the hash tag then ends where the scope ends
 * and names are unambiguous whatever the scope and key hold.
 */
import { InvalidOptionError } from '../../errors/invalid-option.js';

const SPECIAL = /[%{}]/;

/** `%` first, so the escaping is reversible; an empty scope becomes `%` (an empty tag `{}` would not hash as a tag). */
export function escapeScope(scope: string): string {
  if (scope === '') return '%';
  if (!SPECIAL.test(scope)) return scope;
  return scope.replace(/%/g, '%25').replace(/\{/g, '%7B').replace(/\}/g, '%7D');
}

export class KeySpace {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) {
      throw new InvalidOptionError('redisStore.prefix', 'must not contain { or } (the store puts the scope in the hash tag)');
    }
  }

  /** `<prefix>{<scope>}`: what every key of the scope starts with. */
  scopeTag(scope: string): string {
    return `${this.prefix}{${escapeScope(scope)}}`;
  }

  /** The record of `key` in `scope`. */
  record(scope: string, key: string): string {
    return `${this.scopeTag(scope)}:r:${key}`;
  }

  /** The scope's index. */
  index(scope: string): string {
    return `${this.scopeTag(scope)}:i`;
  }

  /** What the scope's record keys start with; the key follows. */
  recordPrefix(scope: string): string {
    return `${this.scopeTag(scope)}:r:`;
  }

  /** The glob that `SCAN MATCH` uses to find every scope's index. */
  indexPattern(): string {
    return `${globEscape(this.prefix)}{*}:i`;
  }

  /**
   * The record prefix of an index found by SCAN, or undefined for a name that only looks like an
   * index (a record whose key ends in `}:i`, which SCAN's TYPE filter also drops).
   */
  recordPrefixOfIndex(name: string): string | undefined {
    if (!name.startsWith(`${this.prefix}{`) || !name.endsWith('}:i')) return undefined;
    const escaped = name.slice(this.prefix.length + 1, -3);
    if (escaped === '' || /[{}]/.test(escaped)) return undefined;
    return `${this.prefix}{${escaped}}:r:`;
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
