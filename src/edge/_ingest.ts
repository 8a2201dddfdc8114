/**
 * Webhook ingest: a verified body (one customer, an array, or `{ customers, ... }`) becomes an
 * upload. Shape errors and bad rows answer 422 naming each row and field.
 *
 * @module
 */
import type { RowIssue } from "../schemas.ts";
import { validateCustomers } from "../validate.ts";
import {
  readBodyLimited,
  SIGNATURE_HEADER,
  verifySignatureDetailed,
  WebhookVerificationError,
} from "../webhooks.ts";
import { asRegion } from "./_config.ts";
import {
  apiMessage,
  bodyTooLarge,
  describeIssues,
  errorResponse,
  missingApiKey,
  requestIdFrom,
  uploadIdOf,
} from "./_http.ts";
import { sha256Hex } from "../_hex.ts";
import type { ProxyRuntime, Resolved } from "./_runtime.ts";
import { forwardResponse, upstreamFailure } from "./_forward.ts";

/** An ingest body after its shape is checked. */
export interface IngestRequest {
  /** The customer rows as sent (validated later). */
  customers: unknown[];
  /** Upload name. */
  name?: string;
  /** Rego lookups. */
  enable_rego_lookups?: boolean;
  /** Upload-level monitoring defaults. */
  monitor_start_date?: string;
  /** Upload-level monitoring defaults. */
  monitor_end_date?: string;
  /** Region override. */
  region?: string;
  /** Where to send `upload.completed`. */
  callback_url?: string;
}

const ENVELOPE_KEYS = new Set([
  "customers",
  "name",
  "enable_rego_lookups",
  "monitor_start_date",
  "monitor_end_date",
  "region",
  "callback_url",
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
    if (!ENVELOPE_KEYS.has(key)) issues.push({ index: -1, field: key, reason: "unknown field" });
  }
  if (!Array.isArray(obj.customers)) {
    issues.push({ index: -1, field: "customers", reason: "must be an array" });
  }
  const str = (key: string): void => {
    if (obj[key] !== undefined && typeof obj[key] !== "string") {
      issues.push({ index: -1, field: key, reason: "must be a string" });
    }
  };
  ["name", "monitor_start_date", "monitor_end_date", "region", "callback_url"].forEach(str);
  if (obj.enable_rego_lookups !== undefined && typeof obj.enable_rego_lookups !== "boolean") {
    issues.push({ index: -1, field: "enable_rego_lookups", reason: "must be a boolean" });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, request: obj as unknown as IngestRequest };
}

/**
 * `POST /webhooks/customers`: verify the signature on the raw bytes, refuse replays, then turn
 * the body into an upload. A delivery that does not end in 202 is released from the replay
 * guard, so the sender's retry is accepted.
 */
export async function handleIngest(
  rt: ProxyRuntime,
  request: Request,
  platformEnv: unknown,
): Promise<Response> {
  const requestId = requestIdFrom(request.headers);
  const cfg = rt.resolve(platformEnv);
  if (cfg.webhookSecrets.length === 0) {
    return errorResponse(
      requestId,
      500,
      "proxy_misconfigured",
      "The proxy is missing webhook secrets (RECAPTURE_WEBHOOK_SECRETS)",
    );
  }
  const bytes = await readBodyLimited(request, rt.maxBody);
  if (bytes === null) {
    return bodyTooLarge(requestId, rt.maxBody);
  }
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
  // The delivery is its timestamp and body, whichever of its signatures matched: during a
  // rotation it carries one per secret, and a replay with them reordered is the same delivery.
  const delivery = `${timestamp}.${await sha256Hex(bytes)}`;
  if (rt.guard && !(await rt.guard.claim(delivery, rt.tolerance * 2000))) {
    return errorResponse(
      requestId,
      409,
      "duplicate_delivery",
      "This delivery was already accepted",
    );
  }
  const answer = await ingest(rt, cfg, bytes, requestId);
  if (answer.status >= 300) await rt.guard?.release(delivery);
  return answer;
}

async function ingest(
  rt: ProxyRuntime,
  cfg: Resolved,
  bytes: Uint8Array,
  requestId: string,
): Promise<Response> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return errorResponse(requestId, 400, "invalid_json", "Body is not valid JSON");
  }
  const invalid = (issues: RowIssue[]) =>
    errorResponse(requestId, 422, "validation_failed", describeIssues(issues), { issues });
  const parsed = parseIngestBody(value);
  if (!parsed.ok) return invalid(parsed.issues);
  const req = parsed.request;
  const envelopeIssues: RowIssue[] = [];
  const region = req.region === undefined ? cfg.region : asRegion(req.region);
  if (!region) {
    envelopeIssues.push({ index: -1, field: "region", reason: "must be au, nz, uk or my" });
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
    return missingApiKey(requestId);
  }
  const uploadBody = {
    name: req.name ?? `webhook ingest ${rt.now().toISOString()}`,
    enable_rego_lookups: req.enable_rego_lookups ?? false,
    ...(req.monitor_start_date ? { monitor_start_date: req.monitor_start_date } : {}),
    ...(req.monitor_end_date ? { monitor_end_date: req.monitor_end_date } : {}),
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
  if (!upstream.ok) {
    // The sender cannot fix the proxy's key or the API's outage: those are gateway errors.
    // Other answers (400, 429 with its headers) pass through as the API gave them.
    const s = upstream.status;
    if (s === 401 || s === 403 || s >= 500) {
      const raw = await upstream.text().then(apiMessage).catch(() => undefined);
      const message = raw && cfg.apiKey ? raw.replaceAll(cfg.apiKey, "[redacted]") : raw;
      return errorResponse(
        requestId,
        502,
        s >= 500 ? "upstream_error" : "upstream_auth_failed",
        `The API answered ${s}${message ? `: ${message}` : ""}`,
      );
    }
    return forwardResponse(upstream, requestId);
  }
  const text = await upstream.text();
  const uploadId = uploadIdOf(text);
  if (!uploadId) {
    return errorResponse(
      requestId,
      502,
      "unexpected_response",
      "The API's answer had no upload id",
    );
  }
  const eventId = req.callback_url
    ? await rt.scheduleCallback(cfg, uploadId, region, req.callback_url)
    : null;
  const upload = (JSON.parse(text) as { upload?: unknown }).upload ?? null;
  return Response.json(
    { success: true, upload_id: uploadId, upload, callback_event_id: eventId },
    { status: 202, headers: { "x-request-id": requestId } },
  );
}
