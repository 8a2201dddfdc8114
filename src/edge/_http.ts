/**
 * Small HTTP helpers shared by the proxy's handlers: request ids and JSON error answers.
 *
 * @module
 */
import type { RowIssue } from "../sdk/schemas.ts";
import { readBodyLimited } from "../_internal/body.ts";

/**
 * The header naming the event a signed delivery carries (a callback's or a relayed alert's id),
 * so a receiver can drop a repeat before it parses the body.
 */
export const EVENT_ID_HEADER = "Recapture-Event-Id";

/** The header of a forwarded upload's answer naming its completion callback's event id. */
export const CALLBACK_EVENT_ID_HEADER = "Recapture-Callback-Event-Id";

/**
 * The header of a forwarded upload's answer (`true`) when the upload was created but its
 * completion callback could not be scheduled: no callback will come (ingest's answer says the
 * same with `pending_callback: true`, and there a retry of the delivery schedules it).
 */
export const PENDING_CALLBACK_HEADER = "Recapture-Pending-Callback";

/** The default time allowed to receive a whole request body (ms). */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * Reads a request body, streamed, up to `limit` bytes and within `timeoutMs`; answers the bytes,
 * or the error response (413 too large, 408 too slow) with the request id.
 */
export async function readBody(
  request: Request,
  requestId: string,
  limit: number,
  timeoutMs: number,
): Promise<Uint8Array<ArrayBuffer> | Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const bytes = await readBodyLimited(request, limit, { signal: controller.signal });
    return bytes ?? bodyTooLarge(requestId, limit);
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    return errorResponse(
      requestId,
      408,
      "body_timeout",
      `The request body did not arrive within ${timeoutMs} ms`,
    );
  } finally {
    clearTimeout(timer);
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when it is sane (1-128 of `A-Za-z0-9._:-`), else a new UUID. */
export function requestIdFrom(headers: Headers): string {
  const given = headers.get("x-request-id");
  return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** `decodeURIComponent`, or null when the text holds a malformed escape (`%`, `%E0%A4%A`). */
export function decodePathSegment(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** `{ error: true, code, message, ...extra }` with our request id. */
export function errorResponse(
  requestId: string,
  status: number,
  code: string,
  message: string,
  extra?: object,
  headers?: Record<string, string>,
): Response {
  return Response.json({ error: true, code, message, ...extra }, {
    status,
    headers: { "x-request-id": requestId, ...headers },
  });
}

/** 500: the proxy has no upstream API key, or its base URL breaks the outbound policy. */
export function missingApiKey(requestId: string, baseUrlProblem?: string): Response {
  return errorResponse(
    requestId,
    500,
    "proxy_misconfigured",
    baseUrlProblem
      ? `The proxy's upstream base URL (RECAPTURE_BASE_URL) ${baseUrlProblem}`
      : "The proxy is missing the upstream API key (RECAPTURE_API_KEY)",
  );
}

/** 413: the request body is over the proxy's limit. */
export function bodyTooLarge(requestId: string, maxBytes: number): Response {
  return errorResponse(
    requestId,
    413,
    "payload_too_large",
    `Request body is larger than ${maxBytes} bytes`,
  );
}

/** The `message` of an API error body, if any (capped). */
export function apiMessage(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as { message?: unknown };
    return typeof json.message === "string" ? json.message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** The `upload.id` of an upload answer, if any. */
export function uploadIdOf(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as { upload?: { id?: unknown } };
    return typeof json.upload?.id === "string" ? json.upload.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * 422 `validation_failed` for a body the proxy refuses: the message names the bad rows and
 * fields (`describeIssues`), and `issues` lists every one.
 */
export function validationFailed(requestId: string, issues: readonly RowIssue[]): Response {
  return errorResponse(requestId, 422, "validation_failed", describeIssues(issues), { issues });
}

/** One line per issue: `row 2, vin: ...` or `upload, callback_url: ...`. */
function describeIssues(issues: readonly RowIssue[]): string {
  const shown = issues.slice(0, 20).map((i) =>
    `${i.index < 0 ? "body" : `row ${i.index}`}${i.field ? `, ${i.field}` : ""}: ${i.reason}`
  );
  const more = issues.length > 20 ? `; and ${issues.length - 20} more` : "";
  return `${issues.length} invalid ${issues.length === 1 ? "entry" : "entries"}: ${
    shown.join("; ")
  }${more}`;
}

/**
 * A Hono context's `executionCtx` (Workers' `waitUntil`), or undefined where there is none (Deno:
 * Hono's getter throws then).
 *
 * @example
 * ```ts ignore
 * app.post("/alerts", (c) => { background(work, executionCtxOf(c)); return c.body(null, 202); });
 * ```
 */
export function executionCtxOf(c: { executionCtx: unknown }): unknown {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
