/**
 * The alert relay: the URL you register with AutoGrab's Webhooks API. AutoGrab pushes
 * `recapture_new`, `recapture_price_change`, `recapture_delist` and `ping` events to it,
 * unsigned, authenticated only by a token in the URL. The relay
 *
 * 1. checks the token (path `/alerts/<token>` or query `?token=`) in constant time,
 * 2. validates the event ({@linkcode parseAlertEvent}),
 * 3. drops duplicates by event id (a {@linkcode ReplayGuard}: Deno KV on Deno, a Workers KV
 *    namespace or a Durable Object on Workers),
 * 4. answers 202 at once, then in the background
 * 5. enriches the event with the customer record (fetched with the SDK) and
 * 6. relays it to each destination: a generic webhook signed with our scheme
 *    (`Recapture-Signature`, see `signPayload`), or a Slack-compatible incoming webhook with the
 *    customer's name, rego, listing link and price; each destination is retried with backoff on
 *    its own until it answers 2xx (in memory, or durably in a Deno KV queue with `queue`).
 *
 * Runs on Deno, Deno Deploy and Cloudflare Workers (no `Deno.*`); on Workers the background
 * work is handed to `executionCtx.waitUntil`.
 *
 * Env (when the matching option is not given): `RECAPTURE_ALERT_TOKENS` (comma-separated),
 * `RECAPTURE_ALERT_WEBHOOK_URL` + `RECAPTURE_ALERT_WEBHOOK_SECRET`, `RECAPTURE_ALERT_SLACK_URL`,
 * `RECAPTURE_API_KEY`, `RECAPTURE_BASE_URL`.
 *
 * @example
 * ```ts
 * import { createAlertRelay, memoryReplayGuard } from "@recapture/sdk/edge";
 * const relay = createAlertRelay({
 *   tokens: ["3f9c0d7e5b2a4c1f8e6d9b0a7c5e3f1d"],
 *   apiKey: "sec_example",
 *   destinations: [{ kind: "slack", url: "https://hooks.slack.com/services/T/B/X" }],
 *   guard: memoryReplayGuard(),
 * });
 * const res = await relay.fetch(new Request("http://edge/alerts/wrong", { method: "POST" }));
 * console.log(res.status); // 401
 * ```
 * @module
 */
import { RecaptureClient } from "../sdk/client.ts";
import { NotFoundError } from "../sdk/errors.ts";
import {
  type AlertEvent,
  AlertEventError,
  isRecaptureAlert,
  parseAlertEvent,
  type PriceChangeEvent,
} from "../sdk/alert_events.ts";
import type { Customer } from "../sdk/schemas.ts";
import { signPayload } from "../signature/mod.ts";
import { timingSafeEqual } from "../_internal/timing_safe_equal.ts";
import { type EdgeEnv, ENV, envFlag, envList, envString } from "./_config.ts";
import { DEFAULT_BODY_TIMEOUT_MS, errorResponse, readBody, requestIdFrom } from "./_http.ts";
import { canonicalPath } from "./_path.ts";
import {
  type HostResolver,
  type OutboundPolicy,
  outboundUrlProblem,
  resolvedUrlProblem,
} from "./_outbound.ts";
import type { KvQueue } from "./_kv_scheduler.ts";
import { memoryReplayGuard, type ReplayGuard, storedKey } from "./_replay.ts";
import { sha256Hex } from "../_internal/hex.ts";
import { userAgent } from "../sdk/version.ts";
import { asRegion } from "./_config.ts";

/** Marks our queue messages. */
const RETRY_KIND = "recapture.alert_retry";

/** A queued retry: the rendered body, and which destination (by position, checked by hash). */
interface AlertRetryJob {
  kind: typeof RETRY_KIND;
  destination: number;
  destination_hash: string;
  event_id: string;
  event: string;
  body: string;
  attempt: number;
}

function isRetryJob(value: unknown): value is AlertRetryJob {
  const v = value as AlertRetryJob;
  return typeof v === "object" && v !== null && v.kind === RETRY_KIND &&
    typeof v.destination === "number" && typeof v.body === "string";
}

/** The largest retry body queued (its message adds a few hundred bytes; Deno KV takes 65,536). */
const MAX_QUEUED_BODY_BYTES = 60_000;

/** Whether a retry body fits a queue message (UTF-8: at most 3 bytes per UTF-16 unit). */
function fitsQueue(body: string): boolean {
  return body.length * 3 <= MAX_QUEUED_BODY_BYTES ||
    new TextEncoder().encode(body).length <= MAX_QUEUED_BODY_BYTES;
}

async function hashOf(text: string): Promise<string> {
  return (await sha256Hex(text)).slice(0, 24);
}

/** A generic HTTPS webhook: receives the enriched event as JSON, signed. */
export interface WebhookDestination {
  /** `webhook` */
  kind: "webhook";
  /** Where to POST. */
  url: string;
  /** The secret for `Recapture-Signature`. */
  secret: string;
  /** A name for logs (default: the URL's host). */
  name?: string;
}

/** A Slack-compatible incoming webhook: receives `{ text }`. */
export interface SlackDestination {
  /** `slack` */
  kind: "slack";
  /** The incoming-webhook URL (a secret). */
  url: string;
  /** A name for logs (default `slack`). */
  name?: string;
}

/** Where alerts are relayed. */
export type AlertDestination = WebhookDestination | SlackDestination;

/** The event as relayed to a generic webhook: AutoGrab's event plus the customer record. */
export interface EnrichedAlert {
  /** AutoGrab's event id (relayed unchanged: de-duplicate on it downstream too). */
  id: string;
  /** The event name. */
  event: string;
  /** When AutoGrab created the event. */
  created_at: string | null;
  /** The region. */
  region: string | null;
  /** AutoGrab's `data`, unchanged. */
  data: unknown;
  /** The customer record, or null (a ping, a deleted customer, or the lookup failed). */
  customer: Customer | null;
  /** Why `customer` is null for a Recapture alert (`not_found`, or an error code). */
  customer_error?: string;
  /** When the relay received the event. */
  received_at: string;
}

/** What happened to one relay attempt (for logs and tests). */
export interface AlertDeliveryOutcome {
  /** The event id. */
  eventId: string;
  /** The destination's name. */
  destination: string;
  /** 1 for the first try. */
  attempt: number;
  /** The HTTP status, or 0 when the request failed. */
  status: number;
  /** `delivered`, `retrying` or `failed` (retries used up). */
  outcome: "delivered" | "retrying" | "failed";
}

/** Options of {@linkcode createAlertRelay}. Each overrides the matching env variable. */
export interface AlertRelayOptions {
  /** Accepted URL tokens (default env `RECAPTURE_ALERT_TOKENS`). Use 32+ random characters. */
  tokens?: readonly string[];
  /** Destinations (default: from env, see the module doc). */
  destinations?: readonly AlertDestination[];
  /** De-duplicates event ids (default: in memory, per isolate). */
  guard?: ReplayGuard;
  /** How long an event id is remembered, in ms (default 7 days). */
  dedupeTtlMs?: number;
  /** The SDK client used to fetch the customer (default: built from the env on each push). */
  client?: RecaptureClient;
  /** API key for the default client (default env `RECAPTURE_API_KEY`). */
  apiKey?: string;
  /** Base URL for the default client (default env `RECAPTURE_BASE_URL`). */
  baseUrl?: string;
  /** Transport of the default client (e.g. a sandbox's `fetch`). */
  apiFetch?: (request: Request) => Promise<Response>;
  /** Fetch used to reach destinations (default: the global `fetch`). */
  fetch?: (request: Request) => Promise<Response>;
  /** Delays between attempts per destination, in ms (default 1 s, 5 s, 30 s, 2 min, 10 min). */
  backoffMs?: readonly number[];
  /** Per-attempt timeout for a destination, in ms (default 10 s). */
  timeoutMs?: number;
  /** Reads an env variable on Deno (`(n) => Deno.env.get(n)`); Workers bindings also apply. */
  env?: (name: string) => string | undefined;
  /**
   * A Deno KV (or anything with `enqueue` + `listenQueue`) that holds retries durably: a failed
   * destination's next attempt waits in the queue instead of in memory, so it survives a restart.
   * Give the relay a KV of its own, or share one with the proxy through `sharedKvQueue(kv)` (a
   * KV hands each message to one of its listeners). Default: retries in memory (on Workers,
   * under `waitUntil`).
   */
  queue?: KvQueue;
  /**
   * When given, the only hosts destinations may name (`name`, or `name:port` off 443); default
   * env `RECAPTURE_OUTBOUND_ALLOW_HOSTS`. Destinations pass the proxy's outbound URL policy.
   */
  outboundAllowHosts?: readonly string[];
  /** Development only: destinations on loopback over http(s) (env `RECAPTURE_DEV_ALLOW_LOOPBACK=1`). */
  allowLoopbackForDevelopment?: boolean;
  /** Resolves a destination's host before each attempt (Deno), refusing private answers. */
  resolveHost?: HostResolver;
  /** Time allowed to receive a push's body, in ms (408 after). Default 10000. */
  bodyTimeoutMs?: number;
  /** Told about each delivery attempt. */
  onDelivery?: (outcome: AlertDeliveryOutcome) => void;
  /** Told about unexpected errors (never holds a token or secret from us). */
  onError?: (error: unknown) => void;
}

/** The relay: a fetch handler for `/alerts/*` routes, and a way to wait for background work. */
export interface AlertRelay {
  /** Handles `POST /alerts/<token>` (or `/alerts?token=`). */
  fetch(request: Request, env?: unknown, executionCtx?: unknown): Promise<Response>;
  /** Resolves when every background relay (retries included) has finished. */
  idle(): Promise<void>;
}

/** The env names the relay reads. */
export const ALERT_ENV = {
  tokens: "RECAPTURE_ALERT_TOKENS",
  webhookUrl: "RECAPTURE_ALERT_WEBHOOK_URL",
  webhookSecret: "RECAPTURE_ALERT_WEBHOOK_SECRET",
  slackUrl: "RECAPTURE_ALERT_SLACK_URL",
  apiKey: "RECAPTURE_API_KEY",
  baseUrl: "RECAPTURE_BASE_URL",
} as const;

const DEFAULT_BACKOFF = [1000, 5000, 30_000, 120_000, 600_000];
const MAX_BODY = 64 * 1024;

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A {@linkcode ReplayGuard} on a Cloudflare Workers KV namespace. Workers KV is eventually
 * consistent and has no compare-and-set, so two pushes of one event landing at the same moment
 * on two locations can both pass; use a Durable Object for strict once-only. It catches the
 * common case: AutoGrab retrying a push seconds or minutes later.
 *
 * @example
 * ```ts ignore
 * import { cloudflareKvGuard, createAlertRelay } from "@recapture/sdk/edge";
 * export default {
 *   fetch: (req: Request, env: { ALERT_IDS: KVNamespaceLike }, ctx: unknown) =>
 *     createAlertRelay({ guard: cloudflareKvGuard(env.ALERT_IDS) }).fetch(req, env, ctx),
 * };
 * ```
 */
export function cloudflareKvGuard(
  namespace: CloudflareKvNamespace,
  options: { prefix?: string } = {},
): ReplayGuard {
  const prefix = options.prefix ?? "recapture_alert:";
  // Long keys are hashed (Workers KV keys hold at most 512 bytes), as on every backend.
  const at = async (key: string) => prefix + await storedKey(key);
  const ttl = (ttlMs: number) => Math.max(60, Math.ceil(ttlMs / 1000));
  return {
    async claim(key: string, ttlMs: number): Promise<boolean> {
      const k = await at(key);
      if ((await namespace.get(k)) !== null) return false;
      await namespace.put(k, "", { expirationTtl: ttl(ttlMs) });
      return true;
    },
    async release(key: string): Promise<void> {
      await namespace.delete(await at(key));
    },
    async remember(key: string, result: string, ttlMs: number): Promise<void> {
      await namespace.put(await at(key), result, { expirationTtl: ttl(ttlMs) });
    },
    async recall(key: string): Promise<string | null> {
      const value = await namespace.get(await at(key));
      return value ? value : null;
    },
  };
}

/** The part of a Workers KV namespace binding that {@linkcode cloudflareKvGuard} uses. */
export interface CloudflareKvNamespace {
  /** Reads a value (null when absent). */
  get(key: string): Promise<string | null>;
  /** Writes a value. */
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  /** Deletes a value. */
  delete(key: string): Promise<void>;
}

/**
 * Creates the alert relay. Mount it on the edge proxy with `createRecaptureProxy({ alerts })`,
 * or serve it alone (`Deno.serve(relay.fetch)`, or `export default relay` on Workers).
 *
 * @example
 * ```ts
 * import { createAlertRelay } from "@recapture/sdk/edge";
 * const relay = createAlertRelay({
 *   tokens: ["3f9c0d7e5b2a4c1f8e6d9b0a7c5e3f1d"],
 *   apiKey: "sec_example",
 *   destinations: [{ kind: "webhook", url: "https://crm.example.com/hooks/recapture", secret: "whsec_x" }],
 * });
 * console.log(typeof relay.fetch); // "function"
 * ```
 */
export function createAlertRelay(options: AlertRelayOptions = {}): AlertRelay {
  const guard = options.guard ?? memoryReplayGuard();
  const ttl = options.dedupeTtlMs ?? 7 * 24 * 3600_000;
  const backoff = [...(options.backoffMs ?? DEFAULT_BACKOFF)];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const running = new Set<Promise<void>>();
  const queue = options.queue;
  /** Retries enqueued by this process and not yet run, and retries running (for `idle()`). */
  const waiting = new Set<string>();
  let retrying = 0;
  const retryKey = (j: AlertRetryJob) => `${j.event_id}|${j.destination}|${j.attempt}`;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const envOf = (env: unknown) => (name: string): unknown => {
    const own = options.env?.(name);
    if (own !== undefined) return own;
    return env && typeof env === "object" ? (env as EdgeEnv)[name] : undefined;
  };

  const policyOf = (get: (name: string) => unknown): OutboundPolicy => ({
    allowHosts: options.outboundAllowHosts
      ? [...options.outboundAllowHosts]
      : envList(get, ENV.outboundHosts),
    allowLoopback: options.allowLoopbackForDevelopment ?? envFlag(get, ENV.devLoopback),
  });

  const destinationsOf = (get: (name: string) => unknown): AlertDestination[] => {
    if (options.destinations) return [...options.destinations];
    const out: AlertDestination[] = [];
    const url = envString(get, ALERT_ENV.webhookUrl);
    const secret = envString(get, ALERT_ENV.webhookSecret);
    if (url && secret) out.push({ kind: "webhook", url, secret });
    const slack = envString(get, ALERT_ENV.slackUrl);
    if (slack) out.push({ kind: "slack", url: slack });
    return out;
  };

  const clientOf = (get: (name: string) => unknown): RecaptureClient | null => {
    if (options.client) return options.client;
    const apiKey = options.apiKey ?? envString(get, ALERT_ENV.apiKey);
    if (!apiKey) return null;
    return new RecaptureClient({
      apiKey,
      baseUrl: options.baseUrl ?? envString(get, ALERT_ENV.baseUrl),
      fetch: options.apiFetch,
      maxRetries: 2,
    });
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  /** Sends one attempt to a destination; answers the HTTP status (0: no answer). */
  async function attemptOnce(
    destination: AlertDestination,
    body: string,
    eventId: string,
    eventName: string,
    policy: OutboundPolicy,
  ): Promise<number> {
    // The policy again at each attempt; on Deno the name is resolved now, private answers refused.
    if (await resolvedUrlProblem(destination.url, policy, options.resolveHost)) return 0;
    try {
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "User-Agent": userAgent("edge", "alerts"),
      };
      if (destination.kind === "webhook") {
        // Signed at each attempt, so the timestamp is fresh for the receiver's tolerance window.
        headers["Recapture-Signature"] = await signPayload(body, destination.secret);
        headers["Recapture-Event-Id"] = headerSafe(eventId);
        headers["Recapture-Event"] = eventName;
      }
      const response = await send(
        new Request(destination.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: "manual",
        }),
      );
      await response.body?.cancel().catch(() => {});
      return response.status;
    } catch {
      return 0;
    }
  }

  const nameOf = (d: AlertDestination) =>
    d.name ?? (d.kind === "slack" ? "slack" : new URL(d.url).host);

  /**
   * One attempt, reported; answers whether another attempt is due. With `schedule` (a durable
   * queue), the next attempt is enqueued before "retrying" is reported, so the report means the
   * retry survives a restart.
   */
  async function step(
    destination: AlertDestination,
    job: { body: string; id: string; event: string; attempt: number },
    policy: OutboundPolicy,
    schedule?: () => Promise<void>,
  ): Promise<boolean> {
    const status = await attemptOnce(destination, job.body, job.id, job.event, policy);
    const ok = status >= 200 && status < 300;
    const last = job.attempt > backoff.length;
    if (!ok && !last && schedule) await schedule();
    options.onDelivery?.({
      eventId: job.id,
      destination: nameOf(destination),
      attempt: job.attempt,
      status,
      outcome: ok ? "delivered" : last ? "failed" : "retrying",
    });
    return !ok && !last;
  }

  async function deliverTo(
    destination: AlertDestination,
    index: number,
    enriched: EnrichedAlert,
    event: AlertEvent,
    policy: OutboundPolicy,
  ): Promise<void> {
    const body = destination.kind === "slack"
      ? JSON.stringify({ text: slackText(event, enriched.customer) })
      : JSON.stringify(enriched);
    const job = { body, id: enriched.id, event: enriched.event, attempt: 1 };
    // Durable with a queue: the next attempt waits there (it survives a restart). A body too
    // large for a queue message (Deno KV takes 64 KB) is retried in this process instead.
    const durable = queue !== undefined && fitsQueue(body);
    const schedule = durable ? () => enqueueRetry(destination, index, job) : undefined;
    for (;; job.attempt++) {
      if (!(await step(destination, job, policy, schedule)) || durable) return;
      await sleep(backoff[job.attempt - 1]);
    }
  }

  async function enqueueRetry(
    destination: AlertDestination,
    index: number,
    job: { body: string; id: string; event: string; attempt: number },
  ): Promise<void> {
    const message: AlertRetryJob = {
      kind: RETRY_KIND,
      destination: index,
      destination_hash: await hashOf(destination.url),
      event_id: job.id,
      event: job.event,
      body: job.body,
      attempt: job.attempt + 1,
    };
    waiting.add(retryKey(message));
    try {
      await queue!.enqueue(message, { delay: backoff[job.attempt - 1] });
    } catch (e) {
      waiting.delete(retryKey(message));
      throw e;
    }
  }

  /** Runs a queued retry (Deno KV queue listener). */
  async function runRetry(job: AlertRetryJob): Promise<void> {
    const get = envOf(undefined);
    const destinations = destinationsOf(get);
    const destination = destinations[job.destination];
    // The destination list changed since (the hash is of its URL): drop the retry.
    if (!destination || (await hashOf(destination.url)) !== job.destination_hash) return;
    const next = { body: job.body, id: job.event_id, event: job.event, attempt: job.attempt };
    await step(
      destination,
      next,
      policyOf(get),
      () => enqueueRetry(destination, job.destination, next),
    );
  }

  async function relay(event: AlertEvent, get: (name: string) => unknown): Promise<void> {
    const enriched: EnrichedAlert = {
      id: event.id,
      event: event.event,
      created_at: event.created_at ?? null,
      region: event.region ?? null,
      data: event.data ?? null,
      customer: null,
      received_at: new Date().toISOString(),
    };
    if (isRecaptureAlert(event)) {
      const client = clientOf(get);
      if (client === null) {
        enriched.customer_error = "no_api_key";
      } else {
        try {
          const region = asRegion(event.region);
          const customer = await client.customers.retrieve(
            event.data.customer_id,
            region ? { region } : {},
          );
          enriched.customer = { ...customer };
        } catch (e) {
          enriched.customer_error = e instanceof NotFoundError
            ? "not_found"
            : (e as { code?: string }).code ?? "error";
        }
      }
    }
    const policy = policyOf(get);
    await Promise.all(
      destinationsOf(get).map((d, i) => deliverTo(d, i, enriched, event, policy)),
    );
  }

  if (queue) {
    queue.listenQueue(async (value) => {
      if (!isRetryJob(value)) return;
      retrying++;
      waiting.delete(retryKey(value));
      try {
        await runRetry(value);
      } finally {
        retrying--;
      }
    }).catch(() => {/* the KV was closed */});
  }

  const background = (work: Promise<void>, executionCtx: unknown): void => {
    const p = work.catch((e) => options.onError?.(e)).finally(() => running.delete(p));
    running.add(p);
    const ctx = executionCtx as Partial<WaitUntil> | undefined;
    if (ctx && typeof ctx.waitUntil === "function") ctx.waitUntil(p);
  };

  return {
    async fetch(request: Request, env?: unknown, executionCtx?: unknown): Promise<Response> {
      const requestId = requestIdFrom(request.headers);
      const refuse = (
        status: number,
        code: string,
        message: string,
        headers?: Record<string, string>,
      ): Response => {
        request.body?.cancel().catch(() => {});
        return errorResponse(requestId, status, code, message, undefined, headers);
      };
      // The same canonical path as the proxy's (the raw request target, plain segments only).
      const read = canonicalPath(request.url);
      if (!read.ok) return refuse(400, "invalid_path", `Refused request path: ${read.reason}`);
      if (read.route.kind !== "alerts") {
        return refuse(404, "not_found", `No route for ${read.path}`);
      }
      if (request.method !== "POST") {
        return refuse(405, "method_not_allowed", "Use POST", { Allow: "POST" });
      }
      const get = envOf(env);
      const tokens = options.tokens ? [...options.tokens] : envList(get, ALERT_ENV.tokens);
      if (tokens.length === 0) {
        return refuse(503, "not_configured", "No alert token is configured");
      }
      // The query parameter (`/alerts?token=...`) is the recommended form: request logs print
      // paths. A path token (`/alerts/<token>`) is still accepted.
      const pathToken = read.path.split("/")[2];
      const presented = pathToken ?? new URL(request.url).searchParams.get("token") ?? "";
      let matched = false;
      for (const t of tokens) matched = timingSafeEqual(presented, t) || matched; // no early exit
      if (!matched) return refuse(401, "unauthorized", "Unknown alert token");
      const destinations = destinationsOf(get);
      const policy = policyOf(get);
      for (const d of destinations) {
        const problem = outboundUrlProblem(d.url, policy);
        if (problem) {
          return refuse(
            503,
            "not_configured",
            `The alert destination ${d.kind === "slack" ? "(Slack)" : "(webhook)"} URL ${problem}`,
          );
        }
      }
      // The API's base URL too, unless a client or an in-process transport is given.
      const baseUrl = options.baseUrl ?? envString(get, ALERT_ENV.baseUrl);
      if (baseUrl && !options.client && !options.apiFetch) {
        const problem = outboundUrlProblem(baseUrl, { ...policy, allowHosts: [] });
        if (problem) {
          return refuse(503, "not_configured", `RECAPTURE_BASE_URL ${problem}`);
        }
      }
      const bytes = await readBody(request, requestId, MAX_BODY, bodyTimeoutMs);
      if (bytes instanceof Response) return bytes;
      const text = new TextDecoder().decode(bytes);
      let event: AlertEvent;
      try {
        event = parseAlertEvent(text);
      } catch (e) {
        if (!(e instanceof AlertEventError)) throw e;
        return errorResponse(requestId, 400, "invalid_event", e.message, { field: e.field });
      }
      if (!(await guard.claim(`alert:${event.id}`, ttl))) {
        return Response.json({ ok: true, id: event.id, duplicate: true }, {
          status: 200,
          headers: { "x-request-id": requestId },
        });
      }
      if ("unknown" in event && event.unknown === true) {
        return Response.json({ ok: true, id: event.id, ignored: true }, {
          status: 202,
          headers: { "x-request-id": requestId },
        });
      }
      background(relay(event, get), executionCtx);
      return Response.json({ ok: true, id: event.id, duplicate: false }, {
        status: 202,
        headers: { "x-request-id": requestId },
      });
    },
    async idle(): Promise<void> {
      while (running.size > 0 || waiting.size > 0 || retrying > 0) {
        if (running.size > 0) await Promise.all([...running]);
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

/**
 * An event id as a header value: as is when it is 1-200 visible ASCII characters, else
 * percent-encoded (UTF-8) and cut to 200 characters. The exact id is always in the signed body.
 */
function headerSafe(id: string): string {
  return /^[\x21-\x7e]{1,200}$/.test(id) ? id : encodeURIComponent(id).slice(0, 200) || "-";
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function money(price: unknown): string {
  return typeof price === "number"
    ? `$${price.toLocaleString("en-AU", { maximumFractionDigits: 0 })}`
    : "an unknown price";
}

/**
 * The Slack message for an event: customer name, rego, listing link and price.
 *
 * @example
 * ```ts
 * import { parseAlertEvent } from "@recapture/sdk";
 * import { slackText } from "@recapture/sdk/edge";
 * const event = parseAlertEvent({
 *   id: "evt_1", event: "recapture_new", region: "au",
 *   data: { customer_id: "cus_1", rego: "ABC123", state: "NSW",
 *     listing: { url: "https://example.com/l/1", marketplace: "carsales", price: 23500 } },
 * });
 * console.log(slackText(event, { id: "cus_1", client_name: "Jo Citizen" }));
 * ```
 */
export function slackText(event: AlertEvent, customer: Customer | null): string {
  if (!isRecaptureAlert(event)) {
    return event.event === "ping"
      ? `Recapture alerts: ping ${escapeSlack(event.id)} received`
      : `Recapture alerts: ${escapeSlack(event.event)} event ${escapeSlack(event.id)}`;
  }
  const d = event.data;
  const who = escapeSlack(customer?.client_name ?? `Customer ${d.customer_id}`);
  const car = escapeSlack(
    [d.rego ?? customer?.rego, d.state ?? customer?.state].filter(Boolean).join(" ") ||
      (d.vin ?? customer?.vin ?? "unknown car"),
  );
  const where = escapeSlack(d.listing.marketplace ?? "a marketplace");
  const link = d.listing.url ? ` <${d.listing.url.replace(/[<>|]/g, "")}|View listing>` : "";
  switch (event.event) {
    case "recapture_new":
      return `:rotating_light: ${who}'s car ${car} is listed on ${where} for ${
        money(d.listing.price)
      }.${link}`;
    case "recapture_price_change":
      return `:chart_with_downwards_trend: ${who}'s car ${car} on ${where}: ${
        money((event as PriceChangeEvent).data.previous_price)
      } → ${money(d.listing.price)}.${link}`;
    default:
      return `:no_entry_sign: ${who}'s car ${car} was delisted from ${where} (last price ${
        money(d.listing.price)
      }).${link}`;
  }
}
