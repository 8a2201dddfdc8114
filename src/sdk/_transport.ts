/**
 * The request loop: auth, region, timeout per attempt (covering the body read), the caller's
 * signal, retries with jittered backoff, rate-limit headers, and secret redaction.
 * @module
 */
import type { Auth, AuthHeader } from "./_oauth.ts";
import { basicAuth, type TokenAnswer } from "./_oauth.ts";
import {
  AbortError,
  ConnectionError,
  RecaptureError,
  TimeoutError,
  UnexpectedResponseError,
} from "./errors.ts";
import {
  apiError,
  errorMessage,
  isQuotaExhausted,
  parseBody,
  requestedDelayMs,
} from "./_response.ts";
import {
  type Backoff,
  isRetryableStatus,
  provablyNotSent,
  raceSignal,
  retryDelayMs,
} from "./_retry.ts";
import { sleep } from "../_internal/sleep.ts";
import { TokenSchema } from "./schemas.ts";
import type { Region } from "./schemas.ts";

/**
 * Where the SDK logs (e.g. `console`). Every method is optional. Lines never carry headers,
 * bodies or secrets: only method, path, attempt, status and timings.
 */
export interface RecaptureLogger {
  /** Each attempt and its outcome. */
  debug?(message: string, fields?: Record<string, unknown>): void;
  /** Retries. */
  warn?(message: string, fields?: Record<string, unknown>): void;
}

/** The `fetch` the client sends through: anything that turns a Request into a Response. */
export type FetchLike = (input: Request) => Promise<Response>;

/** Resolved client settings. */
export interface TransportConfig {
  baseUrl: string;
  /** A custom fetch, or null for the platform's `fetch` (called as `fetch(url, init)`). */
  fetch: FetchLike | null;
  auth: Auth | null;
  region: Region;
  timeoutMs: number;
  maxRetries: number;
  backoff: Backoff;
  logger: RecaptureLogger | undefined;
  random?: () => number;
  now?: () => number;
}

/** One logical request (possibly several attempts). */
export interface SendOptions {
  method: string;
  /** Path starting with `/`, segments already percent-encoded. Ignored when `url` is given. */
  path: string;
  /** Absolute URL (the OAuth token endpoint). */
  url?: string;
  query?: URLSearchParams;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: HeadersInit;
  /** Region to add as `?region=` (unless the query has one); null for none. */
  region: Region | null;
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
  /**
   * `idempotent`: retry any retryable failure. `unsent-only`: retry only when the request
   * provably never reached the server (refused connection, DNS) or the server said 429.
   */
  retry: "idempotent" | "unsent-only";
  /** Send the client's credentials (default true). */
  auth?: boolean;
}

/**
 * A final answer: its status, the Response (its `headers` are read only when needed: building a
 * Headers object costs more than a loopback request's budget allows) and, for a full read, the
 * body text ("" for a raw call).
 */
export interface Received {
  status: number;
  response: Response;
  text: string;
}

type Failure =
  | { kind: "network"; error: unknown; maybeSent: boolean }
  | { kind: "timeout" }
  | { kind: "status"; response: Response; text: string | null };

const TIMEOUT = Symbol("timeout");

/**
 * For each error the request loop throws: whether the request may have taken effect at the API
 * although it failed (see {@link mayHaveTakenEffect}).
 */
const TOOK_EFFECT = new WeakMap<object, boolean>();

/**
 * Whether the request that failed with `error` may have taken effect at the API, its answer
 * lost: an attempt timed out, lost its connection after it may have been sent, got a 5xx, or was
 * aborted while in flight. `false` when every attempt was refused or provably never sent;
 * `undefined` when the request loop did not throw `error` (it ended in a 2xx answer: the request
 * took effect, and the error came from reading that answer).
 */
export function mayHaveTakenEffect(error: unknown): boolean | undefined {
  return typeof error === "object" && error !== null ? TOOK_EFFECT.get(error) : undefined;
}

/**
 * `error` with `note` after its message when a create (a POST the loop never retries blindly) may
 * have taken effect although it failed: it may have ({@link mayHaveTakenEffect}), or the API
 * answered 2xx and the answer could not be read. A copy of the same class, fields and code, with
 * the original as its cause; else `error` itself.
 */
export function noteIfCreated(error: unknown, note: string): unknown {
  const effect = mayHaveTakenEffect(error);
  if (effect === false || !(error instanceof RecaptureError)) return error;
  if (effect === undefined && !(error instanceof UnexpectedResponseError)) return error;
  // Every class a create can fail with takes (message, options), its fields among the options.
  const Same = error.constructor as new (message: string, options: object) => RecaptureError;
  const noted = new Same(`${error.message}. ${note}`, { ...error, cause: error });
  MAY_HAVE_CREATED.add(noted);
  return noted;
}

/** The errors {@link noteIfCreated} made: creates that may have happened although they failed. */
const MAY_HAVE_CREATED = new WeakSet<object>();

/**
 * Whether `error` is a failed create (an upload, a webhook) that may have happened all the same,
 * so that sending it again may make it twice (the MCP server's advice reads it).
 */
export function mayHaveBeenCreated(error: unknown): boolean {
  return typeof error === "object" && error !== null && MAY_HAVE_CREATED.has(error);
}

/** Whether an answer of this status leaves the outcome unknown: a 2xx, or a 5xx. */
function answerMayHaveTakenEffect(status: number): boolean {
  return status < 400 || status >= 500;
}

/** The request loop shared by every operation. */
export class Transport {
  readonly config: TransportConfig;
  #now: () => number;
  #plain: { auth: AuthHeader | null; headers: HeadersInit } | null = null;
  #lastTimeout: { at: number; ms: number; signal: AbortSignal } | null = null;

  /** @param config resolved settings */
  constructor(config: TransportConfig) {
    this.config = config;
    this.#now = config.now ?? Date.now;
  }

  /** Sends and reads the whole body; non-2xx answers become typed API errors. */
  request(opts: SendOptions): Promise<Received> {
    return this.#loop(opts, true);
  }

  /** Sends and returns the final Response whatever its status (body unread). */
  async raw(opts: SendOptions): Promise<Response> {
    return (await this.#loop(opts, false)).response;
  }

  /** Fetches an OAuth token (no auth, form body, HTTP Basic client credentials). */
  async fetchToken(
    url: string,
    clientId: string,
    clientSecret: string,
  ): Promise<TokenAnswer> {
    const received = await this.request({
      method: "POST",
      path: "",
      url,
      region: null,
      auth: false,
      retry: "idempotent",
      body: "grant_type=client_credentials",
      contentType: "application/x-www-form-urlencoded",
      headers: { authorization: basicAuth(clientId, clientSecret) },
    });
    const token = parseBody(TokenSchema, received.text, {
      status: received.status,
      response: received.response,
      what: "the OAuth token request",
    });
    return { accessToken: token.access_token, expiresIn: token.expires_in ?? 3599 };
  }

  /** Replaces every secret (key, client secret, tokens) in `text` with `[redacted]`. */
  redact(text: string): string {
    const secrets = this.config.auth?.secrets() ?? [];
    let out = text;
    for (const s of secrets) if (s.length >= 4) out = out.replaceAll(s, "[redacted]");
    return out;
  }

  #url(opts: SendOptions): string {
    const base = opts.url ?? `${this.config.baseUrl}${opts.path}`;
    if ((opts.query === undefined || opts.query.size === 0) && opts.region !== null) {
      return `${base}?region=${opts.region}`;
    }
    const query = new URLSearchParams(opts.query);
    if (opts.region !== null && !query.has("region")) query.set("region", opts.region);
    const qs = query.toString();
    return qs === "" ? base : `${base}${base.includes("?") ? "&" : "?"}${qs}`;
  }

  /**
   * The final answer of a call: a non-2xx status of a full read becomes a typed API error.
   * `retriedDelete`: a DELETE retried after an attempt that may have taken effect (a 404 then
   * says that attempt may have deleted it).
   */
  #answer(
    response: Response,
    status: number,
    text: string | null,
    read: boolean,
    retriedDelete: boolean,
  ): Received {
    const body = text ?? "";
    if (read && (status < 200 || status >= 300)) {
      // Redacted before `errorMessage` cuts a long text: a secret across the cut would no longer
      // match in full, and its first part would stay in the message.
      const message = status >= 300 && status < 400
        ? redirectMessage(status, response.headers.get("location"))
        : errorMessage(this.redact(body));
      throw apiError(
        status,
        response.headers,
        message === null ? null : this.redact(message),
        this.#now(),
        retriedDelete,
      );
    }
    return { status, response, text: body };
  }

  async #loop(opts: SendOptions, read: boolean): Promise<Received> {
    const cfg = this.config;
    const url = this.#url(opts);
    const timeoutMs = opts.timeoutMs ?? cfg.timeoutMs;
    const maxRetries = opts.maxRetries ?? cfg.maxRetries;
    const userSignal = opts.signal;
    const auth = opts.auth === false ? null : cfg.auth;
    let authRetried = false;
    let retries = 0;
    // Whether an attempt so far may have taken effect at the API with its answer lost.
    let tookEffect = false;

    try {
      for (let attempt = 1;; attempt++) {
        if (userSignal?.aborted) throw this.#aborted(describeCall(opts), userSignal);
        let authHeader: AuthHeader | null = null;
        if (auth !== null) {
          try {
            authHeader = auth.current() ?? await auth.header(userSignal);
          } catch (error) {
            if (userSignal?.aborted) throw this.#aborted(describeCall(opts), userSignal);
            throw error instanceof RecaptureError ? error : new ConnectionError(
              `Could not authenticate ${describeCall(opts)}: ${this.redact(String(error))}`,
            );
          }
        }
        const headers = this.#headers(opts.headers, opts.contentType, authHeader);

        // Per-attempt timeout, body read included. A raw call hands the body to the caller, so its
        // timer is cleared once the headers are in.
        let timer: ReturnType<typeof setTimeout> | undefined;
        let timeoutSignal: AbortSignal;
        if (read) timeoutSignal = this.#timeoutSignal(timeoutMs);
        else {
          const controller = new AbortController();
          timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs);
          timeoutSignal = controller.signal;
        }
        const signal = userSignal === undefined
          ? timeoutSignal
          : AbortSignal.any([userSignal, timeoutSignal]);
        const started = cfg.logger === undefined ? 0 : this.#now();
        let failure: Failure | null = null;
        let response: Response | null = null;
        let text: string | null = null;
        // Only what differs from fetch's defaults: each member given costs a conversion. Redirects
        // are not followed: fetch would carry the `ApiKey` header (and an upload's body) to wherever
        // the Location points, another host included.
        const init: RequestInit = { headers, signal, redirect: "manual" };
        if (opts.method !== "GET") init.method = opts.method;
        if (opts.body !== undefined) init.body = opts.body as BodyInit;
        // The platform fetch honours the signal for the headers and the body; a custom fetch (an
        // app's fetch, a mock) may not, so it is raced against the signal.
        const custom = cfg.fetch;
        try {
          try {
            response = custom === null
              ? await globalThis.fetch(url, init)
              : await raceSignal(custom(new Request(url, init)), signal);
          } catch (error) {
            failure = signal.aborted
              ? (userSignal?.aborted ? null : { kind: "timeout" })
              : { kind: "network", error, maybeSent: !provablyNotSent(error) };
            // Aborted or timed out in flight, or lost after it may have been sent.
            if (failure?.kind !== "network" || failure.maybeSent) tookEffect = true;
            if (userSignal?.aborted) throw this.#aborted(describeCall(opts), userSignal);
          }
          if (response !== null && (read || response.status === 429)) {
            const source = read ? response : response.clone();
            try {
              text = custom === null
                ? await source.text()
                : await raceSignal(source.text(), signal);
            } catch (error) {
              source.body?.cancel().catch(() => {});
              if (answerMayHaveTakenEffect(response.status)) tookEffect = true;
              if (userSignal?.aborted) throw this.#aborted(describeCall(opts), userSignal);
              failure = signal.aborted ? { kind: "timeout" } : {
                kind: "network",
                error,
                maybeSent: true,
              };
              response = null;
            }
          }
        } finally {
          clearTimeout(timer);
        }

        if (response !== null) {
          const status = response.status;
          if (cfg.logger !== undefined) {
            cfg.logger.debug?.("recapture response", {
              method: opts.method,
              path: opts.path || "token",
              attempt,
              status,
              ms: this.#now() - started,
            });
          }
          // The common case first: a success is never retried.
          if (status >= 200 && status < 300) {
            return this.#answer(response, status, text, read, false);
          }
          // Known before this answer: a 404 to a DELETE after such an attempt may be its doing.
          const retriedDelete = tookEffect && opts.method === "DELETE";
          if (status >= 500) tookEffect = true;
          if (status === 401 && auth !== null && !authRetried && auth.refused(authHeader)) {
            authRetried = true;
            if (!read) await response.body?.cancel().catch(() => {});
            continue;
          }
          const retryable = isRetryableStatus(status) &&
            !(status === 429 &&
              isQuotaExhausted(response.headers, text === null ? null : errorMessage(text))) &&
            (opts.retry === "idempotent" || status === 429);
          if (!retryable || retries >= maxRetries) {
            return this.#answer(response, status, text, read, retriedDelete);
          }
          failure = { kind: "status", response, text };
        }

        // A failure: retry or give up.
        const f = failure as Failure;
        const mayRetry = retries < maxRetries && (
          f.kind === "status" ||
          opts.retry === "idempotent" ||
          (f.kind === "network" && !f.maybeSent)
        );
        if (!mayRetry) {
          if (f.kind === "timeout") {
            throw new TimeoutError(
              `${describeCall(opts)} timed out after ${timeoutMs} ms (attempt ${attempt})`,
            );
          }
          if (f.kind === "network") {
            throw new ConnectionError(
              `${describeCall(opts)} failed (attempt ${attempt}): ${
                this.redact(describe(f.error))
              }`,
              { cause: this.#safeCause(f.error) },
            );
          }
          // Unreachable: a status failure is always retried while retries are left.
          return this.#answer(f.response, f.response.status, f.text, read, false);
        }
        const requested = f.kind === "status"
          ? requestedDelayMs(f.response.status, f.response.headers, this.#now())
          : null;
        const delay = retryDelayMs(retries, requested, cfg.backoff, cfg.random);
        retries++;
        if (f.kind === "status" && !read) await f.response.body?.cancel().catch(() => {});
        cfg.logger?.warn?.("recapture retry", {
          method: opts.method,
          path: opts.path || "token",
          attempt,
          reason: f.kind === "status" ? `HTTP ${f.response.status}` : f.kind,
          delayMs: delay,
        });
        try {
          await sleep(delay, userSignal);
        } catch {
          throw this.#aborted(describeCall(opts), userSignal as AbortSignal);
        }
      }
    } catch (error) {
      // Set (or overwritten) for every error thrown: an OAuth token request's own error passes
      // through here with this request's verdict, not the token request's.
      if (typeof error === "object" && error !== null) TOOK_EFFECT.set(error, tookEffect);
      throw error;
    }
  }

  /**
   * The request headers. Without caller headers or a body, the same plain object is reused
   * while the auth header stays the same (fetch only reads it).
   */
  #headers(
    extra: HeadersInit | undefined,
    contentType: string | undefined,
    auth: AuthHeader | null,
  ): HeadersInit {
    if (extra !== undefined || contentType !== undefined) {
      return buildHeaders(extra, contentType, auth);
    }
    const cached = this.#plain;
    if (cached !== null && cached.auth === auth) return cached.headers;
    const headers = buildHeaders(undefined, undefined, auth);
    this.#plain = { auth, headers };
    return headers;
  }

  /**
   * The timeout of an attempt that reads its answer whole: an `AbortSignal.timeout`, which needs
   * no clearing, shared by the attempts that start in the same millisecond with the same timeout
   * (timers count whole milliseconds: none of them ends later than asked, nor a whole millisecond
   * sooner).
   * Needed by bench/client.ts's guard of ≤ 20 µs added per request against a loopback server: on
   * Deno, arming and clearing a setTimeout per request costs ~12 µs there, an AbortSignal.timeout
   * ~5 µs, and each one holds ~0.4 KB until it fires.
   */
  #timeoutSignal(ms: number): AbortSignal {
    const at = Date.now();
    const last = this.#lastTimeout;
    if (last !== null && last.at === at && last.ms === ms && !last.signal.aborted) {
      return last.signal;
    }
    const signal = AbortSignal.timeout(ms);
    this.#lastTimeout = { at, ms, signal };
    return signal;
  }

  #aborted(what: string, signal: AbortSignal): AbortError {
    return new AbortError(`${what} was aborted`, { cause: this.#safeCause(signal.reason) });
  }

  /**
   * The error itself when no secret appears anywhere in its cause chain, else a redacted copy. An
   * error carrying anything beyond the usual fields (a wrapper may attach the `Request`, whose
   * headers hold the key) is copied too: what such a field holds cannot be checked.
   */
  #safeCause(error: unknown): unknown {
    return this.#leaks(error, 0) ? this.#redactedCopy(error, 0) : error;
  }

  #leaks(error: unknown, depth: number): boolean {
    if (depth > 8 || error === undefined || error === null) return false;
    if (typeof error !== "object") return this.redact(String(error)) !== String(error);
    for (const key of Object.getOwnPropertyNames(error)) {
      if (!PLAIN_ERROR_FIELDS.has(key)) return true;
      const value = (error as Record<string, unknown>)[key];
      if (key !== "cause" && value !== null && typeof value === "object") return true;
    }
    const e = error as { message?: unknown; stack?: unknown; cause?: unknown };
    const text = `${String(e.message ?? "")}\n${String(e.stack ?? "")}`;
    return this.redact(text) !== text || this.#leaks(e.cause, depth + 1);
  }

  #redactedCopy(error: unknown, depth: number): unknown {
    if (depth > 8 || error === undefined || error === null) return undefined;
    if (typeof error !== "object") return this.redact(String(error));
    const e = error as { name?: unknown; message?: unknown; stack?: unknown; cause?: unknown };
    const cause = this.#redactedCopy(e.cause, depth + 1);
    const copy = new Error(
      this.redact(String(e.message ?? "")),
      cause === undefined ? undefined : { cause },
    );
    copy.name = typeof e.name === "string" ? e.name : "Error";
    copy.stack = this.redact(String(e.stack ?? copy.stack));
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") Object.assign(copy, { code: this.redact(code) });
    return copy;
  }
}

/**
 * The fields of a platform's network error (Deno, Node, undici, Workers): an error made only of
 * these, with no secret in them, is kept as the cause as it is.
 */
const PLAIN_ERROR_FIELDS = new Set([
  "message",
  "stack",
  "cause",
  "name",
  "code",
  "errno",
  "syscall",
  "address",
  "port",
  "hostname",
]);

/**
 * The request headers: the caller's (if any), `accept`, `content-type`, and the auth header
 * replacing any `ApiKey` / `Authorization` the caller gave. A plain object when there are no
 * caller headers (cheaper for the platform fetch than a Headers object).
 */
function buildHeaders(
  extra: HeadersInit | undefined,
  contentType: string | undefined,
  auth: AuthHeader | null,
): HeadersInit {
  // A plain record: `fetch` converts a `Headers` object again, which costs more than this does.
  const h: Record<string, string> = {};
  if (extra !== undefined) {
    const add = (value: string, name: string) => {
      const key = name.toLowerCase();
      h[key] = key in h ? `${h[key]}, ${value}` : value;
    };
    if (extra instanceof Headers) extra.forEach(add);
    else if (Array.isArray(extra)) { for (const [name, value] of extra) add(value, name); }
    else for (const [name, value] of Object.entries(extra)) add(value, name);
    if (auth !== null) {
      delete h.apikey;
      delete h.authorization;
    }
  }
  h.accept = "application/json";
  if (contentType !== undefined) h["content-type"] = contentType;
  if (auth !== null) h[auth.name] = auth.value;
  return h;
}

/** The message of a redirect answer, which the client does not follow. */
function redirectMessage(status: number, location: string | null): string {
  return `The API answered with a redirect (HTTP ${status}${
    location === null ? "" : ` to ${location}`
  }); redirects are not followed, so that the credentials go nowhere else: set baseUrl to the final address`;
}

/** The call, for messages (built only when one is needed): `GET /v2/recapture/customers/c1`. */
function describeCall(opts: SendOptions): string {
  return `${opts.method} ${opts.url === undefined ? opts.path : "token endpoint"}`;
}

/** The messages of an error and its causes, joined (`fetch failed: ... Connection refused`). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, i = 0; e !== undefined && e !== null && i < 5; i++) {
    const text = e instanceof Error ? e.message || e.name : String(e);
    if (text && !parts.includes(text)) parts.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}
