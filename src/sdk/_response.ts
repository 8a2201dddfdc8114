/**
 * Reading responses: headers → {@link ResponseMeta}, error bodies → error classes, success
 * bodies → validated objects with a non-enumerable `lastResponse`.
 * @module
 */
import { type Infer, issueOf, type Shape } from "./_shape.ts";
import {
  AuthenticationError,
  EmptyUploadError,
  IncorrectRegionError,
  InvalidRequestError,
  NotFoundError,
  NotLicensedError,
  PermissionDeniedError,
  QuotaExceededError,
  type QuotaInfo,
  RateLimitError,
  type RateLimitInfo,
  RecaptureApiError,
  type RecaptureApiErrorOptions,
  type ResponseMeta,
  ServerError,
  UnexpectedResponseError,
} from "./errors.ts";

function num(headers: Headers, name: string): number | null {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** Rate-limit headers, or null when none is present. */
export function readRateLimit(headers: Headers): RateLimitInfo | null {
  const remaining = num(headers, "rate-limit-remaining");
  const total = num(headers, "rate-limit-total");
  const reset = num(headers, "rate-limit-reset");
  if (remaining === null && total === null && reset === null) return null;
  return { remaining, total, reset };
}

/** Monthly quota headers, or null when none is present. */
export function readQuota(headers: Headers): QuotaInfo | null {
  const base = num(headers, "monthly-base-request-quota");
  const max = num(headers, "monthly-max-request-quota");
  const total = num(headers, "monthly-request-total");
  if (base === null && max === null && total === null) return null;
  return { base, max, total };
}

/** `X-Request-Id` (or `Request-Id`), or null. */
export function requestIdOf(headers: Headers): string | null {
  return headers.get("x-request-id") ?? headers.get("request-id");
}

/** Everything the SDK exposes about a response. */
export function readMeta(status: number, headers: Headers): ResponseMeta {
  return {
    status,
    requestId: requestIdOf(headers),
    rateLimit: readRateLimit(headers),
    quota: readQuota(headers),
  };
}

/** Whether a 429 means the monthly quota is spent (not worth retrying). */
export function isQuotaExhausted(headers: Headers, message: string | null): boolean {
  const q = readQuota(headers);
  if (q !== null && q.total !== null && q.max !== null && q.total >= q.max) return true;
  return message !== null && /quota/i.test(message);
}

/**
 * The wait a response asks for, in ms: `Retry-After` (seconds or HTTP date), else on a 429
 * `Rate-Limit-Reset` (unix seconds). Null when neither is usable; 0 when the time asked for is
 * now or already past on this clock (a retry then waits the backoff: `retryDelayMs`).
 */
export function requestedDelayMs(status: number, headers: Headers, now: number): number | null {
  const ra = headers.get("retry-after");
  if (ra !== null && ra.trim() !== "") {
    const secs = Number(ra);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  if (status === 429) {
    const reset = num(headers, "rate-limit-reset");
    if (reset !== null) return Math.max(0, reset * 1000 - now);
  }
  return null;
}

/**
 * The API's message from an error body: `message` (or a string `error`) of a JSON body, followed
 * by a string `detail` when the body has one (`Invalid region ("us" is not one of ...)`), else
 * the raw text (at most 300 characters) unless it is an HTML page or empty; null then.
 */
export function errorMessage(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  try {
    const json: unknown = JSON.parse(trimmed);
    if (typeof json === "object" && json !== null) {
      const rec = json as Record<string, unknown>;
      if (typeof rec.message === "string" && rec.message !== "") {
        const detail = typeof rec.detail === "string" && rec.detail !== "" ? rec.detail : null;
        return detail === null ? rec.message : `${rec.message} (${detail})`;
      }
      if (typeof rec.error === "string" && rec.error !== "") return rec.error;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  if (/^<(!doctype|html|\?xml|head|body)/i.test(trimmed)) return null;
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

/**
 * The typed error for an API error answer. `message` is the API's message (already redacted), or
 * null when the body had none (then `HTTP <status>` is used). `retriedDelete`: the answer is to a
 * DELETE retried after an attempt that may have taken effect (a {@link NotFoundError} says that
 * attempt may have deleted it).
 */
export function apiError(
  status: number,
  headers: Headers,
  message: string | null,
  now: number,
  retriedDelete = false,
): RecaptureApiError {
  const meta = readMeta(status, headers);
  const text = message ?? `HTTP ${status}`;
  const opts: RecaptureApiErrorOptions = {
    status,
    requestId: meta.requestId,
    rateLimit: meta.rateLimit,
    quota: meta.quota,
  };
  const notFound = () =>
    new NotFoundError(text, { ...opts, earlierAttemptMayHaveDeleted: retriedDelete });
  if (status === 429) {
    if (isQuotaExhausted(headers, message)) return new QuotaExceededError(text, opts);
    return new RateLimitError(text, {
      ...opts,
      retryAfterMs: requestedDelayMs(status, headers, now),
    });
  }
  if (status >= 500) return new ServerError(text, opts);
  if (status === 401) return new AuthenticationError(text, opts);
  if (message !== null) {
    if (/\b(incorrect|invalid) region\b/i.test(message)) {
      return new IncorrectRegionError(text, opts);
    }
    if (/at least one customer/i.test(message)) return new EmptyUploadError(text, opts);
    if (/invalid (customer|upload|webhook) id/i.test(message)) return notFound();
  }
  if (status === 403) {
    if (message !== null && /licen[cs]e|access to recapture/i.test(message)) {
      return new NotLicensedError(text, opts);
    }
    return new PermissionDeniedError(text, opts);
  }
  if (status === 404) return notFound();
  if (status === 400 || status === 422) return new InvalidRequestError(text, opts);
  return new RecaptureApiError(text, opts);
}

/**
 * Attaches `lastResponse` (the response's status, request id, rate-limit and quota headers) as
 * a non-enumerable, read-only property and returns the object. The headers are read when it is
 * first used, not per request: reading them costs ~2 µs of the ≤ 20 µs a request may add against
 * a loopback server (bench/client.ts), for a property few callers read. Defining the getter costs
 * ~3 µs more there (A/B in one process, 2026-12-07): a getter of its own per result makes V8 keep
 * the result's properties in a dictionary. A getter shared by every result would not, but it could
 * not tell its result through a Proxy (its receiver is then the proxy).
 */
export function withMeta<T extends object>(
  value: T,
  status: number,
  response: { readonly headers: Headers },
): T & WithResponse {
  let meta: ResponseMeta | undefined;
  Object.defineProperty(value, "lastResponse", {
    // Whatever the receiver: a Proxy over the result (Vue's reactive(), Immer, MobX) reads it too.
    get: (): ResponseMeta => meta ??= readMeta(status, response.headers),
    enumerable: false,
    configurable: true,
  });
  return value as T & WithResponse;
}

/** A result carrying the meta of the response it came from (non-enumerable). */
export interface WithResponse {
  /** Status, request id, rate-limit and quota headers of the response. */
  readonly lastResponse: ResponseMeta;
}

/**
 * Parses a success body with `schema`; a body that is empty, not JSON or of the wrong shape
 * becomes an {@link UnexpectedResponseError} naming the field. The response's headers are read
 * (for the request id) only then.
 */
export function parseBody<S extends Shape>(
  schema: S,
  text: string,
  context: ParseContext,
): Infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw notJson(text, context, cause);
  }
  const issue = issueOf(schema, json);
  if (!issue) return json as Infer<S>;
  const field = issue.path.join(".");
  const expected = issue.expected ?? "a valid value";
  throw new UnexpectedResponseError(
    `Unexpected response to ${context.what}: ${
      field || "(body)"
    }: expected ${expected}, got ${issue.received}`,
    { ...errorBase(context), field: field || null },
  );
}

/** What {@link parseBody} says about the response it reads. */
interface ParseContext {
  status: number;
  /** The response (its headers give the request id of an error), or null. */
  response: { readonly headers: Headers } | null;
  /** The call, for messages (`GET /v2/recapture/customers/c1`). */
  what: string;
}

function errorBase(context: ParseContext): { status: number; requestId: string | null } {
  return {
    status: context.status,
    requestId: context.response === null ? null : requestIdOf(context.response.headers),
  };
}

/** The error for a success body that is not JSON: empty, an HTML page, or malformed. */
function notJson(text: string, context: ParseContext, cause: unknown): UnexpectedResponseError {
  if (text.trim() === "") {
    return new UnexpectedResponseError(
      `Unexpected response to ${context.what}: empty body (HTTP ${context.status})`,
      errorBase(context),
    );
  }
  const looksHtml = /^\s*</.test(text);
  return new UnexpectedResponseError(
    `Unexpected response to ${context.what}: ${
      looksHtml ? "an HTML page" : "malformed JSON"
    } instead of JSON (HTTP ${context.status})`,
    { ...errorBase(context), cause },
  );
}
