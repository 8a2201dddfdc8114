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

/** How long a delivery's result is kept for retries (ms). */
const RESULT_TTL_MS = 24 * 3600_000;

/** An `Idempotency-Key` header: printable ASCII, at most 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * `POST /webhooks/customers`: bounded read, signature check on the raw bytes (refused before
 * more than one HMAC per secret), then every check on the body, and only then the upload. Each
 * signed delivery has an idempotency key (its `Idempotency-Key` header, else its signed timestamp
 * and body hash, both bound to the body): the first upload it created is stored, and a retry,
 * after any failure, gets that upload back instead of creating another.
 */
export async function handleIngest(
  rt: ProxyRuntime,
  request: Request,
  platformEnv: unknown,
): Promise<Response> {
  const requestId = requestIdFrom(request.headers);
  const cfg = rt.resolve(platformEnv);
  if (cfg.webhookSecrets.length === 0) {
    await request.body?.cancel().catch(() => {});
    return errorResponse(
      requestId,
      500,
      "proxy_misconfigured",
      "The proxy is missing webhook secrets (RECAPTURE_WEBHOOK_SECRETS)",
    );
  }
  const bytes = await readBody(request, requestId, rt.maxBody, rt.bodyTimeoutMs);
  if (bytes instanceof Response) return bytes;
  let timestamp: number;
  try {
    ({ timestamp } = await verifySignatureDetailed(
      bytes,
      request.headers.get(SIGNATURE_HEADER),
      cfg.webhookSecrets,
      { toleranceSeconds: rt.tolerance, now: rt.now },
    ));
  } catch (e) {
    if (!(e instanceof WebhookVerificationError)) throw e;
    return errorResponse(requestId, 401, e.code, e.message, { reason: e.reason });
  }
  const bodyHash = await sha256Hex(bytes);
  const given = request.headers.get("idempotency-key");
  if (given !== null && !IDEMPOTENCY_KEY.test(given)) {
    return errorResponse(
      requestId,
      400,
      "invalid_idempotency_key",
      "Idempotency-Key must be 1-255 printable ASCII characters",
    );
  }
  // During a rotation a delivery carries one signature per secret, and a replay with them
  // reordered is the same delivery: the key is its timestamp (or its id) and body.
  const delivery = given === null
    ? `${timestamp}.${bodyHash}`
    : `idem.${await sha256Hex(given)}.${bodyHash}`;
  const guard = rt.guard;
  const first = await recallResult(guard, delivery);
  if (first) return answerFirst(rt, cfg, guard, delivery, first, requestId);
  if (guard && !(await guard.claim(delivery, RESULT_TTL_MS))) {
    const done = await recallResult(guard, delivery);
    if (done) return answerFirst(rt, cfg, guard, delivery, done, requestId);
    return errorResponse(
      requestId,
      409,
      "duplicate_delivery",
      guard.recall
        ? "This delivery is being processed; retry in a moment"
        : "This delivery was already accepted",
    );
  }
  let outcome: IngestResult | Response;
  try {
    outcome = await ingest(rt, cfg, bytes, requestId);
  } catch (e) {
    await guard?.release(delivery);
    throw e;
  }
  if (outcome instanceof Response) {
    // Nothing was created: the sender's retry may try again.
    await guard?.release(delivery);
    return outcome;
  }
  await guard?.remember?.(delivery, JSON.stringify(outcome), RESULT_TTL_MS);
  return answerFirst(rt, cfg, guard, delivery, outcome, requestId, false);
}

async function recallResult(
  guard: ReplayGuard | undefined,
  delivery: string,
): Promise<IngestResult | null> {
  const text = await guard?.recall?.(delivery);
  if (!text) return null;
  try {
    return JSON.parse(text) as IngestResult;
  } catch {
    return null;
  }
}

/**
 * Answers with a delivery's upload: 202 the first time, 200 with `duplicate: true` for a retry.
 * A callback the first try could not schedule is scheduled now, once.
 */
async function answerFirst(
  rt: ProxyRuntime,
  cfg: Resolved,
  guard: ReplayGuard | undefined,
  delivery: string,
  result: IngestResult,
  requestId: string,
  duplicate = true,
): Promise<Response> {
  const pending = result.pending_callback;
  if (pending) {
    const region = asRegion(pending.region) ?? cfg.region;
    result = {
      upload_id: result.upload_id,
      upload: result.upload,
      callback_event_id: await rt.scheduleCallback(cfg, result.upload_id, region, pending.url),
    };
    await guard?.remember?.(delivery, JSON.stringify(result), RESULT_TTL_MS);
  }
  return Response.json(
    {
      success: true,
      upload_id: result.upload_id,
      upload: result.upload,
      callback_event_id: result.callback_event_id,
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
