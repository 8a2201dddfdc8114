/**
 * Forwarding of `/v2/recapture/*` through the SDK transport: caller credentials and hop-by-hop
 * headers stripped, body size limited, upstream status, body and rate-limit headers returned.
 *
 * @module
 */
import { AbortError, ConnectionError, TimeoutError } from "../sdk/errors.ts";
import { authenticate } from "./_auth.ts";
import { asRegion } from "./_config.ts";
import {
  CALLBACK_EVENT_ID_HEADER,
  errorResponse,
  missingApiKey,
  PENDING_CALLBACK_HEADER,
  readBody,
  requestIdFrom,
  uploadIdOf,
  validationFailed,
} from "./_http.ts";
import type { ProxyRuntime } from "./_runtime.ts";

const READ_METHODS = new Set(["GET", "HEAD"]);
/** Methods `fetch` refuses to send (a server may still receive them): never "unreachable". */
const UNSENDABLE_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/**
 * Request headers forwarded upstream: an allowlist (content negotiation and caching). Anything
 * else, the caller's credentials and every hop-by-hop header included, stays at the proxy.
 */
const FORWARD_REQUEST = [
  "accept",
  "accept-language",
  "content-type",
  "user-agent",
  "cache-control",
  "if-none-match",
  "if-modified-since",
];

/** Response headers not passed back: fetch already decoded and re-framed the body. */
const DROP_RESPONSE = new Set([
  ...HOP_BY_HOP,
  "content-length",
  "content-encoding",
  "set-cookie",
  "x-request-id",
]);

function connectionListed(headers: Headers): Set<string> | null {
  const value = headers.get("connection");
  if (value === null) return null;
  return new Set(value.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/** The request headers worth forwarding, as pairs (the transport builds the `Headers`). */
export function forwardRequestHeaders(incoming: Headers, requestId: string): [string, string][] {
  const listed = connectionListed(incoming);
  const out: [string, string][] = [];
  for (const name of FORWARD_REQUEST) {
    const value = incoming.get(name);
    if (value !== null && !listed?.has(name)) out.push([name, value]);
  }
  out.push(["x-request-id", requestId]);
  return out;
}

/** Statuses whose responses cannot carry a body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Builds the response to the caller from the upstream response: same status, body (streamed)
 * and headers (rate-limit and quota headers included), minus hop-by-hop and framing headers,
 * plus our request id.
 */
export function forwardResponse(upstream: Response, requestId: string): Response {
  let body = upstream.body;
  if (body !== null && NULL_BODY_STATUS.has(upstream.status)) {
    body.cancel().catch(() => {});
    body = null;
  }
  const res = new Response(body, upstream);
  const headers = res.headers;
  const upstreamId = headers.get("x-request-id");
  if (upstreamId !== null && upstreamId !== requestId) {
    headers.set("x-upstream-request-id", upstreamId);
  }
  const listed = headers.get("connection");
  if (listed !== null) {
    for (const name of listed.split(",")) headers.delete(name.trim());
  }
  for (const name of DROP_RESPONSE) if (headers.has(name)) headers.delete(name);
  headers.set("x-request-id", requestId);
  return res;
}

/** Answers a transport failure with a gateway error (504, 502 or 499); rethrows other errors. */
export function upstreamFailure(requestId: string, e: unknown): Response {
  const answer = (status: number, code: string) =>
    errorResponse(requestId, status, code, "The upstream API could not be reached");
  if (e instanceof TimeoutError) return answer(504, "upstream_timeout");
  if (e instanceof ConnectionError) return answer(502, "upstream_unreachable");
  if (e instanceof AbortError) return answer(499, "aborted");
  throw e;
}

/**
 * A forwarded route: authenticate the caller, forward `path` (the canonical path, see
 * `_path.ts`: never re-read from the URL) through the SDK transport with the upstream key, hand
 * the answer back.
 */
export async function handleForward(
  rt: ProxyRuntime,
  request: Request,
  platformEnv: unknown,
  path: string,
): Promise<Response> {
  const requestId = requestIdFrom(request.headers);
  const cfg = rt.resolve(platformEnv);
  const method = request.method.toUpperCase();
  const auth = authenticate(request.headers.get("authorization") ?? undefined, method, cfg.tokens);
  if (!auth.ok) {
    return errorResponse(
      requestId,
      auth.status,
      auth.code,
      auth.message,
      undefined,
      auth.status === 401 ? { "www-authenticate": 'Bearer realm="recapture"' } : undefined,
    );
  }
  if (UNSENDABLE_METHODS.has(method)) {
    return errorResponse(requestId, 405, "method_not_allowed", `${method} is not forwarded`);
  }
  const client = rt.clientFor(cfg);
  if (!client) {
    return missingApiKey(requestId, cfg.baseUrlProblem);
  }
  let body: Uint8Array<ArrayBuffer> | string | undefined;
  if (!READ_METHODS.has(method)) {
    const bytes = await readBody(request, requestId, rt.maxBody, rt.bodyTimeoutMs);
    if (bytes instanceof Response) return bytes;
    body = bytes.byteLength > 0 ? bytes : undefined;
  }
  const url = new URL(request.url);

  // A callback_url in an upload body is ours: take it out before forwarding.
  let callbackUrl: string | undefined;
  if (method === "POST" && path === "/v2/recapture/upload" && body) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body as Uint8Array));
    } catch {
      parsed = undefined; // not JSON: the upstream answers it
    }
    if (parsed && typeof parsed === "object" && "callback_url" in parsed) {
      const rec = parsed as Record<string, unknown>;
      const problem = rt.callbackProblem(cfg, rec.callback_url);
      if (problem) {
        return validationFailed(requestId, [{ index: -1, field: "callback_url", reason: problem }]);
      }
      callbackUrl = rec.callback_url as string;
      delete rec.callback_url;
      body = JSON.stringify(rec);
    }
  }

  let upstream: Response;
  try {
    upstream = await client.requestRaw(method, path, {
      query: url.search === "" ? undefined : url.searchParams,
      body,
      headers: forwardRequestHeaders(request.headers, requestId),
      idempotent: READ_METHODS.has(method),
    });
  } catch (e) {
    return upstreamFailure(requestId, e);
  }
  if (callbackUrl && upstream.ok) {
    const text = await upstream.text();
    const uploadId = uploadIdOf(text);
    const region = asRegion(url.searchParams.get("region")) ?? cfg.region;
    const res = forwardResponse(new Response(text, upstream), requestId);
    if (uploadId) {
      // The upload exists: whatever happens to the callback, the answer is the API's success
      // (a 5xx would make the caller retry, and create a second upload).
      try {
        const eventId = await rt.scheduleCallback(cfg, uploadId, region, callbackUrl);
        res.headers.set(CALLBACK_EVENT_ID_HEADER, eventId);
      } catch (e) {
        rt.options.onError?.(e, requestId);
        res.headers.set(PENDING_CALLBACK_HEADER, "true");
      }
    }
    return res;
  }
  return forwardResponse(upstream, requestId);
}
