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
import { type Context, Hono } from "hono";
import { RecaptureClient } from "../../sdk/client.ts";
import { NotFoundError } from "../../sdk/errors.ts";
import {
  type AlertEvent,
  AlertEventError,
  isRecaptureAlert,
  parseAlertEvent,
} from "../../sdk/alert_events.ts";
import { timingSafeEqual } from "../../_internal/timing_safe_equal.ts";
import { asRegion, type EdgeEnv, ENV, envFlag, envList, envString } from "../_config.ts";
import {
  DEFAULT_BODY_TIMEOUT_MS,
  errorResponse,
  executionCtxOf,
  readBody,
  requestIdFrom,
} from "../_http.ts";
import { canonicalPath } from "../_path.ts";
import { type HostResolver, type OutboundPolicy, outboundUrlProblem } from "../_outbound.ts";
import type { KvQueue } from "../_kv_scheduler.ts";
import { memoryReplayGuard, type ReplayGuard } from "../_replay.ts";
import {
  type AlertDeliveryOutcome,
  type AlertDestination,
  createAlertDelivery,
  type EnrichedAlert,
  type EventClaim,
} from "./_delivery.ts";

export type {
  AlertDeliveryOutcome,
  AlertDestination,
  EnrichedAlert,
  SlackDestination,
  WebhookDestination,
} from "./_delivery.ts";
export { slackText } from "./_slack.ts";

/** Options of {@linkcode createAlertRelay}. Each overrides the matching env variable. */
export interface AlertRelayOptions {
  /** Accepted URL tokens (default env `RECAPTURE_ALERT_TOKENS`). Use 32+ random characters. */
  tokens?: readonly string[];
  /** Destinations (default: from env, see the module doc). */
  destinations?: readonly AlertDestination[];
  /** De-duplicates event ids (default: in memory, per isolate). */
  guard?: ReplayGuard;
  /**
   * How long a relayed event id is remembered, in ms (default 7 days). Until every destination
   * has the event it is held only as long as relaying can take, and a destination that fails for
   * good releases it, so AutoGrab's re-push is relayed again.
   */
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
   * under `waitUntil`, which Cloudflare cancels about 30 s after the answer: keep `backoffMs`
   * and `timeoutMs` within that, as `examples/cloudflare_worker.ts` does).
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
/** Time allowed for fetching the customer before a relay (the SDK client's timeout, retried). */
const ENRICH_ALLOWANCE_MS = 120_000;
/** The largest alert push the relay reads, in bytes (64 KB). */
export const MAX_ALERT_BODY_BYTES = 64 * 1024;

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
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
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const running = new Set<Promise<void>>();
  const backoff = [...(options.backoffMs ?? DEFAULT_BACKOFF)];
  const timeoutMs = options.timeoutMs ?? 10_000;
  // An event id is first claimed for as long as relaying it in this process can take, and kept
  // for the dedupe window only once settled (see `eventClaim`): if the process stops meanwhile
  // (Workers cancels `waitUntil` work ~30 s after the answer), the claim lapses by itself and
  // AutoGrab's re-push is relayed again. A guard without `remember` claims for the whole window.
  const leaseMs = guard.remember
    ? ENRICH_ALLOWANCE_MS + (backoff.length + 1) * timeoutMs + backoff.reduce((a, b) => a + b, 0)
    : ttl;

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

  const delivery = createAlertDelivery({
    send: options.fetch ?? ((request: Request) => fetch(request)),
    backoff,
    timeoutMs,
    queue: options.queue,
    resolveHost: options.resolveHost,
    onDelivery: options.onDelivery,
    current: () => {
      const get = envOf(undefined);
      return { destinations: destinationsOf(get), policy: policyOf(get) };
    },
    release: (eventId) => guard.release(claimKey(eventId)),
  });

  /** AutoGrab's event plus the customer record, fetched with the SDK for a Recapture alert. */
  async function enrich(
    event: AlertEvent,
    get: (name: string) => unknown,
  ): Promise<EnrichedAlert> {
    const enriched: EnrichedAlert = {
      id: event.id,
      event: event.event,
      created_at: event.created_at ?? null,
      region: event.region ?? null,
      data: event.data ?? null,
      customer: null,
      received_at: new Date().toISOString(),
    };
    if (!isRecaptureAlert(event)) return enriched;
    const client = clientOf(get);
    if (client === null) {
      enriched.customer_error = "no_api_key";
      return enriched;
    }
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
    return enriched;
  }

  /** Enriches and delivers; the claim is released on any failure, else kept. */
  async function relay(
    event: AlertEvent,
    get: (name: string) => unknown,
    claim: EventClaim,
  ): Promise<void> {
    try {
      const enriched = await enrich(event, get);
      await delivery.deliver(enriched, event, destinationsOf(get), policyOf(get), claim);
      await claim.keep();
    } catch (e) {
      await claim.release();
      throw e;
    }
  }

  const background = (work: Promise<void>, executionCtx: unknown): void => {
    const p = work.catch((e) => options.onError?.(e)).finally(() => running.delete(p));
    running.add(p);
    const ctx = executionCtx as Partial<WaitUntil> | undefined;
    if (ctx && typeof ctx.waitUntil === "function") ctx.waitUntil(p);
  };

  const app = new Hono<RelayEnv>();
  // Errors reach the caller (the proxy answers them as its internal error).
  app.onError((e) => {
    throw e;
  });
  app.use(async (c, next) => {
    c.set("requestId", requestIdFrom(c.req.raw.headers));
    // The same canonical path as the proxy's (the raw request target, plain segments only).
    const read = canonicalPath(c.req.raw);
    if (!read.ok) {
      const what = read.code === "invalid_host" ? "host" : "path";
      return refuse(c, 400, read.code, `Refused request ${what}: ${read.reason}`);
    }
    return await next();
  });
  // The query parameter (`/alerts?token=...`) is the recommended form: request logs print
  // paths. A path token (`/alerts/<token>`) is still accepted.
  app.post("/alerts", (c) => receive(c, c.req.query("token") ?? ""));
  app.post("/alerts/:token", (c) => receive(c, c.req.param("token")));
  for (const path of ["/alerts", "/alerts/:token"]) {
    app.all(path, (c) => refuse(c, 405, "method_not_allowed", "Use POST", { Allow: "POST" }));
  }
  app.notFound((c) => refuse(c, 404, "not_found", `No route for ${c.req.path}`));

  /** A push: token, configuration, body, event, replay guard; 202 and the relay in background. */
  async function receive(c: RelayContext, presented: string): Promise<Response> {
    const requestId = c.get("requestId");
    const get = envOf(c.env);
    const tokens = options.tokens ? [...options.tokens] : envList(get, ALERT_ENV.tokens);
    if (tokens.length === 0) {
      return refuse(c, 503, "not_configured", "No alert token is configured");
    }
    let matched = false;
    for (const t of tokens) matched = timingSafeEqual(presented, t) || matched; // no early exit
    if (!matched) return refuse(c, 401, "unauthorized", "Unknown alert token");
    const destinations = destinationsOf(get);
    const policy = policyOf(get);
    for (const d of destinations) {
      const problem = outboundUrlProblem(d.url, policy);
      if (problem) {
        return refuse(
          c,
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
      if (problem) return refuse(c, 503, "not_configured", `RECAPTURE_BASE_URL ${problem}`);
    }
    const bytes = await readBody(c.req.raw, requestId, MAX_ALERT_BODY_BYTES, bodyTimeoutMs);
    if (bytes instanceof Response) return bytes;
    let event: AlertEvent;
    try {
      event = parseAlertEvent(new TextDecoder().decode(bytes));
    } catch (e) {
      if (!(e instanceof AlertEventError)) throw e;
      return errorResponse(requestId, 400, "invalid_event", e.message, { field: e.field });
    }
    // An id with a lone surrogate (`"\ud800"` in the JSON) cannot be written as UTF-8, so it
    // could never go into a destination's `Recapture-Event-Id` header: refused before the claim.
    if (!event.id.isWellFormed()) {
      return errorResponse(
        requestId,
        400,
        "invalid_event",
        "id must be well-formed Unicode (it holds a lone surrogate)",
        { field: "id" },
      );
    }
    const answer = (status: number, outcome: Record<string, boolean>) =>
      Response.json({ ok: true, id: event.id, ...outcome }, {
        status,
        headers: { "x-request-id": requestId },
      });
    if (!(await guard.claim(claimKey(event.id), leaseMs))) return answer(200, { duplicate: true });
    const claim = eventClaim(guard, claimKey(event.id), ttl);
    if ("unknown" in event && event.unknown === true) {
      await claim.keep();
      return answer(202, { ignored: true });
    }
    background(relay(event, get, claim), executionCtxOf(c));
    return answer(202, { duplicate: false });
  }

  return {
    fetch: async (request: Request, env?: unknown, executionCtx?: unknown): Promise<Response> =>
      await app.fetch(request, env as EdgeEnv, executionCtx as Parameters<typeof app.fetch>[2]),
    async idle(): Promise<void> {
      while (running.size > 0 || delivery.busy()) {
        if (running.size > 0) await Promise.all([...running]);
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

/** The replay guard key of an event id. */
function claimKey(eventId: string): string {
  return `alert:${eventId}`;
}

/**
 * A claimed event id, settled once: `keep` stores it for the dedupe window (`ttlMs`), `release`
 * forgets it; after a release, `keep` does nothing. Both run in order, so a release is never
 * overtaken by a keep that started before it.
 */
function eventClaim(guard: ReplayGuard, key: string, ttlMs: number): EventClaim {
  let released = false;
  let kept = false;
  let last: Promise<void> = Promise.resolve();
  const inOrder = (work: () => Promise<void>): Promise<void> => {
    const next = last.then(work);
    last = next.catch(() => {});
    return next;
  };
  return {
    keep: () =>
      inOrder(async () => {
        if (released || kept) return;
        kept = true;
        await guard.remember?.(key, "relayed", ttlMs);
      }),
    release: () =>
      inOrder(async () => {
        released = true;
        await guard.release(key);
      }),
  };
}

/** The relay's Hono environment: Workers bindings, and the request id. */
interface RelayEnv {
  Bindings: EdgeEnv;
  Variables: { requestId: string };
}

type RelayContext = Context<RelayEnv>;

/** An error answer; the request body, unread, is cancelled. */
function refuse(
  c: RelayContext,
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Response {
  c.req.raw.body?.cancel().catch(() => {});
  return errorResponse(c.get("requestId"), status, code, message, undefined, headers);
}
