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
import { ApiKeyAuth, type Auth, OAuthAuth } from "./_oauth.ts";
import { callLimits, checkCount, checkDelay, checkRegion } from "./_args.ts";
import { Caller } from "./_call.ts";
import { type BackoffOptions, resolveBackoff } from "./_retry.ts";
import { type FetchLike, type RecaptureLogger, Transport } from "./_transport.ts";
import { Customers } from "./customers.ts";
import type { Region } from "./schemas.ts";
import { Uploads } from "./uploads.ts";
import { Webhooks } from "./webhooks.ts";
import { HTTPS_RULE, isHttpsOrLoopback } from "./_url.ts";

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
  /**
   * OAuth token URL. Default `${baseUrl}/auth-broker/request-token`. Like `baseUrl`, https (http
   * only to a loopback host).
   */
  tokenUrl?: string;
  /** Default region (default `au`). */
  region?: Region;
  /**
   * API base URL (default `https://api.autograb.com.au`). Must be https, or http only to
   * `localhost`, `127.0.0.0/8` or `[::1]` (a local sandbox): the key goes with every request.
   */
  baseUrl?: string;
  /** The fetch to send through (default `globalThis.fetch`), e.g. a sandbox's `app.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
  /** Per-attempt timeout in ms, body read included (default 30000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** Backoff tuning (defaults: base 500 ms, max 8 s, server-asked waits capped at 60 s). */
  retry?: BackoffOptions;
  /** Where to log attempts and retries (never headers, bodies or secrets). */
  logger?: RecaptureLogger;
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

const DEFAULT_BASE_URL = "https://api.autograb.com.au";

/**
 * Throws a TypeError unless `value` is an absolute URL that keeps the credentials sent to it off
 * the network in clear text ({@link HTTPS_RULE}).
 */
function checkSecretUrl(value: string, name: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL, got ${value}`);
  }
  if (!isHttpsOrLoopback(url)) {
    throw new TypeError(
      `${name} must be ${HTTPS_RULE}, got ${url.protocol}//${url.host}: credentials would ` +
        "cross the network in clear text",
    );
  }
}
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

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
    checkSecretUrl(this.baseUrl, "baseUrl");
    const timeoutMs = checkDelay(o.timeoutMs ?? 30_000, "timeoutMs", 1);
    const maxRetries = checkCount(o.maxRetries ?? 2, "maxRetries", 0);
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
      if (typeof o.apiKey !== "string" || o.apiKey.trim() === "") {
        throw new TypeError("apiKey must be a non-empty string");
      }
      // A header cannot carry it (fetch fails, or sends it cut): say so now, without the key.
      // deno-lint-ignore no-control-regex
      if (/[\0-\x1f\x7f]/.test(o.apiKey.trim())) {
        throw new TypeError("apiKey has a line break or control character inside it");
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
      if (o.tokenUrl !== undefined) checkSecretUrl(tokenUrl, "tokenUrl");
      auth = new OAuthAuth(
        o.clientId,
        o.clientSecret,
        (id, secret) => transport.fetchToken(tokenUrl, id, secret),
      );
    }
    transport.config.auth = auth;
    this.#transport = transport;
    const caller = new Caller(this.region, transport);
    this.uploads = new Uploads(caller);
    this.customers = new Customers(caller);
    this.webhooks = new Webhooks(caller);
  }

  /**
   * Sends one request with the client's auth, region, timeout and retries, and returns the final
   * upstream Response whatever its status. The request itself throws only
   * {@link ConnectionError}, {@link TimeoutError} or {@link AbortError}; with OAuth, fetching the
   * token first can also throw what any call's token fetch throws ({@link AuthenticationError}
   * for a refused client secret, or another {@link RecaptureApiError} or
   * {@link UnexpectedResponseError} from the token endpoint). A bad argument (`path`, `region`,
   * `timeoutMs`, `maxRetries`) throws a TypeError or RangeError before anything is sent. Retries only idempotent requests, or any request that
   * provably never reached the server (refused connection, DNS) or got a 429.
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
