/**
 * Headers across the proxy hop (RFC 9110 §7.6): hop-by-hop headers describe one connection and
 * never travel further; the upstream learns who the client was from `Forwarded` (RFC 7239) and
 * the de-facto `X-Forwarded-For/-Proto/-Host`, each proxy appending its own hop.
 */
import { isIPv6 } from 'node:net';

/** Always hop-by-hop, plus whatever the `Connection` header lists. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
]);

/**
 * Request headers the proxy sets itself: `host` (the upstream's, from its URL; the client's goes
 * in `X-Forwarded-Host`) and `expect` (node already answered `100-continue`; undici refuses it).
 */
const REPLACED_ON_REQUEST = new Set(['host', 'expect', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/** The header names a `Connection` header value lists, lower-cased. */
export function connectionTokens(values: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

/** `pairs` without hop-by-hop headers (fixed ones and those `Connection` names). */
export function endToEnd(pairs: readonly (readonly [string, string])[]): [string, string][] {
  const listed = connectionTokens(pairs.filter(([name]) => name.toLowerCase() === 'connection').map(([, value]) => value));
  const kept: [string, string][] = [];
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !listed.has(lower)) kept.push([lower, value]);
  }
  return kept;
}

/** Who sent the request to the proxy, and how. */
export interface ClientHop {
  /** The client's IP address as the socket reports it. */
  readonly address: string | undefined;
  /** The `Host` the client addressed. */
  readonly host: string | undefined;
  /** The scheme the client used to reach the proxy. */
  readonly proto: 'http' | 'https';
}

/**
 * The headers to send upstream, as undici's flat `[name, value, …]` list: end-to-end headers of
 * the client's request, with this hop appended to `Forwarded` and `X-Forwarded-*`.
 */
export function upstreamRequestHeaders(pairs: readonly (readonly [string, string])[], hop: ClientHop): string[] {
  const out: string[] = [];
  const previous: Record<'forwarded' | 'x-forwarded-for' | 'x-forwarded-proto' | 'x-forwarded-host', string[]> = {
    forwarded: [],
    'x-forwarded-for': [],
    'x-forwarded-proto': [],
    'x-forwarded-host': [],
  };
  for (const [name, value] of endToEnd(pairs)) {
    if (name in previous) previous[name as keyof typeof previous].push(value);
    if (!REPLACED_ON_REQUEST.has(name)) out.push(name, value);
  }
  const address = hop.address === undefined ? undefined : unmapIPv4(hop.address);
  const append = (name: keyof typeof previous, value: string | undefined): void => {
    const values = value === undefined ? previous[name] : [...previous[name], value];
    if (values.length > 0) out.push(name, values.join(', '));
  };
  append('forwarded', forwardedElement(address, hop.host, hop.proto));
  append('x-forwarded-for', address);
  append('x-forwarded-proto', hop.proto);
  append('x-forwarded-host', hop.host);
  return out;
}

/** One RFC 7239 `Forwarded` element for this hop, e.g. `for=192.0.2.1;host="api:8787";proto=http`. */
export function forwardedElement(address: string | undefined, host: string | undefined, proto: string): string {
  const parts: string[] = [];
  // An unknown client is `for=unknown` (RFC 7239 §6.2); an IPv6 address is bracketed and quoted.
  parts.push(`for=${address === undefined ? 'unknown' : isIPv6(address) ? `"[${address}]"` : quoteIfNeeded(address)}`);
  if (host !== undefined && host !== '') parts.push(`host=${quoteIfNeeded(host)}`);
  parts.push(`proto=${proto}`);
  return parts.join(';');
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function quoteIfNeeded(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) as `127.0.0.1`. */
function unmapIPv4(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : address;
}

/** Upstream response headers (undici's object form) as end-to-end pairs; arrays become repeated headers. */
export function upstreamResponseHeaders(headers: Record<string, string | string[] | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
    else pairs.push([name, value]);
  }
  return endToEnd(pairs);
}
