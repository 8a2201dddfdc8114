/**
 * The error classes. Every error the SDK throws extends {@link RecaptureError} and carries a
 * stable `code`. API errors ({@link RecaptureApiError} and subclasses) also carry the HTTP
 * status, the API's message, the request id and the rate-limit headers of the response.
 *
 * @example
 * ```ts
 * import { NotFoundError, RecaptureError } from "@recapture/sdk";
 * const e = new NotFoundError("Invalid Customer ID");
 * console.log(e instanceof RecaptureError, e.status, e.code); // true 404 "invalid_customer_id"
 * ```
 * @module
 */
import type { RowIssue } from "./schemas.ts";

/** Rate-limit headers of a response (`Rate-Limit-*`); a field is null when its header is absent. */
export interface RateLimitInfo {
  /** `Rate-Limit-Remaining` */
  remaining: number | null;
  /** `Rate-Limit-Total` */
  total: number | null;
  /** `Rate-Limit-Reset`: unix seconds of the next reset. */
  reset: number | null;
}

/** Monthly quota headers of a response (`Monthly-*`); a field is null when its header is absent. */
export interface QuotaInfo {
  /** `Monthly-Base-Request-Quota` */
  base: number | null;
  /** `Monthly-Max-Request-Quota` */
  max: number | null;
  /** `Monthly-Request-Total`: requests made this month. */
  total: number | null;
}

/** What the SDK knows about the HTTP response behind a result or an error. */
export interface ResponseMeta {
  /** HTTP status. */
  status: number;
  /** `X-Request-Id` (or `Request-Id`) when the API sent one. */
  requestId: string | null;
  /** Rate-limit headers, or null when none were sent. */
  rateLimit: RateLimitInfo | null;
  /** Monthly quota headers, or null when none were sent. */
  quota: QuotaInfo | null;
}

/** Options for {@link RecaptureError}. */
export interface RecaptureErrorOptions {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error the SDK throws.
 *
 * @example
 * ```ts
 * import { RecaptureError } from "@recapture/sdk";
 * try {
 *   throw new RecaptureError("boom", "example");
 * } catch (e) {
 *   if (e instanceof RecaptureError) console.log(e.code); // "example"
 * }
 * ```
 */
export class RecaptureError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;
  /**
   * Creates an instance.
   *
   * @param message human-readable description
   * @param code stable machine-readable code
   * @param options cause
   */
  constructor(message: string, code: string, options?: RecaptureErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** Options for {@link RecaptureApiError} and its subclasses. */
export interface RecaptureApiErrorOptions extends RecaptureErrorOptions {
  /** HTTP status (each subclass has a default). */
  status?: number;
  /** Override the code (e.g. `invalid_customer_id`). */
  code?: string;
  /** `X-Request-Id` of the response. */
  requestId?: string | null;
  /** Rate-limit headers of the response. */
  rateLimit?: RateLimitInfo | null;
  /** Monthly quota headers of the response. */
  quota?: QuotaInfo | null;
}

/**
 * An error answer from the API. `message` is the API's message.
 *
 * @example
 * ```ts
 * import { RecaptureApiError } from "@recapture/sdk";
 * const e = new RecaptureApiError("I'm a teapot", { status: 418 });
 * console.log(e.status, e.code); // 418 "api_error"
 * ```
 */
export class RecaptureApiError extends RecaptureError {
  /** HTTP status. */
  readonly status: number;
  /** `X-Request-Id` of the response, or null. */
  readonly requestId: string | null;
  /** Rate-limit headers of the response, or null. */
  readonly rateLimit: RateLimitInfo | null;
  /** Monthly quota headers of the response, or null. */
  readonly quota: QuotaInfo | null;
  /**
   * The status and code of this class's errors when the options give none; each subclass sets
   * its own.
   */
  protected static readonly defaults: { status: number; code: string } = {
    status: 0,
    code: "api_error",
  };
  /**
   * Creates an instance.
   *
   * @param message the API's message
   * @param options status, code, request id, rate limit, quota, cause
   */
  constructor(message: string, options?: RecaptureApiErrorOptions) {
    const defaults = (new.target as typeof RecaptureApiError).defaults;
    super(message, options?.code ?? defaults.code, options);
    this.status = options?.status ?? defaults.status;
    this.requestId = options?.requestId ?? null;
    this.rateLimit = options?.rateLimit ?? null;
    this.quota = options?.quota ?? null;
  }
}

/**
 * 401: the API key or token was refused (`Invalid API key`).
 *
 * @example
 * ```ts
 * import { AuthenticationError } from "@recapture/sdk";
 * console.log(new AuthenticationError("Invalid API key").code); // "authentication_failed"
 * ```
 */
export class AuthenticationError extends RecaptureApiError {
  /** HTTP 401, code `authentication_failed`. */
  protected static override readonly defaults = { status: 401, code: "authentication_failed" };
}

/**
 * 403: the resource belongs to someone else
 * (`You don't have permission to access that customer`).
 *
 * @example
 * ```ts
 * import { PermissionDeniedError } from "@recapture/sdk";
 * console.log(new PermissionDeniedError("nope").code); // "permission_denied"
 * ```
 */
export class PermissionDeniedError extends RecaptureApiError {
  /** HTTP 403, code `permission_denied`. */
  protected static override readonly defaults = { status: 403, code: "permission_denied" };
}

/**
 * 403: the key's account has no Recapture licence for the region.
 *
 * @example
 * ```ts
 * import { NotLicensedError } from "@recapture/sdk";
 * console.log(new NotLicensedError("no licence").status); // 403
 * ```
 */
export class NotLicensedError extends RecaptureApiError {
  /** HTTP 403, code `not_licensed`. */
  protected static override readonly defaults = { status: 403, code: "not_licensed" };
}

/** Options for {@link NotFoundError}. */
export interface NotFoundErrorOptions extends RecaptureApiErrorOptions {
  /**
   * The 404 answered a retry of a DELETE whose earlier attempt may have reached the API (it timed
   * out, lost its connection or got a 5xx): that attempt may have deleted it. Adds so to the
   * message.
   */
  earlierAttemptMayHaveDeleted?: boolean;
}

/**
 * 404: no such upload, customer or webhook. `code` is `invalid_customer_id`, `invalid_upload_id`
 * or `invalid_webhook_id` when the API's message says so, else `not_found`.
 *
 * A DELETE (`customers.delete`, `webhooks.delete`, `uploads.cancel`) that is retried after an
 * attempt whose answer was lost can get this 404 because that attempt deleted it:
 * `earlierAttemptMayHaveDeleted` is then true, and the message says so.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "@recapture/sdk";
 * console.log(new NotFoundError("Invalid Upload ID").code); // "invalid_upload_id"
 * const e = new NotFoundError("Invalid Customer ID", { earlierAttemptMayHaveDeleted: true });
 * console.log(e.earlierAttemptMayHaveDeleted); // true
 * ```
 */
export class NotFoundError extends RecaptureApiError {
  /**
   * True when this 404 answered a retried DELETE whose earlier attempt may have reached the API
   * and deleted it (its answer was lost): it is gone either way, and retrying will not help.
   */
  readonly earlierAttemptMayHaveDeleted: boolean;
  /** HTTP 404, code `not_found` unless the message names the kind of id. */
  protected static override readonly defaults = { status: 404, code: "not_found" };
  /**
   * Creates an instance.
   *
   * @param message the API's message
   * @param options status, code, request id, rate limit, cause, whether an earlier attempt may
   * have deleted it
   */
  constructor(message: string, options?: NotFoundErrorOptions) {
    const id = /invalid (customer|upload|webhook) id/i.exec(message);
    const code = id === null ? undefined : `invalid_${id[1].toLowerCase()}_id`;
    const earlier = options?.earlierAttemptMayHaveDeleted === true;
    super(
      earlier
        ? `${message}: an earlier attempt of this DELETE may have deleted it (its answer was ` +
          "lost); it is gone either way: do not retry"
        : message,
      { ...options, code: options?.code ?? code },
    );
    this.earlierAttemptMayHaveDeleted = earlier;
  }
}

/**
 * 400: the resource lives in another region than the one asked (`Incorrect Region`), or the
 * region is not one of the four (`Invalid region`).
 *
 * @example
 * ```ts
 * import { IncorrectRegionError } from "@recapture/sdk";
 * console.log(new IncorrectRegionError("Incorrect Region").code); // "incorrect_region"
 * ```
 */
export class IncorrectRegionError extends RecaptureApiError {
  /** HTTP 400, code `incorrect_region`. */
  protected static override readonly defaults = { status: 400, code: "incorrect_region" };
}

/**
 * 400/422: the API refused the request (e.g. a field PATCH may not change).
 *
 * @example
 * ```ts
 * import { InvalidRequestError } from "@recapture/sdk";
 * console.log(new InvalidRequestError("bad field").code); // "invalid_request"
 * ```
 */
export class InvalidRequestError extends RecaptureApiError {
  /** HTTP 400, code `invalid_request`. */
  protected static override readonly defaults = { status: 400, code: "invalid_request" };
}

/**
 * 400: `You must upload at least one customer record`.
 *
 * @example
 * ```ts
 * import { EmptyUploadError } from "@recapture/sdk";
 * console.log(new EmptyUploadError("You must upload at least one customer record").code);
 * ```
 */
export class EmptyUploadError extends RecaptureApiError {
  /** HTTP 400, code `empty_upload`. */
  protected static override readonly defaults = { status: 400, code: "empty_upload" };
}

/** Options for {@link RateLimitError}. */
export interface RateLimitErrorOptions extends RecaptureApiErrorOptions {
  /** How long the API asked to wait, in ms, or null. */
  retryAfterMs?: number | null;
}

/**
 * 429: too many requests; retried automatically until `maxRetries` is spent.
 *
 * @example
 * ```ts
 * import { RateLimitError } from "@recapture/sdk";
 * const e = new RateLimitError("Too Many Requests", { retryAfterMs: 2000 });
 * console.log(e.code, e.retryAfterMs); // "rate_limited" 2000
 * ```
 */
export class RateLimitError extends RecaptureApiError {
  /** How long the API asked to wait, in ms (from `Retry-After` or `Rate-Limit-Reset`), or null. */
  readonly retryAfterMs: number | null;
  /** HTTP 429, code `rate_limited`. */
  protected static override readonly defaults = { status: 429, code: "rate_limited" };
  /**
   * Creates an instance.
   *
   * @param message the API's message
   * @param options status, request id, rate limit, retry delay, cause
   */
  constructor(message: string, options?: RateLimitErrorOptions) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs ?? null;
  }
}

/**
 * 429: the monthly request quota is used up. Not retried.
 *
 * @example
 * ```ts
 * import { QuotaExceededError } from "@recapture/sdk";
 * console.log(new QuotaExceededError("Monthly quota exceeded").code); // "quota_exceeded"
 * ```
 */
export class QuotaExceededError extends RecaptureApiError {
  /** HTTP 429, code `quota_exceeded`. */
  protected static override readonly defaults = { status: 429, code: "quota_exceeded" };
}

/**
 * 5xx: the API failed; retried automatically until `maxRetries` is spent.
 *
 * @example
 * ```ts
 * import { ServerError } from "@recapture/sdk";
 * console.log(new ServerError("HTTP 503", { status: 503 }).status); // 503
 * ```
 */
export class ServerError extends RecaptureApiError {
  /** HTTP 500, code `server_error`. */
  protected static override readonly defaults = { status: 500, code: "server_error" };
}

/**
 * The request could not be sent or its answer not received (DNS, refused, reset).
 *
 * @example
 * ```ts
 * import { ConnectionError } from "@recapture/sdk";
 * console.log(new ConnectionError("connection refused").code); // "connection_error"
 * ```
 */
export class ConnectionError extends RecaptureError {
  /**
   * Creates an instance.
   *
   * @param message what failed
   * @param options cause
   */
  constructor(message: string, options?: RecaptureErrorOptions) {
    super(message, "connection_error", options);
  }
}

/**
 * An attempt (or `uploads.wait`) took longer than allowed.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@recapture/sdk";
 * console.log(new TimeoutError("timed out").code); // "timeout"
 * ```
 */
export class TimeoutError extends RecaptureError {
  /**
   * Creates an instance.
   *
   * @param message what timed out
   * @param options cause
   */
  constructor(message: string, options?: RecaptureErrorOptions) {
    super(message, "timeout", options);
  }
}

/**
 * The caller's `signal` aborted the operation.
 *
 * @example
 * ```ts
 * import { AbortError } from "@recapture/sdk";
 * console.log(new AbortError("aborted").code); // "aborted"
 * ```
 */
export class AbortError extends RecaptureError {
  /**
   * Creates an instance.
   *
   * @param message what was aborted
   * @param options cause (the signal's reason)
   */
  constructor(message: string, options?: RecaptureErrorOptions) {
    super(message, "aborted", options);
  }
}

/**
 * Client-side validation failed before anything was sent. `issues` lists every problem.
 *
 * @example
 * ```ts
 * import { ValidationError } from "@recapture/sdk";
 * const e = new ValidationError([{ index: 2, field: "vin", reason: "must be 17 characters" }]);
 * console.log(e.message); // "1 invalid input: row 2 vin: must be 17 characters"
 * ```
 */
export class ValidationError extends RecaptureError {
  /** Every problem found, in input order. */
  readonly issues: RowIssue[];
  /**
   * Creates an instance.
   *
   * @param issues every problem found
   * @param options cause
   */
  constructor(issues: RowIssue[], options?: RecaptureErrorOptions) {
    super(describeIssues(issues), "validation_failed", options);
    this.issues = issues;
  }
}

function describeIssues(issues: RowIssue[]): string {
  const shown = issues.slice(0, 5).map((i) =>
    // index -1: a field of the call's own params (an upload's, a customer update's, a webhook's).
    `${
      [i.index < 0 ? "" : `row ${i.index}`, i.field].filter((s) => s !== "").join(" ") ||
      "params"
    }: ${i.reason}`
  );
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : "";
  return `${issues.length} invalid input${issues.length === 1 ? "" : "s"}: ${
    shown.join("; ")
  }${more}`;
}

/** Options for {@link UnexpectedResponseError}. */
export interface UnexpectedResponseErrorOptions extends RecaptureErrorOptions {
  /** HTTP status of the response. */
  status?: number;
  /** Dot path of the offending field (`customer.sightings.0.listing_price`), or null. */
  field?: string | null;
  /** `X-Request-Id` of the response. */
  requestId?: string | null;
}

/**
 * The API answered something the SDK cannot read: not JSON, empty, or the wrong shape. The
 * message names the field at fault.
 *
 * @example
 * ```ts
 * import { UnexpectedResponseError } from "@recapture/sdk";
 * const e = new UnexpectedResponseError("customer.id: expected string", { field: "customer.id" });
 * console.log(e.code, e.field); // "unexpected_response" "customer.id"
 * ```
 */
export class UnexpectedResponseError extends RecaptureError {
  /** HTTP status of the response (0 if unknown). */
  readonly status: number;
  /** Dot path of the offending field, or null. */
  readonly field: string | null;
  /** `X-Request-Id` of the response, or null. */
  readonly requestId: string | null;
  /**
   * Creates an instance.
   *
   * @param message what is wrong
   * @param options status, field, request id, cause
   */
  constructor(message: string, options?: UnexpectedResponseErrorOptions) {
    super(message, "unexpected_response", options);
    this.status = options?.status ?? 0;
    this.field = options?.field ?? null;
    this.requestId = options?.requestId ?? null;
  }
}
