/**
 * Our signature scheme for HTTP POSTs between your systems and ours: sign, verify, and a Hono
 * middleware for receivers. Its export key is `@recapture/sdk/webhooks`: "webhook" there means a
 * POST signed with this scheme, not AutoGrab's alert subscriptions (`client.webhooks`, the
 * Webhooks API) nor the alert events AutoGrab pushes (`parseAlertEvent`).
 *
 * Every signed POST we send (completion callbacks, alerts the edge relays to a generic webhook
 * destination) and every one the edge adapter accepts (customer ingest) carries one header:
 *
 * ```
 * Recapture-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=...]
 * ```
 *
 * The timestamp is signed with the body, so a captured delivery cannot be replayed once it falls
 * outside the tolerance window (5 minutes by default, checked in both directions). Several `v1`
 * entries may appear (one per active secret while a secret rotates), and the verifier accepts
 * several secrets; one match is enough. The verifier computes the expected MAC once per secret
 * and compares every candidate with it in constant time; a header with more than 8 `v1` entries
 * or over 1024 characters is refused before any MAC is computed.
 *
 * Only web standards are used, so this runs on Deno, Deno Deploy, Cloudflare Workers, Node and
 * Bun.
 *
 * @example Verify our callbacks in one line
 * ```ts
 * import { Hono } from "hono";
 * import { verifyWebhook } from "@recapture/sdk/webhooks";
 *
 * const app = new Hono();
 * app.post("/hooks/recapture", verifyWebhook({ secret: "whsec_test" }), async (c) => {
 *   const event = await c.req.json();
 *   return c.json({ received: event.id });
 * });
 * ```
 * @module
 */
import { RecaptureError } from "../sdk/errors.ts";
import { toHex } from "../_internal/hex.ts";
import { timingSafeEqual } from "../_internal/timing_safe_equal.ts";
import { readBodyLimited } from "../_internal/body.ts";
export { readBodyLimited };

export { RecaptureError };

/** The header that carries our signature. */
export const SIGNATURE_HEADER = "Recapture-Signature";

/** The default tolerance window, in seconds, applied in both directions. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Why a signature did not verify. */
export type WebhookVerificationReason =
  | "missing_header"
  | "malformed_header"
  | "timestamp_outside_tolerance"
  | "no_matching_signature"
  | "no_secret"
  | "body_too_large";

/**
 * Thrown when a webhook signature does not verify. The message says why, never with a secret.
 *
 * @example
 * ```ts
 * import { verifySignature, WebhookVerificationError } from "@recapture/sdk/webhooks";
 *
 * try {
 *   await verifySignature("{}", "t=1,v1=00", "whsec_test");
 * } catch (e) {
 *   if (e instanceof WebhookVerificationError) console.log(e.reason); // "timestamp_outside_tolerance"
 * }
 * ```
 */
export class WebhookVerificationError extends RecaptureError {
  /** The precise reason. */
  readonly reason: WebhookVerificationReason;

  /**
   * Creates the error.
   *
   * @param reason why verification failed
   * @param message a human explanation (never contains a secret)
   */
  constructor(reason: WebhookVerificationReason, message: string) {
    super(message, "webhook_verification_failed");
    this.reason = reason;
  }
}

/** A parsed `Recapture-Signature` header. */
export interface ParsedSignatureHeader {
  /** The signed unix timestamp, in seconds. */
  timestamp: number;
  /** The `v1` signatures, lower-case hex. */
  signatures: string[];
}

/** Options for {@linkcode signPayload}. */
export interface SignOptions {
  /** Unix seconds to sign with; defaults to now. */
  timestamp?: number;
}

/** Options for {@linkcode verifySignature}. */
export interface VerifyOptions {
  /** Accepted clock difference in seconds, both directions. Default 300. */
  toleranceSeconds?: number;
  /** The current time; defaults to `new Date()`. */
  now?: () => Date;
}

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}

function signedBytes(timestamp: number, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const bytes = toBytes(body);
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix, 0);
  out.set(bytes, prefix.length);
  return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length !== 64 || !/^[0-9a-f]+$/i.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Computes the hex `v1` signature of a body at a timestamp.
 *
 * @example
 * ```ts
 * import { computeSignature } from "@recapture/sdk/webhooks";
 * const hex = await computeSignature('{"a":1}', "whsec_test", 1700000000);
 * console.log(hex.length); // 64
 * ```
 */
export async function computeSignature(
  body: string | Uint8Array,
  secret: string,
  timestamp: number,
): Promise<string> {
  const key = await hmacKey(secret);
  return toHex(await crypto.subtle.sign("HMAC", key, signedBytes(timestamp, body)));
}

/**
 * Signs a raw body and returns the full `Recapture-Signature` header value. With several
 * secrets (during a rotation) the header carries one `v1` per secret.
 *
 * @example
 * ```ts
 * import { signPayload } from "@recapture/sdk/webhooks";
 * const body = JSON.stringify({ rego: "ABC123", state: "NSW" });
 * const header = await signPayload(body, "whsec_test");
 * await fetch("https://proxy.example/webhooks/customers", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json", "Recapture-Signature": header },
 *   body,
 * }).catch(() => {});
 * ```
 */
export async function signPayload(
  body: string | Uint8Array,
  secret: string | readonly string[],
  options: SignOptions = {},
): Promise<string> {
  const secrets = typeof secret === "string" ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) {
    throw new WebhookVerificationError("no_secret", "signPayload needs a non-empty secret");
  }
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError("signPayload: timestamp must be a non-negative integer (unix seconds)");
  }
  const parts = [`t=${timestamp}`];
  for (const s of secrets) parts.push(`v1=${await computeSignature(body, s, timestamp)}`);
  return parts.join(",");
}

/** The most `v1=` entries a header may carry (one per active secret during a rotation). */
export const MAX_SIGNATURES = 8;

/** The longest `Recapture-Signature` header accepted, in characters. */
export const MAX_SIGNATURE_HEADER_LENGTH = 1024;

/**
 * Parses a `Recapture-Signature` header. Unknown schemes (e.g. a future `v2=`) are ignored. A
 * header over {@linkcode MAX_SIGNATURE_HEADER_LENGTH} characters or with more than
 * {@linkcode MAX_SIGNATURES} `v1` entries is refused before any signature is computed.
 *
 * @example
 * ```ts
 * import { parseSignatureHeader } from "@recapture/sdk/webhooks";
 * const parsed = parseSignatureHeader("t=1700000000,v1=" + "ab".repeat(32));
 * console.log(parsed.timestamp, parsed.signatures.length); // 1700000000 1
 * ```
 */
export function parseSignatureHeader(header: string | null | undefined): ParsedSignatureHeader {
  if (header == null || header.trim() === "") {
    throw new WebhookVerificationError(
      "missing_header",
      `Missing ${SIGNATURE_HEADER} header`,
    );
  }
  if (header.length > MAX_SIGNATURE_HEADER_LENGTH) {
    throw new WebhookVerificationError(
      "malformed_header",
      `${SIGNATURE_HEADER} is longer than ${MAX_SIGNATURE_HEADER_LENGTH} characters`,
    );
  }
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t") {
      if (!/^\d{1,12}$/.test(value)) {
        throw new WebhookVerificationError(
          "malformed_header",
          `${SIGNATURE_HEADER}: t must be unix seconds`,
        );
      }
      timestamp = Number(value);
    } else if (name === "v1") {
      if (signatures.length === MAX_SIGNATURES) {
        throw new WebhookVerificationError(
          "malformed_header",
          `${SIGNATURE_HEADER} carries more than ${MAX_SIGNATURES} v1 signatures`,
        );
      }
      signatures.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined) {
    throw new WebhookVerificationError(
      "malformed_header",
      `${SIGNATURE_HEADER} has no t= timestamp`,
    );
  }
  if (signatures.length === 0) {
    throw new WebhookVerificationError(
      "malformed_header",
      `${SIGNATURE_HEADER} has no v1= signature`,
    );
  }
  return { timestamp, signatures };
}

/**
 * Verifies a raw body against a `Recapture-Signature` header and one or more secrets. Resolves
 * when one `v1` signature matches one secret and the timestamp is within the tolerance window
 * (both directions); otherwise rejects with a {@linkcode WebhookVerificationError}.
 *
 * Verify the raw bytes as received: re-serialising parsed JSON changes them.
 *
 * @example
 * ```ts
 * import { signPayload, verifySignature } from "@recapture/sdk/webhooks";
 * const body = '{"id":"evt_1"}';
 * const header = await signPayload(body, "whsec_new");
 * await verifySignature(body, header, ["whsec_old", "whsec_new"]); // resolves
 * ```
 */
export async function verifySignature(
  body: string | Uint8Array,
  header: string | null | undefined,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): Promise<void> {
  await verifySignatureDetailed(body, header, secrets, options);
}

/**
 * Parses a `Recapture-Signature` header and checks its timestamp against the tolerance window:
 * what can be refused before the body is read (a missing or malformed header, a stale or future
 * timestamp). Throws {@linkcode WebhookVerificationError}; the MAC is checked with the body by
 * {@linkcode verifySignatureDetailed}, which calls this first.
 *
 * @example
 * ```ts
 * import { checkSignatureHeader, signPayload } from "@recapture/sdk/webhooks";
 * const header = await signPayload("{}", "whsec_test");
 * console.log(checkSignatureHeader(header).signatures.length); // 1
 * ```
 */
export function checkSignatureHeader(
  header: string | null | undefined,
  options: VerifyOptions = {},
): ParsedSignatureHeader {
  const parsed = parseSignatureHeader(header);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const skew = nowSeconds - parsed.timestamp;
  if (Math.abs(skew) > tolerance) {
    throw new WebhookVerificationError(
      "timestamp_outside_tolerance",
      skew > 0
        ? `Signature timestamp is ${skew}s old (tolerance ${tolerance}s)`
        : `Signature timestamp is ${-skew}s in the future (tolerance ${tolerance}s)`,
    );
  }
  return parsed;
}

/**
 * Like {@linkcode verifySignature}, but resolves with the parsed header and the matched
 * signature, useful for replay protection keyed on the delivery.
 *
 * @example
 * ```ts
 * import { signPayload, verifySignatureDetailed } from "@recapture/sdk/webhooks";
 * const header = await signPayload("{}", "whsec_test");
 * const { timestamp, signature } = await verifySignatureDetailed("{}", header, "whsec_test");
 * console.log(timestamp > 0, signature.length); // true 64
 * ```
 */
export async function verifySignatureDetailed(
  body: string | Uint8Array,
  header: string | null | undefined,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): Promise<{ timestamp: number; signature: string }> {
  const list = (typeof secrets === "string" ? [secrets] : [...secrets]).filter((s) => s !== "");
  if (list.length === 0) {
    throw new WebhookVerificationError("no_secret", "No webhook secret is configured");
  }
  const parsed = checkSignatureHeader(header, options);
  // One HMAC per secret, whatever the number of candidates: each candidate is compared with
  // the expected MACs in constant time.
  const candidates = parsed.signatures.map(fromHex);
  if (candidates.every((c) => c === null)) {
    throw new WebhookVerificationError(
      "no_matching_signature",
      "No signature matches the body with any configured secret",
    );
  }
  const data = signedBytes(parsed.timestamp, body);
  let matched = -1;
  for (const secret of list) {
    const expected = new Uint8Array(
      await crypto.subtle.sign("HMAC", await hmacKey(secret), data),
    );
    candidates.forEach((c, i) => {
      if (c !== null && timingSafeEqual(c, expected) && matched < 0) matched = i;
    });
  }
  if (matched >= 0) return { timestamp: parsed.timestamp, signature: parsed.signatures[matched] };
  throw new WebhookVerificationError(
    "no_matching_signature",
    "No signature matches the body with any configured secret",
  );
}

/** Secrets, given directly or read per request (e.g. from a Workers env binding). */
export type SecretSource =
  | string
  | readonly string[]
  | ((env: Record<string, unknown>) => string | readonly string[] | undefined);

/**
 * The part of a Hono `Context` that {@linkcode verifyWebhook} uses. Hono's own `Context` fits it,
 * so the middleware plugs into any Hono app without this module depending on Hono.
 */
export interface WebhookMiddlewareContext {
  /** The request wrapper; `raw` is replaced by a request over the verified bytes. */
  req: { raw: Request };
  /** Platform bindings (Workers `env`), handed to secret functions. */
  env?: unknown;
}

/** A Hono-compatible middleware: answers on failure, calls `next()` on success. */
export type WebhookMiddleware = (
  c: WebhookMiddlewareContext,
  next: () => Promise<void>,
) => Promise<Response | void>;

/** Options for {@linkcode verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** One secret. */
  secret?: SecretSource;
  /** Several active secrets (rotation); any one may match. */
  secrets?: SecretSource;
  /** Accepted clock difference in seconds, both directions. Default 300. */
  toleranceSeconds?: number;
  /** Largest accepted body in bytes; larger gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** The current time; defaults to `new Date()`. */
  now?: () => Date;
}

function resolveSecrets(source: SecretSource | undefined, env: Record<string, unknown>): string[] {
  if (source === undefined) return [];
  const value = typeof source === "function" ? source(env) : source;
  if (value === undefined) return [];
  return (typeof value === "string" ? [value] : [...value]).filter((s) => s !== "");
}

/**
 * A Hono middleware that verifies the `Recapture-Signature` header on the raw body. On failure
 * it answers 401 `{ error: true, code, reason, message }` (413 for an oversized body) and the
 * handler never runs; on success the handler can read the body as usual (`c.req.json()`).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { verifyWebhook } from "@recapture/sdk/webhooks";
 *
 * const app = new Hono<{ Bindings: { CALLBACK_SECRETS: string } }>();
 * app.post(
 *   "/hooks/recapture",
 *   verifyWebhook({ secrets: (env) => String(env.CALLBACK_SECRETS ?? "").split(",") }),
 *   async (c) => c.json({ ok: true, event: (await c.req.json()).type }),
 * );
 * ```
 */
export function verifyWebhook(options: VerifyWebhookOptions): WebhookMiddleware {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  return async (c, next) => {
    const env = (c.env ?? {}) as Record<string, unknown>;
    const secrets = [
      ...resolveSecrets(options.secret, env),
      ...resolveSecrets(options.secrets, env),
    ];
    const fail = (status: 401 | 413 | 500, e: WebhookVerificationError): Response =>
      Response.json({ error: true, code: e.code, reason: e.reason, message: e.message }, {
        status,
      });
    if (secrets.length === 0) {
      return fail(
        500,
        new WebhookVerificationError("no_secret", "No webhook secret is configured"),
      );
    }
    const raw = c.req.raw;
    const body = await readBodyLimited(raw, limit);
    if (body === null) {
      return fail(
        413,
        new WebhookVerificationError("body_too_large", `Body is larger than ${limit} bytes`),
      );
    }
    // The stream is consumed: hand the handler an identical request over the bytes we verified.
    // Built from `raw` itself, so a method `new Request` refuses in init (TRACE) is kept as is.
    if (raw.bodyUsed) {
      c.req.raw = raw.method === "GET" || raw.method === "HEAD"
        ? new Request(raw.url, { method: raw.method, headers: raw.headers, signal: raw.signal })
        : new Request(raw, { body });
    }
    try {
      await verifySignature(body, raw.headers.get(SIGNATURE_HEADER), secrets, {
        toleranceSeconds: options.toleranceSeconds,
        now: options.now,
      });
    } catch (e) {
      if (e instanceof WebhookVerificationError) return fail(401, e);
      throw e;
    }
    await next();
    return undefined;
  };
}

/** The totals carried by an `upload.completed` event. */
export interface UploadCompletedData {
  /** The upload's id. */
  upload_id: string;
  /** The region the upload was made in. */
  region: string;
  /** `completed` or `cancelled` (or the upstream's status string). */
  status: string;
  /** Customers accepted into the upload. */
  total_uploaded_customers: number;
  /** Customers processed, errors included. */
  total_processed_customers: number;
  /** Customers that failed processing. */
  total_errors: number;
}

/** The event the edge adapter POSTs to a `callback_url`. */
export interface UploadCompletedEvent {
  /** Stable across retries of one delivery: dedupe on it. */
  id: string;
  /** Always `upload.completed`. */
  type: "upload.completed";
  /** ISO 8601 UTC. */
  created_at: string;
  /** The totals. */
  data: UploadCompletedData;
}

/**
 * Verifies a delivery and parses it into an {@linkcode UploadCompletedEvent}. Rejects with a
 * {@linkcode WebhookVerificationError} when the signature does not verify, and with a
 * `TypeError` when the verified body is not an `upload.completed` event (not JSON included).
 *
 * @example
 * ```ts
 * import { constructEvent } from "@recapture/sdk/webhooks";
 * async function handle(req: Request): Promise<Response> {
 *   const body = await req.text();
 *   const event = await constructEvent(body, req.headers.get("Recapture-Signature"), "whsec_test");
 *   return Response.json({ ok: event.data.upload_id });
 * }
 * console.log(typeof handle);
 * ```
 */
export async function constructEvent(
  body: string,
  header: string | null | undefined,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): Promise<UploadCompletedEvent> {
  await verifySignature(body, header, secrets, options);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new TypeError("Webhook body is not JSON");
  }
  const v = value as Partial<UploadCompletedEvent> | null;
  if (
    !v || typeof v !== "object" || typeof v.id !== "string" || v.type !== "upload.completed" ||
    !v.data || typeof v.data.upload_id !== "string"
  ) {
    throw new TypeError("Webhook body is not an upload.completed event");
  }
  return v as UploadCompletedEvent;
}
