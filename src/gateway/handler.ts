/**
 * One request through the gateway. A covered request (a covered method with an Idempotency-Key,
 * or without one when keys are required) goes through the idempotency middleware, whose `next`
 * forwards it upstream; anything else streams to the upstream and back untouched.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { IdempotencyHandler } from '../http/middleware.js';
import { sendWebResponse } from '../http/node-bridge.js';
import { type ClientHop, upstreamRequestHeaders } from './headers.js';
import type { GatewayMetrics } from './metrics.js';
import { NULL_BODY_STATUSES, readClientBody, sendText, sendUpstream } from './node-http.js';
import { type GatewayProblemKind, gatewayProblem } from './problem.js';
import { type Upstream, UpstreamError, type UpstreamResponse } from './upstream.js';

export interface ProxyHandlerOptions {
  readonly upstream: Upstream;
  readonly middleware: IdempotencyHandler;
  readonly requireKey: boolean;
  readonly maxBody: number;
  readonly metrics: GatewayMetrics;
  /** True once shutdown began: answers close their connection. */
  readonly draining: () => boolean;
  readonly log: (message: string) => void;
}

export type ProxyHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createProxyHandler(options: ProxyHandlerOptions): ProxyHandler {
  const { upstream, middleware, metrics, log } = options;

  // Without a key (where none is required) the middleware would only pass the request on; doing
  // that here keeps its body a node stream all the way, with no web Request in between.
  const covered = (req: IncomingMessage, method: string): boolean =>
    middleware.covers(method) && (options.requireKey || req.headers['idempotency-key'] !== undefined);

  /** A 502/504 problem for a failed upstream call, counted and logged. */
  const failed = (error: UpstreamError, method: string, target: string, keyed: boolean) => {
    metrics.upstreamFailures.inc({ kind: error.kind });
    log(`oncekey proxy: ${method} ${target}: ${error.message}`);
    const kind: GatewayProblemKind = error.kind === 'timeout' ? 'upstream-timeout' : 'upstream-unreachable';
    const detail =
      error.kind === 'timeout'
        ? 'the upstream did not answer in time; it may still have processed the request.'
        : 'the upstream could not be reached.';
    return gatewayProblem(
      kind,
      keyed ? `${detail} Nothing was stored for its Idempotency-Key, so a retry with the same key runs it again.` : detail,
    );
  };

  async function passThrough(req: IncomingMessage, res: ServerResponse, method: string, target: string, hop: ClientHop): Promise<void> {
    // The client leaving aborts the upstream request: nothing is stored, nobody needs the answer.
    const abort = new AbortController();
    const gone = (): void => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', gone);
    try {
      const answer = await upstream.send({
        method,
        path: target,
        headers: upstreamRequestHeaders(pairs(req.rawHeaders), hop),
        body: hasBody(req) ? req : null,
        signal: abort.signal,
      });
      await sendUpstream(res, answer, method);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (abort.signal.aborted) return;
      const problem = failed(error, method, target, false);
      sendText(res, problem.status, problem.headers, problem.body);
    } finally {
      res.off('close', gone);
      metrics.requests.inc({ outcome: 'skipped' });
    }
  }

  async function protect(req: IncomingMessage, res: ServerResponse, method: string, target: string, hop: ClientHop): Promise<void> {
    const body = await readClientBody(req, options.maxBody);
    const request = new Request(`${upstream.origin}${target}`, {
      method,
      headers: pairs(req.rawHeaders),
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    // A body read whole is handed to the middleware as it is, which then reads nothing from
    // `request` and forwards `request` itself: those bytes go upstream, copied no further.
    const inHand = body instanceof Uint8Array ? body : undefined;
    // The upstream keeps working when the client leaves, so its answer is stored for the retry.
    const forward = async (forwarded: Request): Promise<Response> => {
      const bytes = inHand ?? (forwarded.body === null ? null : new Uint8Array(await forwarded.arrayBuffer()));
      try {
        const answer = await upstream.send({
          method: forwarded.method,
          path: target, // as the client sent it: the URL of a Request is normalised
          headers: upstreamRequestHeaders([...forwarded.headers], hop),
          body: bytes,
        });
        return webResponse(answer, forwarded.method);
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        // Not a stored status: the middleware releases the key.
        const problem = failed(error, method, target, true);
        return new Response(problem.body, { status: problem.status, headers: problem.headers });
      }
    };
    await sendWebResponse(res, await middleware(request, forward, inHand));
  }

  return async function proxy(req, res) {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = upstream.target(req.url);
    const hop: ClientHop = {
      address: req.socket.remoteAddress,
      host: req.headers.host,
      proto: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    };
    if (options.draining()) res.setHeader('connection', 'close');
    try {
      if (covered(req, method)) await protect(req, res, method, target, hop);
      else await passThrough(req, res, method, target, hop);
    } catch (error) {
      if (res.destroyed) return; // the client left (e.g. mid-upload): nobody to answer, nothing to report
      log(`oncekey proxy: ${method} ${target} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      const problem = gatewayProblem('gateway-error', 'the gateway failed to handle the request; see its log');
      sendText(res, problem.status, problem.headers, problem.body);
    }
  };
}

/** The upstream's answer as a web `Response` for the middleware; its body streams. */
function webResponse(answer: UpstreamResponse, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.append(name, value);
  if (method === 'HEAD' || NULL_BODY_STATUSES.has(answer.status)) {
    answer.body.resume();
    return new Response(null, { status: answer.status, statusText: answer.statusText, headers });
  }
  return new Response(Readable.toWeb(answer.body) as ReadableStream<Uint8Array>, {
    status: answer.status,
    statusText: answer.statusText,
    headers,
  });
}

/** Node's flat `rawHeaders` as pairs. */
function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Whether a request carries a body (RFC 9112 §6.3: a length or a transfer coding). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
