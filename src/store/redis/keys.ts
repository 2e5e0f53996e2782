/**
 * Redis key names of the store. Everything of one scope shares the hash tag `{scope}`, so a
 * scope's records, and every script call that touches several of them, live in one cluster slot.
 *
 *   <prefix>{<scope>}:r:<key>   string: the record (see scripts.ts)
 *
 * The scope is escaped so it contains no `{` or `}`: the hash tag then ends where the scope ends
 * and names are unambiguous whatever the scope and key hold.
 */
import { InvalidOptionError } from '../../core/errors/invalid-option.js';

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

  /** What the scope's record keys start with; the key follows. */
  recordPrefix(scope: string): string {
    return `${this.scopeTag(scope)}:r:`;
  }

  /** The glob that `SCAN MATCH` uses to find the records of one scope. */
  scopePattern(scope: string): string {
    return `${globEscape(this.recordPrefix(scope))}*`;
  }

  /** The glob that `SCAN MATCH` uses to find the records of every scope. */
  recordPattern(): string {
    return `${globEscape(this.prefix)}{*}:r:*`;
  }

  /**
   * `<prefix>{<scope>}` of a record name found by SCAN: records with the same tag share a slot.
   * Undefined for a name that only matches the pattern (not one of ours).
   */
  tagOf(name: string): string | undefined {
    if (!name.startsWith(`${this.prefix}{`)) return undefined;
    const close = name.indexOf('}', this.prefix.length + 1);
    if (close <= this.prefix.length + 1 || !name.startsWith(':r:', close + 1)) return undefined;
    return name.slice(0, close + 1);
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
