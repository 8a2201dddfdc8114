/**
 * {@link RecaptureClient}: every Customer Recapture operation, typed, on `fetch`.
 *
 * @example
 * ```ts ignore
 * import { RecaptureClient } from "@recapture/sdk";
 * const client = new RecaptureClient({ apiKey: "sec_...", region: "au" });
 * const upload = await client.uploads.create({
 *   name: "March sales",
 *   customers: [{ rego: "ABC123", state: "NSW", client_name: "Jo Citizen" }],
 * });
 * const done = await client.uploads.wait(upload.id, { onProgress: (u) => console.log(u) });
 * for await (const customer of client.customers.iterate({ upload_id: done.id })) {
 *   console.log(customer.rego, customer.vin);
 * }
 * ```
 * @module
 */
import type * as v from "valibot";
import { ApiKeyAuth, type Auth, OAuthAuth } from "./_oauth.ts";
import { parseBody, withMeta, type WithResponse } from "./_response.ts";
import { type BackoffOptions, resolveBackoff, sleep } from "./_retry.ts";
import { type FetchLike, type RecaptureLogger, type Received, Transport } from "./_transport.ts";
import { AbortError, TimeoutError, ValidationError } from "./errors.ts";
import { iteratePages } from "./pagination.ts";
import {
  type Customer,
  CustomerEnvelopeSchema,
  type CustomerPage,
  CustomerPageSchema,
  type CustomerUpdateParams,
  type Region,
  REGIONS,
  type RowIssue,
  type Upload,
  type UploadCreateParams,
  UploadEnvelopeSchema,
} from "./schemas.ts";
import { checkUpdateParams, checkUploadParams, validateCustomers } from "./validate.ts";
import {
  type PingResult,
  RECAPTURE_ALERT_EVENTS,
  type RecaptureAlertEventName,
} from "./alert_events.ts";
import {
  PingEnvelopeSchema,
  WebhookEnvelopeSchema,
  WebhookListSchema,
} from "./_webhook_schemas.ts";

/** Options for {@link RecaptureClient}. */
export interface RecaptureClientOptions {
  /**
   * API key, sent as `ApiKey: <key>`. Exactly one way to authenticate must be given: this,
   * `clientId` + `clientSecret`, or `auth: "none"`.
   */
  apiKey?: string;
  /**
   * `"none"`: send no credentials, for a proxy in front of the API that adds the key (such as
   * this package's edge adapter). Must be said explicitly: a client without credentials is
   * otherwise refused at construction, rather than sending requests with no key.
   */
  auth?: "none";
  /** OAuth client id (client credentials flow; the token is sent as a bearer token). */
  clientId?: string;
  /** OAuth client secret. */
  clientSecret?: string;
  /** OAuth token URL. Default `${baseUrl}/auth-broker/request-token`. */
  tokenUrl?: string;
  /** Default region (default `au`). */
  region?: Region;
  /** API base URL (default `https://api.autograb.com.au`). */
  baseUrl?: string;
  /** The fetch to send through (default `globalThis.fetch`), e.g. a sandbox's `app.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
  /**
   * Per-attempt timeout in ms, body read included (default 30000). Timers are shared, so an
   * attempt may run up to 1% (at most 100 ms) longer, never shorter.
   */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** Backoff tuning (defaults: base 500 ms, max 8 s, server-asked waits capped at 60 s). */
  retry?: BackoffOptions;
  /** Where to log attempts and retries (never headers, bodies or secrets). */
  logger?: RecaptureLogger;
}

/** Per-call overrides. */
export interface RequestOptions {
  /** Region for this call. */
  region?: Region;
  /** Abort the call. */
  signal?: AbortSignal;
  /** Per-attempt timeout in ms for this call. */
  timeoutMs?: number;
  /** Retries for this call. */
  maxRetries?: number;
}

/** Options for `uploads.create`. */
export interface UploadCreateOptions extends RequestOptions {
  /** Validate rows before sending (default true). */
  validate?: boolean;
  /** Drop invalid rows and return them in `rejected` instead of failing (default false). */
  dropInvalid?: boolean;
  /**
   * Send rows whose `expiry_date` is today or earlier (default false: they are invalid rows,
   * since the API deletes such a customer at once).
   */
  allowPastExpiry?: boolean;
}

/** Options for `uploads.wait`. */
export interface UploadWaitOptions extends RequestOptions {
  /** Delay between polls in ms (default 1000). */
  intervalMs?: number;
  /**
   * Give up with a {@link TimeoutError} after this many ms overall (default: no limit). This
   * bounds everything, polls and their retries included: a poll still running at the deadline
   * gets 2 s more, then it is aborted.
   */
  deadlineMs?: number;
  /** Called with every polled state. */
  onProgress?: (upload: Upload) => void;
}

/** Parameters of `customers.list`. */
export interface CustomerListParams {
  /** Skip this many customers (default 0). */
  offset?: number;
  /** Page size, 1 to 1000 (API default 50). */
  limit?: number;
  /** Only customers of this upload. */
  upload_id?: string;
}

/** Parameters of `customers.iterate`. */
export interface CustomerIterateParams {
  /** Only customers of this upload. */
  upload_id?: string;
  /** Customers per request, 1 to 1000 (default 100). */
  pageSize?: number;
}

/** What `uploads.create` returns: the queued upload, plus the rows dropped by `dropInvalid`. */
export interface UploadCreateResult extends Upload {
  /** Rows removed by `dropInvalid` (empty otherwise); `index` is the row's input position. */
  rejected: RowIssue[];
}

/** Options of `requestRaw`. */
export interface RawRequestInit {
  /** Query parameters; `region` is added unless present. */
  query?: Record<string, string> | URLSearchParams;
  /** Request body. */
  body?: string | Uint8Array;
  /** Extra headers (auth headers are replaced by the client's). */
  headers?: HeadersInit;
  /** Abort the call. */
  signal?: AbortSignal;
  /** Region (unless `query` has one). */
  region?: Region;
  /** Retry on retryable failures (default: true for GET, HEAD, OPTIONS, PUT, DELETE). */
  idempotent?: boolean;
  /** Per-attempt timeout in ms (until the response headers). */
  timeoutMs?: number;
  /** Retries for this call. */
  maxRetries?: number;
}

/** A result with the meta of its response as non-enumerable `lastResponse`. */
export type WithLastResponse<T> = T & WithResponse;

/**
 * What a cancel really did, judged from the upload the API answers (the API answers a cancel of
 * a finished upload with the upload unchanged, so its status alone does not say).
 */
export interface UploadCancelOutcome {
  /**
   * `"cancelled"`: processing was stopped, `notProcessed` customers will not be created;
   * `"already_completed"`: every customer had been processed before: nothing was cancelled.
   */
  result: "cancelled" | "already_completed";
  /** Customers of the upload not processed when the API answered (0 when already completed). */
  notProcessed: number;
}

/**
 * The upload a cancel answers, its wire fields unchanged, with `outcome` (non-enumerable, as
 * `lastResponse`: it is not a field of the API's answer) saying what the cancel really did.
 */
export type CancelledUpload = WithLastResponse<Upload> & {
  /** What the cancel really did. */
  readonly outcome: UploadCancelOutcome;
};
export type { WithResponse };

const DEFAULT_BASE_URL = "https://api.autograb.com.au";
const API = "/v2/recapture";
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/**
 * Whether every character is one `encodeURIComponent` leaves as it is (`A-Z a-z 0-9 - _ . ! ~ *
 * ' ( )`). A loop, not a regular expression: this runs on every call, between two requests'
 * worth of other code, where the small loop costs far less than the RegExp machinery.
 */
function isUnreserved(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 ||
      c === 45 || c === 46 || c === 126 || c === 33 || c === 42 || c === 39 || c === 40 ||
      c === 41
    ) continue;
    return false;
  }
  return true;
}

/**
 * Percent-encodes one path segment; refuses `""`, `.` and `..` (URL parsers treat even
 * `%2E%2E` as `..`, so such an id could climb the path).
 *
 * @example
 * ```ts
 * import { encodePathSegment } from "@recapture/sdk";
 * console.log(encodePathSegment("a/b c")); // "a%2Fb%20c"
 * ```
 */
export function encodePathSegment(segment: string): string {
  if (typeof segment !== "string" || segment === "") {
    throw new TypeError("an id must be a non-empty string");
  }
  if (segment === "." || segment === "..") {
    throw new TypeError(`an id cannot be "${segment}"`);
  }
  // The usual id (`cus_123`) has only characters encodeURIComponent leaves as they are.
  if (isUnreserved(segment)) return segment;
  if (!segment.isWellFormed()) {
    throw new TypeError("an id must be well-formed Unicode (it has a lone surrogate)");
  }
  return encodeURIComponent(segment);
}

function checkRegion(region: unknown, where: string): Region {
  for (let i = 0; i < REGIONS.length; i++) if (REGIONS[i] === region) return region as Region;
  throw new TypeError(`${where} must be one of ${REGIONS.join(", ")}, got ${shown(region)}`);
}

/** A value for an error message; never throws (`String()` does on null-prototype objects). */
function shown(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x.slice(0, 40));
  if (x === null || (typeof x !== "object" && typeof x !== "function")) return String(x);
  return Array.isArray(x) ? "an array" : `a ${typeof x}`;
}

function checkCount(n: unknown, name: string, min: number): number {
  if (typeof n !== "number" || !Number.isFinite(n) || n < min) {
    throw new RangeError(`${name} must be a number ≥ ${min}, got ${shown(n)}`);
  }
  return n;
}

/**
 * The longest delay accepted (about 23 days): timers overflow past 2^31 − 1 ms and fire at once.
 */
const MAX_DELAY_MS = 2_000_000_000;

/** A delay in ms: a number from `min` to {@link MAX_DELAY_MS}. */
function checkDelay(n: unknown, name: string, min: number): number {
  const ms = checkCount(n, name, min);
  if (ms > MAX_DELAY_MS) {
    throw new RangeError(`${name} must be at most ${MAX_DELAY_MS} ms (about 23 days), got ${ms}`);
  }
  return ms;
}

/** Per-call `timeoutMs` and `maxRetries`, checked like the client's own. */
function callLimits(
  o: { timeoutMs?: number; maxRetries?: number } | undefined,
): { timeoutMs?: number; maxRetries?: number } {
  return {
    timeoutMs: o?.timeoutMs === undefined ? undefined : checkDelay(o.timeoutMs, "timeoutMs", 1),
    maxRetries: o?.maxRetries === undefined
      ? undefined
      : Math.floor(checkCount(o.maxRetries, "maxRetries", 0)),
  };
}

/**
 * The Customer Recapture API client.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * const client = new RecaptureClient({
 *   apiKey: "sec_example",
 *   fetch: (req) => Promise.resolve(Response.json({ success: true, customer: { id: "c1" } })),
 * });
 * const customer = await client.customers.retrieve("c1");
 * console.log(customer.id, customer.lastResponse.status); // "c1" 200
 * ```
 */
export class RecaptureClient {
  /** Upload operations. */
  readonly uploads: Uploads;
  /** Customer operations. */
  readonly customers: Customers;
  /** Alert webhook operations (`/v2/webhooks`). */
  readonly webhooks: Webhooks;
  /** The default region. */
  readonly region: Region;
  /** The API base URL (no trailing slash). */
  readonly baseUrl: string;
  #transport: Transport;

  /**
   * Creates an instance.
   *
   * @param options credentials, region, base URL, fetch, timeouts, retries, logger
   */
  constructor(options?: RecaptureClientOptions) {
    const o = options ?? {};
    this.region = checkRegion(o.region ?? "au", "region");
    this.baseUrl = (o.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    try {
      new URL(this.baseUrl);
    } catch {
      throw new TypeError(`baseUrl must be an absolute URL, got ${this.baseUrl}`);
    }
    const timeoutMs = checkDelay(o.timeoutMs ?? 30_000, "timeoutMs", 1);
    const maxRetries = Math.floor(checkCount(o.maxRetries ?? 2, "maxRetries", 0));
    const fetchFn: FetchLike | null = o.fetch ?? null;
    let auth: Auth | null = null;
    const oauth = o.clientId !== undefined || o.clientSecret !== undefined;
    const ways = [o.apiKey !== undefined, oauth, o.auth !== undefined].filter(Boolean).length;
    if (o.auth !== undefined && o.auth !== "none") {
      throw new TypeError(`auth must be "none" when given, got ${JSON.stringify(o.auth)}`);
    }
    if (ways > 1) {
      throw new TypeError(
        'give one way to authenticate: apiKey, clientId + clientSecret, or auth: "none"',
      );
    }
    if (ways === 0) {
      throw new TypeError(
        'no credentials: give apiKey, or clientId + clientSecret, or auth: "none" for a proxy ' +
          "that adds the key (an unset environment variable gives undefined)",
      );
    }
    if (o.apiKey !== undefined) {
      if (typeof o.apiKey !== "string" || o.apiKey === "") {
        throw new TypeError("apiKey must be a non-empty string");
      }
      auth = new ApiKeyAuth(o.apiKey);
    }
    const transport = new Transport({
      baseUrl: this.baseUrl,
      fetch: fetchFn,
      auth: null,
      region: this.region,
      timeoutMs,
      maxRetries,
      backoff: resolveBackoff(o.retry),
      logger: o.logger,
    });
    if (o.clientId !== undefined || o.clientSecret !== undefined) {
      if (!o.clientId || !o.clientSecret) {
        throw new TypeError("OAuth needs both clientId and clientSecret");
      }
      const tokenUrl = o.tokenUrl ?? `${this.baseUrl}/auth-broker/request-token`;
      auth = new OAuthAuth(
        o.clientId,
        o.clientSecret,
        (id, secret) => transport.fetchToken(tokenUrl, id, secret),
      );
    }
    transport.config.auth = auth;
    this.#transport = transport;
    this.uploads = new Uploads(this, transport);
    this.customers = new Customers(this, transport);
    this.webhooks = new Webhooks(this, transport);
  }

  /**
   * Sends one request with the client's auth, region, timeout and retries, and returns the final
   * upstream Response whatever its status. Throws only {@link ConnectionError},
   * {@link TimeoutError} or {@link AbortError}. Retries only idempotent requests, or any request
   * that provably never reached the server (refused connection, DNS) or got a 429.
   *
   * @example
   * ```ts
   * import { RecaptureClient } from "@recapture/sdk";
   * const client = new RecaptureClient({
   *   apiKey: "sec_example",
   *   fetch: (req) => Promise.resolve(new Response(new URL(req.url).search)),
   * });
   * const res = await client.requestRaw("GET", "/v2/recapture/customers", { query: { limit: "5" } });
   * console.log(await res.text()); // "?limit=5&region=au"
   * ```
   */
  async requestRaw(method: string, path: string, init?: RawRequestInit): Promise<Response> {
    if (!path.startsWith("/")) throw new TypeError(`path must start with "/", got ${path}`);
    const m = method.toUpperCase();
    return await this.#transport.raw({
      method: m,
      path,
      query: init?.query instanceof URLSearchParams ? init.query : new URLSearchParams(init?.query),
      body: init?.body,
      headers: init?.headers,
      signal: init?.signal,
      region: checkRegion(init?.region ?? this.region, "region"),
      ...callLimits(init),
      retry: (init?.idempotent ?? IDEMPOTENT.has(m)) ? "idempotent" : "unsent-only",
    });
  }
}

/** What a resource method asks of the transport. */
interface CallInit {
  method: string;
  path: string;
  query?: URLSearchParams;
  json?: unknown;
  retry: "idempotent" | "unsent-only";
}

/**
 * Sends one JSON call for the resource namespaces. It hands back the transport's own promise
 * (no async step of its own); its callers are async, so a throw here still rejects.
 */
function send(
  client: RecaptureClient,
  transport: Transport,
  init: CallInit,
  options: RequestOptions | undefined,
): Promise<Received> {
  const region = checkRegion(options?.region ?? client.region, "region");
  return transport.request({
    method: init.method,
    path: init.path,
    query: init.query,
    body: init.json === undefined ? undefined : encodeJson(init.json),
    contentType: init.json === undefined ? undefined : "application/json",
    region,
    signal: options?.signal,
    ...(options === undefined ? undefined : callLimits(options)),
    retry: init.retry,
  });
}

const encoder = new TextEncoder();

/**
 * A JSON body; large ones as bytes: a long upload's body is held until it is answered (for a
 * retry before it was sent), and as bytes it lives outside the JS heap instead of being copied
 * from young to old space at every garbage collection meanwhile.
 */
function encodeJson(value: unknown): string | Uint8Array {
  const text = JSON.stringify(value);
  return text.length > 65_536 ? encoder.encode(text) : text;
}

/** The answer to `uploads.create`, with the rows it left out. */
async function uploadCreated(
  sending: Promise<Received>,
  init: CallInit,
  rejected: RowIssue[],
): Promise<WithLastResponse<UploadCreateResult>> {
  const received = await sending;
  const body = parsed(UploadEnvelopeSchema, received, init);
  const result: UploadCreateResult = { ...body.upload, rejected };
  return withMeta(result, received.status, received.response);
}

/** The body of a call's answer, validated with `schema`. */
function parsed<S extends v.GenericSchema>(
  schema: S,
  received: Received,
  init: CallInit,
): v.InferOutput<S> {
  return parseBody(schema, received.text, {
    status: received.status,
    response: received.response,
    what: `${init.method} ${init.path}`,
  });
}

/**
 * `client.uploads`: queue, check, cancel and wait for uploads.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox(); // in memory
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * const upload = await client.uploads.create({
 *   name: "March",
 *   customers: [{ rego: "ABC123", state: "NSW" }],
 * });
 * const done = await client.uploads.wait(upload.id, { intervalMs: 20 });
 * console.log(done.total_processed_customers); // 1
 * await sandbox.close();
 * ```
 */
export class Uploads {
  #client: RecaptureClient;
  #transport: Transport;

  /**
   * Creates an instance.
   *
   * @param client the owning client
   * @param transport its request loop
   */
  constructor(client: RecaptureClient, transport: Transport) {
    this.#client = client;
    this.#transport = transport;
  }

  /**
   * Queues an upload (`POST /v2/recapture/upload`). Rows are validated first (a
   * {@link ValidationError} lists every bad row) unless `validate: false`; with
   * `dropInvalid: true` bad rows are left out and returned in `rejected`. Never blindly retried:
   * only on 429 or when the request provably never reached the server.
   *
   * @example
   * ```ts ignore
   * const upload = await client.uploads.create({ name: "March", customers: [{ rego: "ABC123", state: "NSW" }] });
   * ```
   */
  create(
    params: UploadCreateParams,
    options?: UploadCreateOptions,
  ): Promise<WithLastResponse<UploadCreateResult>> {
    // Checked and written now; only the answer is awaited (in `uploadCreated`), so neither
    // `params` nor the rows stay alive while a long list is on its way.
    try {
      const { init, rejected, region } = this.#prepareCreate(params, options);
      const sending = send(this.#client, this.#transport, init, { ...options, region });
      init.json = undefined;
      return uploadCreated(sending, init, rejected);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Checks an upload and builds its call (throws {@link ValidationError}). */
  #prepareCreate(
    params: UploadCreateParams,
    options: UploadCreateOptions | undefined,
  ): { init: CallInit; rejected: RowIssue[]; region: Region } {
    const region = checkRegion(options?.region ?? this.#client.region, "region");
    const upload = checkUploadParams(params);
    let customers: unknown[] = Array.isArray(params?.customers) ? params.customers : [];
    let rejected: RowIssue[] = [];
    if (options?.validate === false) {
      if (!Array.isArray(params?.customers)) {
        throw new ValidationError(upload.filter((i) => i.field === "customers" || i.field === ""));
      }
    } else {
      const { valid, issues } = validateCustomers(customers, {
        region,
        allowPastExpiry: options?.allowPastExpiry ?? false,
      });
      const fatal = upload.length > 0 || (issues.length > 0 && !options?.dropInvalid);
      if (fatal || valid.length === 0) {
        const noneLeft = !fatal && valid.length === 0
          ? [{ index: -1, field: "customers", reason: "no valid customer left to upload" }]
          : [];
        throw new ValidationError([...upload, ...noneLeft, ...issues]);
      }
      customers = valid;
      rejected = issues;
    }
    const json: Record<string, unknown> = {
      name: params.name,
      enable_rego_lookups: params.enable_rego_lookups ?? false,
    };
    // Sent as checked: trimmed (with `validate: false`, as given).
    for (const field of ["monitor_start_date", "monitor_end_date"] as const) {
      const value: unknown = params[field];
      if (value !== undefined) json[field] = typeof value === "string" ? value.trim() : value;
    }
    json.customers = customers;
    const init: CallInit = {
      method: "POST",
      path: `${API}/upload`,
      json,
      retry: "unsent-only",
    };
    return { init, rejected, region };
  }

  /**
   * Gets an upload's status (`GET /v2/recapture/upload/{id}`).
   *
   * @example
   * ```ts ignore
   * const u = await client.uploads.retrieve("upl_123");
   * console.log(u.total_processed_customers, "/", u.total_uploaded_customers);
   * ```
   */
  async retrieve(uploadId: string, options?: RequestOptions): Promise<WithLastResponse<Upload>> {
    const init: CallInit = {
      method: "GET",
      path: `${API}/upload/${encodePathSegment(uploadId)}`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(UploadEnvelopeSchema, received, init);
    return withMeta(body.upload, received.status, received.response);
  }

  /**
   * Cancels an upload (`DELETE /v2/recapture/upload/{id}`): no more customers are created. The
   * answer is the upload as the API returns it, plus `outcome`: `"cancelled"`, or
   * `"already_completed"` when every customer had been processed (nothing was cancelled; the
   * customers stay).
   *
   * @example
   * ```ts ignore
   * const u = await client.uploads.cancel("upl_123");
   * console.log(u.status, u.outcome.result); // "cancelled" "cancelled"
   * ```
   */
  async cancel(uploadId: string, options?: RequestOptions): Promise<CancelledUpload> {
    const init: CallInit = {
      method: "DELETE",
      path: `${API}/upload/${encodePathSegment(uploadId)}`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(UploadEnvelopeSchema, received, init);
    const upload = withMeta(body.upload, received.status, received.response);
    // Judged by the counters (the documented fields): a status of "cancelled" is also what a
    // second cancel answers, and what a cancel of an upload processed to the end may answer.
    const notProcessed = Math.max(
      0,
      upload.total_uploaded_customers - upload.total_processed_customers,
    );
    const outcome: UploadCancelOutcome = {
      result: notProcessed === 0 ? "already_completed" : "cancelled",
      notProcessed,
    };
    Object.defineProperty(upload, "outcome", { value: outcome, enumerable: false });
    return upload as CancelledUpload;
  }

  /**
   * Polls an upload until it is done (processed == uploaded, or completed, or cancelled),
   * calling `onProgress` with every state. Throws {@link TimeoutError} after `deadlineMs` and
   * {@link AbortError} when `signal` aborts.
   *
   * @example
   * ```ts ignore
   * const done = await client.uploads.wait("upl_123", {
   *   intervalMs: 2000,
   *   deadlineMs: 10 * 60_000,
   *   onProgress: (u) => console.log(`${u.total_processed_customers}/${u.total_uploaded_customers}`),
   * });
   * ```
   */
  async wait(uploadId: string, options?: UploadWaitOptions): Promise<WithLastResponse<Upload>> {
    const interval = checkDelay(options?.intervalMs ?? 1000, "intervalMs", 0);
    const deadline = options?.deadlineMs === undefined
      ? Infinity
      : Date.now() + checkDelay(options.deadlineMs, "deadlineMs", 0);
    const what = `waiting for upload ${uploadId}`;
    const userSignal = options?.signal;
    // The overall bound: a poll (and its retries and their waits) never runs past it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let signal = userSignal;
    let past: AbortSignal | undefined;
    if (deadline !== Infinity) {
      const controller = new AbortController();
      timer = setTimeout(() => controller.abort(), deadline - Date.now() + WAIT_FINAL_POLL_MS);
      past = controller.signal;
      signal = userSignal === undefined ? past : AbortSignal.any([userSignal, past]);
    }
    const pollOptions = { ...options, signal };
    let upload: WithLastResponse<Upload> | undefined;
    const timedOut = () =>
      new TimeoutError(
        `${what}: not finished within ${options?.deadlineMs} ms (${
          upload === undefined
            ? "no answer yet"
            : `${upload.total_processed_customers}/${upload.total_uploaded_customers} processed`
        })`,
      );
    try {
      while (true) {
        try {
          upload = await this.retrieve(uploadId, pollOptions);
        } catch (error) {
          if (past?.aborted && !userSignal?.aborted) throw timedOut();
          throw error;
        }
        options?.onProgress?.(upload);
        if (isUploadDone(upload)) return upload;
        const left = deadline - Date.now();
        if (left <= 0) throw timedOut();
        try {
          // The last poll happens at the deadline itself.
          await sleep(Math.min(interval, left), userSignal);
        } catch (cause) {
          throw new AbortError(`${what} was aborted`, { cause });
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** How long `uploads.wait` lets a poll that is still running at its deadline go on (ms). */
const WAIT_FINAL_POLL_MS = 2000;

/**
 * Whether an upload has finished: `completed` or `cancelled`; without a known status, when
 * every uploaded customer has been processed.
 *
 * @example
 * ```ts
 * import { isUploadDone } from "@recapture/sdk";
 * console.log(isUploadDone({
 *   id: "u1", total_uploaded_customers: 3, total_processed_customers: 3, total_errors: 0,
 * })); // true
 * ```
 */
export function isUploadDone(upload: Upload): boolean {
  const s = upload.status;
  if (s === "completed" || s === "cancelled") return true;
  if (s === "queued" || s === "processing") return false;
  return upload.total_uploaded_customers > 0 &&
    upload.total_processed_customers >= upload.total_uploaded_customers;
}

/**
 * `client.customers`: list, walk, get, update and delete tracked customers.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox(); // in memory
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * const upload = await client.uploads.create({ name: "Q1", customers: [{ vin: "1HGCM82633A004352" }] });
 * await client.uploads.wait(upload.id, { intervalMs: 20 });
 * const { customers } = await client.customers.list({ upload_id: upload.id });
 * const updated = await client.customers.update(customers[0].id, { client_name: "Jo Citizen" });
 * console.log(updated.client_name); // "Jo Citizen"
 * await client.customers.delete(updated.id);
 * await sandbox.close();
 * ```
 */
export class Customers {
  #client: RecaptureClient;
  #transport: Transport;

  /**
   * Creates an instance.
   *
   * @param client the owning client
   * @param transport its request loop
   */
  constructor(client: RecaptureClient, transport: Transport) {
    this.#client = client;
    this.#transport = transport;
  }

  /**
   * Lists one page of customers (`GET /v2/recapture/customers`).
   *
   * @example
   * ```ts ignore
   * const page = await client.customers.list({ limit: 100, upload_id: "upl_123" });
   * console.log(page.total, page.customers.length);
   * ```
   */
  async list(
    params?: CustomerListParams,
    options?: RequestOptions,
  ): Promise<WithLastResponse<CustomerPage>> {
    const query = new URLSearchParams();
    if (params?.offset !== undefined) {
      query.set("offset", String(Math.floor(checkCount(params.offset, "offset", 0))));
    }
    if (params?.limit !== undefined) {
      const limit = Math.floor(checkCount(params.limit, "limit", 1));
      if (limit > 1000) throw new RangeError(`limit must be at most 1000, got ${limit}`);
      query.set("limit", String(limit));
    }
    if (params?.upload_id !== undefined) {
      if (typeof params.upload_id !== "string" || params.upload_id === "") {
        throw new TypeError("upload_id must be a non-empty string");
      }
      query.set("upload_id", params.upload_id);
    }
    const init: CallInit = {
      method: "GET",
      path: `${API}/customers`,
      query,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(CustomerPageSchema, received, init);
    return withMeta(body, received.status, received.response);
  }

  /**
   * Yields every customer, page by page (optionally of one upload).
   *
   * @example
   * ```ts ignore
   * for await (const c of client.customers.iterate({ upload_id: "upl_123", pageSize: 500 })) {
   *   console.log(c.id);
   * }
   * ```
   */
  iterate(
    params?: CustomerIterateParams,
    options?: RequestOptions,
  ): AsyncIterableIterator<Customer> {
    const pageSize = params?.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer from 1 to 1000, got ${pageSize}`);
    }
    return iteratePages(async (offset, limit) => {
      const page = await this.list({ offset, limit, upload_id: params?.upload_id }, options);
      return { items: page.customers, total: page.total };
    }, { pageSize });
  }

  /**
   * Gets one customer (`GET /v2/recapture/customers/{id}`).
   *
   * @example
   * ```ts ignore
   * const c = await client.customers.retrieve("cus_123");
   * console.log(c.vin, c.sightings?.length);
   * ```
   */
  async retrieve(
    customerId: string,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Customer>> {
    const init: CallInit = {
      method: "GET",
      path: `${API}/customers/${encodePathSegment(customerId)}`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(CustomerEnvelopeSchema, received, init);
    return withMeta(body.customer, received.status, received.response);
  }

  /**
   * Changes some of `client_name`, `mobile_number`, `sale_date`, `expiry_date`
   * (`PATCH /v2/recapture/customers/{id}`); `""` sets a field to null.
   *
   * @example
   * ```ts ignore
   * const c = await client.customers.update("cus_123", { mobile_number: "", expiry_date: "2027-01-31" });
   * ```
   */
  async update(
    customerId: string,
    params: CustomerUpdateParams,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Customer>> {
    const path = `${API}/customers/${encodePathSegment(customerId)}`;
    const issues = checkUpdateParams(params);
    if (issues.length > 0) throw new ValidationError(issues);
    const init: CallInit = {
      method: "PATCH",
      path,
      json: params,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(CustomerEnvelopeSchema, received, init);
    return withMeta(body.customer, received.status, received.response);
  }

  /**
   * Deletes a customer (`DELETE /v2/recapture/customers/{id}`) and returns it.
   *
   * @example
   * ```ts ignore
   * const gone = await client.customers.delete("cus_123");
   * ```
   */
  async delete(
    customerId: string,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Customer>> {
    const init: CallInit = {
      method: "DELETE",
      path: `${API}/customers/${encodePathSegment(customerId)}`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(CustomerEnvelopeSchema, received, init);
    return withMeta(body.customer, received.status, received.response);
  }
}

/** A webhook configuration: where AutoGrab pushes which events. Extra fields are kept. */
export interface Webhook {
  /** The webhook id. */
  id: string;
  /** A name for reference. */
  name?: string | null;
  /** Its region. */
  region?: string | null;
  /** Payload format (only `json`). */
  format?: string | null;
  /** The URL pushed to (it may carry a secret token: treat it as a secret). */
  endpoint?: string | null;
  /** The subscribed event names. */
  events?: string[] | null;
  /** Creation time (ISO 8601). */
  created_at?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** The body of `webhooks.create`. */
export interface WebhookCreateParams {
  /** A name for reference. */
  name: string;
  /** The https URL AutoGrab pushes to; put an unguessable token in it (path or query). */
  endpoint: string;
  /** The events to receive (default: all three Recapture events). */
  events?: RecaptureAlertEventName[];
  /** Payload format (default and only value: `json`). */
  format?: "json";
}

/** What `webhooks.list` returns. */
export interface WebhookList {
  /** The account's webhooks in the region. */
  webhooks: Webhook[];
  /** Fields the SDK does not know yet (e.g. `success`). */
  [key: string]: unknown;
}

const WEBHOOKS = "/v2/webhooks";

function checkWebhookParams(params: WebhookCreateParams): RowIssue[] {
  const issues: RowIssue[] = [];
  const add = (field: string, reason: string) => issues.push({ index: -1, field, reason });
  if (typeof params !== "object" || params === null) {
    add("", "params must be an object");
    return issues;
  }
  if (typeof params.name !== "string" || params.name.trim() === "") {
    add("name", "must be a non-empty string");
  }
  let url: URL | null = null;
  try {
    url = new URL(String(params.endpoint));
  } catch {
    add("endpoint", "must be an absolute URL");
  }
  if (url && url.protocol !== "https:" && url.protocol !== "http:") {
    add("endpoint", `must be an http(s) URL, got ${url.protocol}`);
  }
  if (params.format !== undefined && params.format !== "json") {
    add("format", `must be "json", got ${String(params.format)}`);
  }
  if (params.events !== undefined) {
    if (!Array.isArray(params.events) || params.events.length === 0) {
      add("events", "must be a non-empty list");
    } else {
      for (const [i, e] of params.events.entries()) {
        if (!(RECAPTURE_ALERT_EVENTS as readonly unknown[]).includes(e)) {
          add(
            `events[${i}]`,
            `must be one of ${RECAPTURE_ALERT_EVENTS.join(", ")}, got ${String(e)}`,
          );
        }
      }
    }
  }
  return issues;
}

/**
 * `client.webhooks`: register, list, get, delete and ping alert webhooks (`/v2/webhooks`).
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * // The sandbox pushes alerts through `pushFetch`; here they are answered in process.
 * const sandbox = await createSandbox({ pushFetch: () => Promise.resolve(new Response("ok")) });
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * const hook = await client.webhooks.create({
 *   name: "CRM alerts",
 *   endpoint: "https://edge.example.com/alerts/token_0123456789",
 * });
 * console.log((await client.webhooks.ping(hook.id)).event?.event); // "ping"
 * await client.webhooks.delete(hook.id);
 * await sandbox.idle();
 * await sandbox.close();
 * ```
 */
export class Webhooks {
  #client: RecaptureClient;
  #transport: Transport;

  /**
   * Creates an instance.
   *
   * @param client the owning client
   * @param transport its request loop
   */
  constructor(client: RecaptureClient, transport: Transport) {
    this.#client = client;
    this.#transport = transport;
  }

  /**
   * Registers a webhook (`POST /v2/webhooks`). Checked first (a {@link ValidationError} names
   * each bad field). Like uploads, never blindly retried: only on 429 or when the request
   * provably never reached the server.
   *
   * @example
   * ```ts ignore
   * const hook = await client.webhooks.create({
   *   name: "CRM alerts",
   *   endpoint: "https://edge.example.com/alerts/3f9c...e1",
   *   events: ["recapture_new", "recapture_price_change", "recapture_delist"],
   * });
   * ```
   */
  async create(
    params: WebhookCreateParams,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Webhook>> {
    const issues = checkWebhookParams(params);
    if (issues.length > 0) throw new ValidationError(issues);
    const region = checkRegion(options?.region ?? this.#client.region, "region");
    const init: CallInit = {
      method: "POST",
      path: WEBHOOKS,
      json: {
        name: params.name,
        region,
        format: params.format ?? "json",
        endpoint: params.endpoint,
        events: params.events ?? [...RECAPTURE_ALERT_EVENTS],
      },
      retry: "unsent-only",
    };
    const received = await send(this.#client, this.#transport, init, { ...options, region });
    const body = parsed(WebhookEnvelopeSchema, received, init);
    return withMeta(body.webhook, received.status, received.response);
  }

  /**
   * Lists the account's webhooks in the region (`GET /v2/webhooks`).
   *
   * @example
   * ```ts ignore
   * const { webhooks } = await client.webhooks.list();
   * ```
   */
  async list(options?: RequestOptions): Promise<WithLastResponse<WebhookList>> {
    const init: CallInit = { method: "GET", path: WEBHOOKS, retry: "idempotent" };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(WebhookListSchema, received, init);
    return withMeta(body, received.status, received.response);
  }

  /**
   * Gets one webhook (`GET /v2/webhooks/{id}`).
   *
   * @example
   * ```ts ignore
   * const hook = await client.webhooks.retrieve("wh_123");
   * ```
   */
  async retrieve(webhookId: string, options?: RequestOptions): Promise<WithLastResponse<Webhook>> {
    const init: CallInit = {
      method: "GET",
      path: `${WEBHOOKS}/${encodePathSegment(webhookId)}`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(WebhookEnvelopeSchema, received, init);
    return withMeta(body.webhook, received.status, received.response);
  }

  /**
   * Deletes a webhook permanently (`DELETE /v2/webhooks/{id}`) and returns its configuration.
   *
   * @example
   * ```ts ignore
   * const gone = await client.webhooks.delete("wh_123");
   * ```
   */
  async delete(webhookId: string, options?: RequestOptions): Promise<WithLastResponse<Webhook>> {
    const init: CallInit = {
      method: "DELETE",
      path: `${WEBHOOKS}/${encodePathSegment(webhookId)}`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(WebhookEnvelopeSchema, received, init);
    return withMeta(body.webhook, received.status, received.response);
  }

  /**
   * Asks AutoGrab to push a `ping` event to the webhook (`POST /v2/webhooks/{id}/ping`); returns
   * the answer: `{ success: true }` as documented, with the `event` sent when the API names it
   * (`null` otherwise). Retried like any call that is safe to repeat (a second ping is harmless).
   *
   * @example
   * ```ts ignore
   * const ping = await client.webhooks.ping("wh_123");
   * console.log(ping.event?.id); // the event id the endpoint will receive, when the API says it
   * ```
   */
  async ping(webhookId: string, options?: RequestOptions): Promise<WithLastResponse<PingResult>> {
    const init: CallInit = {
      method: "POST",
      path: `${WEBHOOKS}/${encodePathSegment(webhookId)}/ping`,
      retry: "idempotent",
    };
    const received = await send(this.#client, this.#transport, init, options);
    const body = parsed(PingEnvelopeSchema, received, init);
    const result: PingResult = { ...body, event: body.event ?? null };
    return withMeta(result, received.status, received.response);
  }
}
