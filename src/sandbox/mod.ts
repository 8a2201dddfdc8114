/**
 * The Customer Recapture API itself, on Hono + Deno KV: the sandbox that every part of the
 * toolkit runs against when no API key is set.
 *
 * `createSandbox()` answers a Hono app whose `fetch` can be handed straight to
 * `RecaptureClient`, so the whole stack runs in one process with no port. Uploads are stored
 * durably in Deno KV before the POST answers and processed through Deno KV queues (a message
 * carries up to eight chunks of rows), exactly once per chunk.
 *
 * Needs `--unstable-kv` (or `"unstable": ["kv"]` in `deno.json`).
 *
 * @example
 * ```ts
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox(); // in memory
 * const response = await sandbox.fetch(
 *   new Request("http://sandbox/v2/recapture/upload?region=au", {
 *     method: "POST",
 *     headers: { "ApiKey": SANDBOX_API_KEY, "Content-Type": "application/json" },
 *     body: JSON.stringify({ name: "March sales", customers: [{ rego: "ABC123", state: "NSW" }] }),
 *   }),
 * );
 * const { upload } = await response.json();
 * await sandbox.idle();
 * console.log(upload.id);
 * await sandbox.close();
 * ```
 * @module
 */
import { buildApp } from "./_app.ts";
import { Auth, defaultAccounts } from "./_auth.ts";
import { inProcess } from "./_http.ts";
import { Processor } from "./_processor.ts";
import { RateLimiter } from "./_rate_limit.ts";
import { MAX_CHUNK_SIZE, Store } from "./_store.ts";
import { isPushMessage, Market } from "./_market.ts";
import { AlertSubscriptionStore } from "./_alert_subscriptions.ts";
import type { SandboxOptions } from "./_types.ts";
import { UPLOAD_BODY_LIMIT_BYTES } from "../sdk/_body_size.ts";

export { SANDBOX_API_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from "./_auth.ts";
export {
  isMarketEvent,
  MARKET_EVENTS,
  type MarketClient,
  type MarketEvent,
  simulateMarketEvent,
  type SimulateMarketParams,
  type SimulateMarketResult,
} from "./simulate.ts";

export type {
  Region,
  SandboxAccount,
  SandboxOptions,
  SandboxQuota,
  SandboxRateLimit,
} from "./_types.ts";

/**
 * The sandbox's Hono app, typed by what callers use (Hono's own types stay out of the public API,
 * as JSR wants): serve it with `Deno.serve(app.fetch)` or mount it in another Hono app.
 */
export interface SandboxApp {
  /** Serves one request. */
  fetch(request: Request, env?: unknown, executionCtx?: unknown): Response | Promise<Response>;
}

/** A running sandbox. */
export interface Sandbox {
  /** The Hono app (a `Hono` instance). */
  app: SandboxApp;
  /**
   * The app's `fetch`: hand it to `RecaptureClient({ fetch })` for an in-process API. Request
   * bodies are read whole (the caller holds them already); to serve the sandbox on a port,
   * serve `app.fetch`, which cuts a body streamed without a length at `maxBodyBytes`.
   */
  fetch(request: Request): Promise<Response>;
  /** The Deno KV holding the data. */
  kv: Deno.Kv;
  /**
   * Stops processing and closes the KV; leaves no timers or resources behind and prints
   * nothing. Work in progress finishes first; queued work not started stays queued (in a KV
   * file it runs after a restart); requests from then on are answered 503.
   */
  close(): Promise<void>;
  /** Resolves when every accepted upload is processed or cancelled. */
  idle(): Promise<void>;
  /** Deletes the customers whose expiry date has come; answers how many. */
  sweep(): Promise<number>;
  /** Resolves when no alert push is waiting for delivery or for a retry. */
  pushesIdle(): Promise<void>;
}

const DEFAULT_RATE_LIMIT = { limit: 10_000, windowMs: 60_000 };
const DEFAULT_QUOTA = { base: 100_000, max: 1_000_000 };

/**
 * Starts a sandbox: opens (or takes) a Deno KV, starts the queue listener, re-enqueues any
 * unfinished work found in the KV, and answers the app.
 *
 * @example
 * ```ts
 * import { createSandbox } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox({
 *   accounts: [
 *     { id: "acct_a", apiKey: "sec_a", regions: ["au"] },
 *     { id: "acct_b", apiKey: "sec_b", regions: ["nz", "uk"] },
 *   ],
 *   rateLimit: { limit: 5, windowMs: 1000 },
 * });
 * const res = await sandbox.fetch(
 *   new Request("http://sandbox/v2/recapture/customers?region=au", { headers: { ApiKey: "sec_a" } }),
 * );
 * console.log(res.status, res.headers.get("Rate-Limit-Remaining")); // 200 "4"
 * await sandbox.close();
 * ```
 */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const chunkSize = options.chunkSize ?? MAX_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(
      `chunkSize must be a whole number from 1 to ${MAX_CHUNK_SIZE} (got ${chunkSize})`,
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? UPLOAD_BODY_LIMIT_BYTES;
  if (!(maxBodyBytes >= 1)) throw new RangeError("maxBodyBytes must be at least 1");
  const now = options.now ?? (() => new Date());
  const limiter = new RateLimiter(
    options.rateLimit ?? DEFAULT_RATE_LIMIT,
    options.quota ?? DEFAULT_QUOTA,
    now,
  );
  const kv = options.kv ?? await Deno.openKv(options.path ?? ":memory:");
  let auth: Auth;
  try {
    auth = new Auth(
      options.accounts ?? defaultAccounts(),
      kv,
      now,
      options.tokenTtlSeconds ?? 3599,
    );
  } catch (e) {
    kv.close();
    throw e;
  }
  const store = new Store(kv, now, chunkSize);
  const processor = new Processor(store, now, options.beforeChunk);
  const subscriptions = new AlertSubscriptionStore(kv);
  const market = new Market(kv, subscriptions, now, {
    fetch: options.pushFetch,
    backoffMs: options.pushBackoffMs,
  });
  processor.other = async (message) => {
    if (isPushMessage(message)) await market.deliver(message);
  };
  let closing: Promise<void> | null = null;
  let closed = false;
  const app = buildApp({
    store,
    auth,
    limiter,
    maxBodyBytes,
    alerts: { subscriptions, market, now },
    isClosed: () => closed,
    activity: processor,
  });
  await store.preparePaging();
  processor.start();
  if (options.recover !== false) await processor.recover();

  let sweeping: Promise<unknown> = Promise.resolve();
  const sweepMs = options.sweepIntervalMs ?? 60_000;
  const timer = sweepMs === false ? undefined : setInterval(() => {
    sweeping = store.sweep().catch(() => {});
  }, sweepMs);
  if (timer !== undefined) Deno.unrefTimer(timer);

  return {
    app,
    kv,
    fetch: async (request: Request): Promise<Response> => await app.fetch(inProcess(request)),
    close(): Promise<void> {
      // Quietly: new requests get 503, queue messages not yet started stay queued (in a KV file
      // they run after a restart), work in progress finishes first (up to 10 s).
      closing ??= (async () => {
        closed = true;
        market.stop();
        clearInterval(timer);
        await sweeping;
        await processor.drain();
        kv.close();
        await processor.stopped();
      })();
      return closing;
    },
    idle: () => processor.idle(),
    sweep: () => store.sweep(),
    pushesIdle: () => market.idle(() => closed),
  };
}
