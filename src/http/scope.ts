/**
 * Who a request comes from, so two callers that happen to send the same key never share a record.
 */
import { sha256Hex } from '../core/hash.js';

/** The principal of a request; becomes the record's scope. */
export type ScopeFunction = (request: Request) => string | Promise<string>;

/**
 * The default scope: `auth:` and the SHA-256 of the `Authorization` header when there is one
 * (the credential itself is never stored), else `anonymous`. Behind a gateway that authenticates,
 * pass a function that returns the tenant or user id instead.
 */
export const authorizationScope: ScopeFunction = (request) => {
  const authorization = request.headers.get('authorization');
  if (authorization === null || authorization === '') return 'anonymous';
  return `auth:${sha256Hex(authorization)}`;
};

/** A scope read from one request header (e.g. `x-tenant-id`), `anonymous` when absent. */
export function headerScope(name: string): ScopeFunction {
  const header = name.toLowerCase();
  return (request) => {
    const value = request.headers.get(header);
    if (value === null || value === '') return 'anonymous';
    // Scopes are bounded (1024 characters); a long value is kept as its hash.
    return value.length <= 256 ? `${header}:${value}` : `${header}#${sha256Hex(value)}`;
  };
}
