/**
 * Signed ingest (`POST /webhooks/customers`): a body signed with our scheme (`src/signature/`)
 * and verified here (one customer, an array, or `{ customers, ... }`) becomes an upload. Shape errors and bad rows answer 422 naming each row and field.
 *
 * @module
 */
import { REGIONS, UploadCreateParamsSchema } from "../sdk/schemas.ts";
import type { RowIssue, UploadCreateParams } from "../sdk/schemas.ts";
import { validateCustomers } from "../sdk/validate.ts";
import {
  checkSignatureHeader,
  SIGNATURE_HEADER,
  verifySignatureDetailed,
  WebhookVerificationError,
} from "../signature/mod.ts";
import { asRegion } from "./_config.ts";
import {
  apiMessage,
  errorResponse,
  missingApiKey,
  readBody,
  requestIdFrom,
  uploadIdOf,
  validationFailed,
} from "./_http.ts";
import type { ReplayGuard } from "./_replay.ts";
import { sha256Hex } from "../_internal/hex.ts";
import type { ProxyRuntime, Resolved } from "./_runtime.ts";
import { forwardResponse, upstreamFailure } from "./_forward.ts";

/**
 * An ingest body after its shape is checked: the upload body's fields (its customers not yet
 * validated) and the edge's own two.
 */
export interface IngestRequest extends Partial<Omit<UploadCreateParams, "customers">> {
  /** The customer rows as sent (validated later). */
  customers: unknown[];
  /** Region override. */
  region?: string;
  /** Where to send `upload.completed`. */
  callback_url?: string;
}

/** The JSON types an envelope field can want, each with its check and its complaint. */
const JSON_TYPES = {
  string: { is: (x: unknown) => typeof x === "string", reason: "must be a string" },
  boolean: { is: (x: unknown) => typeof x === "boolean", reason: "must be a boolean" },
  array: { is: Array.isArray, reason: "must be an array" },
} as const;
type JsonType = keyof typeof JSON_TYPES;

/** The JSON type a field's schema wants: its own type, or an optional field's wrapped one. */
function jsonTypeOf(field: string, schema: { type: string; wrapped?: { type: string } }): JsonType {
  const type = schema.type === "optional" && schema.wrapped ? schema.wrapped.type : schema.type;
  if (!Object.hasOwn(JSON_TYPES, type)) {
    throw new Error(`the upload body's ${field} is a ${type}: teach parseIngestBody that type`);
  }
  return type as JsonType;
}

/**
 * Every field an envelope may carry, with its JSON type, in the order problems are reported:
 * the upload body's fields, read from its schema (`UploadCreateParamsSchema`, the one home),
 * `customers` first; then the edge's own.
 */
const ENVELOPE_FIELDS: ReadonlyMap<string, JsonType> = new Map([
  ...Object.entries(UploadCreateParamsSchema.entries)
    .map(([field, schema]) => [field, jsonTypeOf(field, schema)] as const)
    .sort(([a], [b]) => Number(b === "customers") - Number(a === "customers")),
  ["region", "string"],
  ["callback_url", "string"],
]);

/**
 * Reads an ingest body: an array of customers, a single customer object, or an envelope with
 * `customers`. Returns the request or the envelope-level issues (index -1).
 */
export function parseIngestBody(
  value: unknown,
): { ok: true; request: IngestRequest } | { ok: false; issues: RowIssue[] } {
  if (Array.isArray(value)) return { ok: true, request: { customers: value } };
  if (value === null || typeof value !== "object") {
    return {
      ok: false,
      issues: [{
        index: -1,
        field: "",
        reason: "body must be a customer, an array or { customers }",
      }],
    };
  }
  const obj = value as Record<string, unknown>;
  if (!("customers" in obj)) return { ok: true, request: { customers: [obj] } };
  const issues: RowIssue[] = [];
  for (const key of Object.keys(obj)) {
    if (!ENVELOPE_FIELDS.has(key)) issues.push({ index: -1, field: key, reason: "unknown field" });
  }
  for (const [field, type] of ENVELOPE_FIELDS) {
    if (obj[field] !== undefined && !JSON_TYPES[type].is(obj[field])) {
      issues.push({ index: -1, field, reason: JSON_TYPES[type].reason });
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, request: obj as unknown as IngestRequest };
}

/** What a retry of a delivery gets back: the first upload. */
interface IngestResult {
  upload_id: string;
  upload: unknown;
  callback_event_id: string | null;
  /** Set while a callback is still to be scheduled (the first try failed after the upload). */
  pending_callback?: { url: string; region: string };
}

/** A stored result and the guard key it is stored under (other keys point at that one). */
interface Recalled {
  key: string;
  result: IngestResult;
}

/** How long a delivery's result is kept for retries (ms). */
const RESULT_TTL_MS = 24 * 3600_000;

/** An `Idempotency-Key` header: printable ASCII, at most 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The most ingest bodies one proxy reads at once (each up to `maxBodyBytes`): the body is read
 * before its MAC can be checked, so this bounds what senders without the secret can make the
 * proxy hold. Over it: 503 with `Retry-After`.
 */
export const MAX_INGEST_BODIES_READING = 64;

/**
 * Refuses a `Recapture-Signature` header that no body can make valid (missing, malformed, or a
 * timestamp outside the tolerance) before the body is read. The MAC is checked on the bytes
 * afterwards (`verifySignatureDetailed`, which checks the header again).
 */
function headerRefusal(
  header: string | null,
  toleranceSeconds: number,
  now: () => Date,
): WebhookVerificationError | null {
  try {
    checkSignatureHeader(header, { toleranceSeconds, now });
    return null;
  } catch (e) {
    if (e instanceof WebhookVerificationError) return e;
    throw e;
  }
}

/**
 * `POST /webhooks/customers`: the signature header checked (refused before the body is read if
 * it cannot verify), bounded read, MAC check on the raw bytes (refused before more than one HMAC
 * per secret), then every check on the body, and only then the upload.
 *
 * A signature is accepted once: its signed timestamp and body hash are claimed before anything
 * else, so a replay of it (whatever unsigned headers it carries, a new `Idempotency-Key`
 * included) gets the first upload back, never a second. A sender retrying with a new signature
 * (a new timestamp) gets the first upload back when it repeats the first delivery's
 * `Idempotency-Key` with the same body; without one, a re-signed body is a new delivery.
 */
export async function handleIngest(
  rt: ProxyRuntime,
  request: Request,
  platformEnv: unknown,
): Promise<Response> {
  const requestId = requestIdFrom(request.headers);
  const cfg = rt.resolve(platformEnv);
  const refuse = (response: Response) => {
    request.body?.cancel().catch(() => {});
    return response;
  };
  if (cfg.webhookSecrets.length === 0) {
    return refuse(errorResponse(
      requestId,
      500,
      "proxy_misconfigured",
      "The proxy is missing webhook secrets (RECAPTURE_WEBHOOK_SECRETS)",
    ));
  }
  const header = request.headers.get(SIGNATURE_HEADER);
  const unverifiable = headerRefusal(header, rt.tolerance, rt.now);
  if (unverifiable) {
    return refuse(errorResponse(requestId, 401, unverifiable.code, unverifiable.message, {
      reason: unverifiable.reason,
    }));
  }
  const given = request.headers.get("idempotency-key");
  if (given !== null && !IDEMPOTENCY_KEY.test(given)) {
    return refuse(errorResponse(
      requestId,
      400,
      "invalid_idempotency_key",
      "Idempotency-Key must be 1-255 printable ASCII characters",
    ));
  }
  if (rt.ingestBodiesReading >= MAX_INGEST_BODIES_READING) {
    return refuse(errorResponse(
      requestId,
      503,
      "busy",
      "Too many webhook bodies are being received; retry in a moment",
      undefined,
      { "retry-after": "1" },
    ));
  }
  rt.ingestBodiesReading++;
  let bytes: Uint8Array<ArrayBuffer> | Response;
  try {
    bytes = await readBody(request, requestId, rt.maxBody, rt.bodyTimeoutMs);
  } finally {
    rt.ingestBodiesReading--;
  }
  if (bytes instanceof Response) return bytes;
  let timestamp: number;
  try {
    ({ timestamp } = await verifySignatureDetailed(bytes, header, cfg.webhookSecrets, {
      toleranceSeconds: rt.tolerance,
      now: rt.now,
    }));
  } catch (e) {
    if (!(e instanceof WebhookVerificationError)) throw e;
    return errorResponse(requestId, 401, e.code, e.message, { reason: e.reason });
  }
  const bodyHash = await sha256Hex(bytes);
  const guard = rt.guard;
  if (!guard) {
    const outcome = await ingest(rt, cfg, bytes, requestId);
    if (outcome instanceof Response) return outcome;
    return await answerFirst(rt, cfg, undefined, { key: "", result: outcome }, requestId, false);
  }
  // The signature: its timestamp and body (during a rotation a delivery carries one `v1` per
  // secret, and a replay with them reordered or cut is the same signature).
  const signed = `${timestamp}.${bodyHash}`;
  if (!(await guard.claim(signed, RESULT_TTL_MS))) {
    return await answerRepeat(rt, cfg, guard, signed, requestId, null);
  }
  // A sender's re-signed retry names the first delivery's Idempotency-Key (with the same body).
  const retryOf = given === null ? null : `idem.${await sha256Hex(given)}.${bodyHash}`;
  if (retryOf !== null && !(await guard.claim(retryOf, RESULT_TTL_MS))) {
    return await answerRepeat(rt, cfg, guard, retryOf, requestId, signed);
  }
  const claimed = retryOf === null ? [signed] : [signed, retryOf];
  const releaseAll = () => Promise.all(claimed.map((key) => guard.release(key)));
  let outcome: IngestResult | Response;
  try {
    outcome = await ingest(rt, cfg, bytes, requestId);
  } catch (e) {
    await releaseAll();
    throw e;
  }
  if (outcome instanceof Response) {
    // Nothing was created: the sender's retry may try again.
    await releaseAll();
    return outcome;
  }
  await guard.remember?.(signed, JSON.stringify(outcome), RESULT_TTL_MS);
  if (retryOf !== null) await guard.remember?.(retryOf, pointerTo(signed), RESULT_TTL_MS);
  return await answerFirst(rt, cfg, guard, { key: signed, result: outcome }, requestId, false);
}

/** What a key holds when the result is stored under another key. */
function pointerTo(key: string): string {
  return JSON.stringify({ result_at: key });
}

/**
 * A repeat (`key` was claimed before): the first upload, 200; or 409 while the first is still
 * being processed. `alsoKey`, a signature claimed for this request, is pointed at the first
 * result (so its own replays get it too), or released when there is none yet.
 */
async function answerRepeat(
  rt: ProxyRuntime,
  cfg: Resolved,
  guard: ReplayGuard,
  key: string,
  requestId: string,
  alsoKey: string | null,
): Promise<Response> {
  const first = await recallResult(guard, key);
  if (first) {
    if (alsoKey !== null) await guard.remember?.(alsoKey, pointerTo(first.key), RESULT_TTL_MS);
    return await answerFirst(rt, cfg, guard, first, requestId);
  }
  if (alsoKey !== null) await guard.release(alsoKey);
  return errorResponse(
    requestId,
    409,
    "duplicate_delivery",
    guard.recall
      ? "This delivery is being processed; retry in a moment"
      : "This delivery was already accepted",
  );
}

/** The result stored under `key`, following one pointer; null while none is stored. */
async function recallResult(guard: ReplayGuard, key: string): Promise<Recalled | null> {
  const read = async (at: string) => {
    const text = await guard.recall?.(at);
    if (!text) return null;
    try {
      return JSON.parse(text) as IngestResult | { result_at?: unknown };
    } catch {
      return null;
    }
  };
  const value = await read(key);
  if (value && "result_at" in value) {
    if (typeof value.result_at !== "string") return null;
    const result = await read(value.result_at);
    return result && "upload_id" in result ? { key: value.result_at, result } : null;
  }
  return value && "upload_id" in value ? { key, result: value } : null;
}

/**
 * Answers with a delivery's upload: 202 the first time, 200 with `duplicate: true` for a retry.
 * A callback not yet scheduled is scheduled now; if that fails the upload still exists, so the
 * answer stays a success with `pending_callback: true` (a retry of the delivery schedules it),
 * never a 5xx the sender would answer with another upload.
 */
async function answerFirst(
  rt: ProxyRuntime,
  cfg: Resolved,
  guard: ReplayGuard | undefined,
  { key, result }: Recalled,
  requestId: string,
  duplicate = true,
): Promise<Response> {
  const pending = result.pending_callback;
  if (pending) {
    const region = asRegion(pending.region) ?? cfg.region;
    try {
      const eventId = await rt.scheduleCallback(cfg, result.upload_id, region, pending.url);
      result = { upload_id: result.upload_id, upload: result.upload, callback_event_id: eventId };
      await guard?.remember?.(key, JSON.stringify(result), RESULT_TTL_MS);
    } catch (e) {
      rt.options.onError?.(e, requestId);
    }
  }
  return Response.json(
    {
      success: true,
      upload_id: result.upload_id,
      upload: result.upload,
      callback_event_id: result.callback_event_id,
      ...(result.pending_callback ? { pending_callback: true } : {}),
      duplicate,
    },
    { status: duplicate ? 200 : 202, headers: { "x-request-id": requestId } },
  );
}

/** Every check, then the upload: answers its result, or the refusal (nothing created). */
async function ingest(
  rt: ProxyRuntime,
  cfg: Resolved,
  bytes: Uint8Array,
  requestId: string,
): Promise<IngestResult | Response> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return errorResponse(requestId, 400, "invalid_json", "Body is not valid JSON");
  }
  const invalid = (issues: RowIssue[]) => validationFailed(requestId, issues);
  const parsed = parseIngestBody(value);
  if (!parsed.ok) return invalid(parsed.issues);
  const req = parsed.request;
  const envelopeIssues: RowIssue[] = [];
  const region = req.region === undefined ? cfg.region : asRegion(req.region);
  if (!region) {
    const last = REGIONS.length - 1;
    const regions = `${REGIONS.slice(0, last).join(", ")} or ${REGIONS[last]}`; // au, nz, uk or my
    envelopeIssues.push({ index: -1, field: "region", reason: `must be ${regions}` });
  }
  if (req.callback_url !== undefined) {
    const problem = rt.callbackProblem(cfg, req.callback_url);
    if (problem) envelopeIssues.push({ index: -1, field: "callback_url", reason: problem });
  }
  if (req.customers.length === 0) {
    envelopeIssues.push({
      index: -1,
      field: "customers",
      reason: "must hold at least one customer",
    });
  }
  if (!region || envelopeIssues.length > 0) return invalid(envelopeIssues);
  const { valid, issues } = validateCustomers(req.customers, { region });
  if (issues.length > 0) return invalid(issues);

  const client = rt.clientFor(cfg);
  if (!client) {
    return missingApiKey(requestId, cfg.baseUrlProblem);
  }
  // The upload body's fields as sent (an empty date is no date), without the edge's own.
  const { region: _region, callback_url: _callback, customers: _rows, ...given } = req;
  const uploadBody = {
    ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== "")),
    name: req.name ?? `webhook ingest ${rt.now().toISOString()}`,
    enable_rego_lookups: req.enable_rego_lookups ?? false,
    customers: valid,
  };
  let upstream: Response;
  try {
    upstream = await client.requestRaw("POST", "/v2/recapture/upload", {
      body: JSON.stringify(uploadBody),
      headers: { "content-type": "application/json", "x-request-id": requestId },
      region,
      idempotent: false,
    });
  } catch (e) {
    return upstreamFailure(requestId, e);
  }
  // Whatever the status, the key never leaves in an answer.
  const redact = (text: string) => cfg.apiKey ? text.replaceAll(cfg.apiKey, "[redacted]") : text;
  const text = redact(await upstream.text());
  if (!upstream.ok) {
    // The sender cannot fix the proxy's key or the API's outage: those are gateway errors.
    // Other answers (400, 429 with its headers) pass through as the API gave them.
    const s = upstream.status;
    if (s === 401 || s === 403 || s >= 500) {
      const message = apiMessage(text);
      return errorResponse(
        requestId,
        502,
        s >= 500 ? "upstream_error" : "upstream_auth_failed",
        `The API answered ${s}${message ? `: ${message}` : ""}`,
      );
    }
    return forwardResponse(new Response(text, upstream), requestId);
  }
  const uploadId = uploadIdOf(text);
  if (!uploadId) {
    return errorResponse(
      requestId,
      502,
      "unexpected_response",
      "The API's answer had no upload id",
    );
  }
  const upload = (JSON.parse(text) as { upload?: unknown }).upload ?? null;
  return {
    upload_id: uploadId,
    upload,
    callback_event_id: null,
    ...(req.callback_url ? { pending_callback: { url: req.callback_url, region } } : {}),
  };
}
