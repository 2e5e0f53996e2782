/**
 * The gateway's own problem documents (RFC 9457), in the same family as the middleware's
 * (`https://oncekey.dev/problems/…`): the upstream could not be reached or did not answer in time,
 * or the gateway itself failed.
 */
import { PROBLEM_TYPE_BASE } from '../http/problem.js';

export type GatewayProblemKind = 'upstream-unreachable' | 'upstream-timeout' | 'gateway-error';

const PROBLEMS: Readonly<Record<GatewayProblemKind, { readonly status: number; readonly title: string }>> = {
  'upstream-unreachable': { status: 502, title: 'Upstream unreachable' },
  'upstream-timeout': { status: 504, title: 'Upstream timed out' },
  'gateway-error': { status: 500, title: 'Gateway error' },
};

/** The status a gateway problem is sent with. */
export const gatewayProblemStatus = (kind: GatewayProblemKind): number => PROBLEMS[kind].status;

/** An `application/problem+json` body and its headers, ready for a web `Response` or `ServerResponse`. */
export function gatewayProblem(kind: GatewayProblemKind, detail: string): { status: number; headers: [string, string][]; body: string } {
  const { status, title } = PROBLEMS[kind];
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${kind}`, title, status, detail });
  return {
    status,
    headers: [
      ['content-type', 'application/problem+json'],
      ['cache-control', 'no-store'],
      ['content-length', String(Buffer.byteLength(body))],
    ],
    body,
  };
}
