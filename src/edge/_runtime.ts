/**
 * The proxy's shared state: options, per-request settings read from the env (cached while the
 * raw values stay the same), upstream clients, and the callback plumbing.
 *
 * @module
 */
import { RecaptureClient } from "../sdk/client.ts";
import type { Region } from "../sdk/schemas.ts";
import { DEFAULT_TOLERANCE_SECONDS } from "../signature/mod.ts";
import {
  type CallbackOutcome,
  type CallbackSettings,
  newCallbackJob,
  runCallbackJob,
} from "./_callbacks.ts";
import {
  asRegion,
  type EdgeEnv,
  ENV,
  envFlag,
  envList,
  envString,
  type ProxyToken,
} from "./_config.ts";
import { type HostResolver, type OutboundPolicy, outboundUrlProblem } from "./_outbound.ts";
import { DEFAULT_BODY_TIMEOUT_MS } from "./_http.ts";
import { memoryReplayGuard, type ReplayGuard } from "./_replay.ts";
import type { CallbackJob, CallbackScheduler } from "./_scheduler.ts";

/** Options for `createRecaptureProxy`. Each overrides the matching env variable. */
export interface RecaptureProxyOptions {
  /**
   * Reads one env variable; called on each request for the few names the proxy uses, before
   * Hono's `c.env` (the Workers bindings) is consulted. On Deno pass
   * `(name) => Deno.env.get(name)`.
   */
  env?: (name: string) => string | undefined;
  /** The upstream API key (default env `RECAPTURE_API_KEY`). */
  apiKey?: string;
  /** The upstream base URL (default env `RECAPTURE_BASE_URL`, else the real API). */
  baseUrl?: string;
  /** The default region (default env `RECAPTURE_REGION`, else `au`). */
  region?: Region;
  /** The transport to the upstream, e.g. an in-process sandbox's `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Caller tokens (default env `RECAPTURE_PROXY_TOKENS` / `..._READONLY_TOKENS`). */
  tokens?: readonly ProxyToken[];
  /**
   * Secrets of our signature scheme that ingest POSTs (`/webhooks/customers`) are signed with
   * (default env `RECAPTURE_WEBHOOK_SECRETS`).
   */
  webhookSecrets?: readonly string[];
  /** Secret that signs our callbacks (default env `RECAPTURE_CALLBACK_SECRET`). */
  callbackSecret?: string;
  /**
   * When given, the only hosts the edge calls back (`name`, or `name:port` for a port other than
   * 443); default env `RECAPTURE_OUTBOUND_ALLOW_HOSTS` (comma-separated), else any public host.
   */
  outboundAllowHosts?: readonly string[];
  /**
   * Development only: lets callbacks and the upstream base URL use http or https to `127.0.0.1`,
   * `[::1]` or `localhost` (written so). Default env `RECAPTURE_DEV_ALLOW_LOOPBACK=1`, else off.
   */
  allowLoopbackForDevelopment?: boolean;
  /**
   * Resolves a callback's host before each delivery, so a name pointing at a private address is
   * refused (on Deno: `(host) => resolveDns(host)`, see `examples/deno_deploy.ts`). Default: no
   * resolution (Workers cannot resolve; Cloudflare's egress does not reach private networks).
   */
  resolveHost?: HostResolver;
  /** Runs callbacks later; without one, `callback_url` is refused. */
  scheduler?: CallbackScheduler;
  /** Callback timing. */
  callbacks?: CallbackSettings;
  /** The fetch used to deliver callbacks. Default: the global `fetch`. */
  callbackFetch?: (request: Request) => Promise<Response>;
  /** Told about every callback step (logging, tests). */
  onCallback?: (outcome: CallbackOutcome) => void;
  /** Largest accepted request body in bytes (forwarding and ingest). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Time allowed to receive a whole request body, in ms (408 after). Default 10000. */
  bodyTimeoutMs?: number;
  /** Signature timestamp tolerance of ingest POSTs, in seconds, both directions. Default 300. */
  toleranceSeconds?: number;
  /** Remembers accepted ingest deliveries. Default: in memory; `false` disables. */
  replayGuard?: ReplayGuard | false;
  /** Upstream per-attempt timeout (ms). */
  timeoutMs?: number;
  /**
   * Upstream retries (SDK transport rules: idempotent requests, or provably unsent, or 429).
   * Default 0: the proxy stays transparent and hands every answer, a 429 included, back at once.
   */
  maxRetries?: number;
  /**
   * Told about unexpected errors (answered as a bare 500) with the request id when there is a
   * request; log them, minding secrets (log `error.name` and the id, not the message).
   */
  onError?: (error: unknown, requestId?: string) => void;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Settings for one request: options first, then the env. */
export interface Resolved {
  env: EdgeEnv;
  apiKey: string | undefined;
  baseUrl: string | undefined;
  region: Region;
  tokens: ProxyToken[];
  webhookSecrets: string[];
  callbackSecret: string | undefined;
  outbound: OutboundPolicy;
  /** Why the configured base URL is refused by the outbound policy, or undefined. */
  baseUrlProblem: string | undefined;
}

/** What the handlers share. */
export interface ProxyRuntime {
  options: RecaptureProxyOptions;
  now: () => Date;
  maxBody: number;
  bodyTimeoutMs: number;
  tolerance: number;
  /** Ingest bodies being read now (bounded by `MAX_INGEST_BODIES_READING`). */
  ingestBodiesReading: number;
  guard: ReplayGuard | undefined;
  resolve(platformEnv: unknown): Resolved;
  clientFor(cfg: Resolved): RecaptureClient | undefined;
  /** Why a callback URL is refused, or null. */
  callbackProblem(cfg: Resolved, url: unknown): string | null;
  /** Schedules the first poll of a callback; answers the event id. */
  scheduleCallback(cfg: Resolved, uploadId: string, region: Region, url: string): Promise<string>;
  /** Runs one callback job step. */
  runJob(job: CallbackJob, platformEnv: unknown): Promise<void>;
}

/** The largest request body the proxy accepts by default, in bytes (forwarding and ingest). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const ENV_NAMES = Object.values(ENV);
const NO_ENV: EdgeEnv = Object.freeze({});

/** Builds the runtime for one proxy. */
export function createRuntime(options: RecaptureProxyOptions): ProxyRuntime {
  const now = options.now ?? (() => new Date());
  const clients = new Map<string, RecaptureClient>();
  const lastValues: (string | undefined)[] = ENV_NAMES.map(() => undefined);
  let cached: Resolved | undefined;
  let cachedClient: RecaptureClient | undefined;

  const resolve = (platformEnv: unknown): Resolved => {
    const env: EdgeEnv = platformEnv && typeof platformEnv === "object"
      ? platformEnv as EdgeEnv
      : NO_ENV;
    const own = options.env;
    const get = own ? (name: string) => own(name) ?? env[name] : (name: string) => env[name];
    // Compare the raw values with the last ones without building anything (hot path).
    let same = cached !== undefined;
    for (let i = 0; i < ENV_NAMES.length; i++) {
      const raw = get(ENV_NAMES[i]);
      const value = typeof raw === "string" ? raw : undefined;
      if (value !== lastValues[i]) {
        same = false;
        lastValues[i] = value;
      }
    }
    if (same && cached) {
      return cached.env === env ? cached : (cached = { ...cached, env });
    }
    const tokens: ProxyToken[] = options.tokens ? [...options.tokens] : [
      ...envList(get, ENV.tokens).map((token) => ({ token })),
      ...envList(get, ENV.readOnlyTokens).map((token) => ({ token, readOnly: true })),
    ];
    const outbound: OutboundPolicy = {
      allowHosts: options.outboundAllowHosts
        ? [...options.outboundAllowHosts]
        : envList(get, ENV.outboundHosts),
      allowLoopback: options.allowLoopbackForDevelopment ?? envFlag(get, ENV.devLoopback),
    };
    const baseUrl = options.baseUrl ?? envString(get, ENV.baseUrl);
    cached = {
      env,
      apiKey: options.apiKey ?? envString(get, ENV.apiKey),
      baseUrl,
      region: options.region ?? asRegion(envString(get, ENV.region)) ?? "au",
      tokens,
      webhookSecrets: options.webhookSecrets
        ? [...options.webhookSecrets]
        : envList(get, ENV.webhookSecrets),
      callbackSecret: options.callbackSecret ?? envString(get, ENV.callbackSecret),
      outbound,
      // With an injected transport (`fetch`) the base URL names no network destination.
      baseUrlProblem: baseUrl === undefined || options.fetch
        ? undefined
        : outboundUrlProblem(baseUrl, { ...outbound, allowHosts: [] }) ?? undefined,
    };
    cachedClient = undefined;
    return cached;
  };

  const clientFor = (cfg: Resolved): RecaptureClient | undefined => {
    if (!cfg.apiKey || cfg.baseUrlProblem) return undefined;
    if (cfg === cached && cachedClient) return cachedClient;
    const key = `${cfg.apiKey}\u0000${cfg.baseUrl ?? ""}\u0000${cfg.region}`;
    let client = clients.get(key);
    if (!client) {
      if (clients.size >= 16) clients.clear();
      client = new RecaptureClient({
        apiKey: cfg.apiKey,
        baseUrl: cfg.baseUrl,
        region: cfg.region,
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        maxRetries: options.maxRetries ?? 0,
      });
      clients.set(key, client);
    }
    if (cfg === cached) cachedClient = client;
    return client;
  };

  return {
    options,
    now,
    maxBody: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    tolerance: options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    ingestBodiesReading: 0,
    guard: options.replayGuard === false ? undefined : options.replayGuard ?? memoryReplayGuard(),
    resolve,
    clientFor,
    callbackProblem(cfg, url) {
      if (!options.scheduler || !cfg.callbackSecret) {
        return "callbacks are not enabled on this proxy (needs a scheduler and RECAPTURE_CALLBACK_SECRET)";
      }
      return outboundUrlProblem(url, cfg.outbound);
    },
    async scheduleCallback(cfg, uploadId, region, url) {
      const scheduler = options.scheduler;
      if (!scheduler) throw new Error("no callback scheduler");
      const job = newCallbackJob(uploadId, region, url, now());
      await scheduler.schedule(job, {
        delayMs: options.callbacks?.pollIntervalMs ?? 1000,
        env: cfg.env,
      });
      return job.event_id;
    },
    async runJob(job, platformEnv) {
      const cfg = resolve(platformEnv);
      const client = clientFor(cfg);
      if (!client || !options.scheduler) {
        options.onCallback?.({ type: "gave_up", uploadId: job.upload_id, reason: "no_api_key" });
        return;
      }
      await runCallbackJob(job, {
        retrieve: (id, region) => client.uploads.retrieve(id, { region }),
        secret: cfg.callbackSecret,
        scheduler: options.scheduler,
        env: cfg.env,
        fetch: options.callbackFetch ?? ((req) => fetch(req)),
        outbound: cfg.outbound,
        resolveHost: options.resolveHost,
        settings: options.callbacks ?? {},
        onOutcome: options.onCallback,
        now,
      });
    },
  };
}
