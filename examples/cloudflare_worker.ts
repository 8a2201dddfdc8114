/**
 * The edge adapter on Cloudflare Workers, one Worker: the proxy (`/v2/recapture/*`, signed
 * customer webhooks at `/webhooks/customers`, completion callbacks) and the alert relay
 * (`/alerts/<token>`, the URL to register with `client.webhooks.create`).
 *
 * Bindings (see the root `wrangler.toml`): the secrets (`wrangler secret put ...`) `RECAPTURE_API_KEY`,
 * `RECAPTURE_PROXY_TOKENS`, `RECAPTURE_WEBHOOK_SECRETS`, `RECAPTURE_CALLBACK_SECRET`,
 * `RECAPTURE_ALERT_TOKENS` and the alert destination(s) `RECAPTURE_ALERT_WEBHOOK_URL` +
 * `RECAPTURE_ALERT_WEBHOOK_SECRET` and/or `RECAPTURE_ALERT_SLACK_URL`; the `RECAPTURE_CALLBACKS`
 * queue (producer and consumer) that carries completion callbacks; and the KV namespace
 * `ALERT_IDS` that remembers alert event ids, so a push AutoGrab retries is relayed once.
 * Background relaying runs under `ctx.waitUntil` (cut about 30 s after the answer, hence the short
 * retry schedule below).
 *
 * Locally: `npx wrangler dev` from the repository root (its build step bundles this file with
 * `deno bundle --platform=browser`; see docs/edge.md); the same bundle is what the workerd test
 * suites load in Miniflare. Unexpected errors are logged with the request id and the error's
 * name only (messages may carry secrets).
 *
 * @module
 */
import {
  cloudflareKvGuard,
  type CloudflareKvNamespace,
  type CloudflareMessageBatch,
  cloudflareQueueScheduler,
  createAlertRelay,
  createRecaptureProxy,
  type RecaptureProxy,
} from "../src/edge/mod.ts";

/** The Worker's env: the secrets and vars above, and the `ALERT_IDS` KV namespace. */
type Env = { ALERT_IDS?: CloudflareKvNamespace } & Record<string, unknown>;

let proxy: RecaptureProxy | undefined;

/** Built on the first event, once per isolate: the relay's guard needs the KV binding. */
function proxyFor(env: Env): RecaptureProxy {
  return proxy ??= createRecaptureProxy({
    scheduler: cloudflareQueueScheduler({ binding: "RECAPTURE_CALLBACKS" }),
    // Without the KV binding, event ids are remembered per isolate only.
    alerts: createAlertRelay({
      guard: env.ALERT_IDS && cloudflareKvGuard(env.ALERT_IDS),
      // Relaying runs under `ctx.waitUntil`, which Cloudflare cancels about 30 s after the
      // answer: keep only the retries that fit (3 attempts of at most 5 s, 1 s and 4 s apart).
      // If the isolate stops anyway, the event id's claim lapses by itself and AutoGrab's
      // re-push is relayed again; a destination that fails for good releases it at once.
      backoffMs: [1_000, 4_000],
      timeoutMs: 5_000,
      onError: (e) => logError(e),
    }),
    onError: logError,
  });
}

/** The trace of a 500: request id and error name, never the message (it may hold a secret). */
function logError(error: unknown, requestId?: string): void {
  const name = error instanceof Error ? error.name : "error";
  console.error(`recapture edge: ${name}${requestId ? ` (request ${requestId})` : ""}`);
}

export default {
  fetch: (request: Request, env: Env, ctx: unknown): Promise<Response> =>
    proxyFor(env).fetch(request, env, ctx),
  queue: (batch: CloudflareMessageBatch, env: Env): Promise<void> =>
    proxyFor(env).queue(batch, env),
};
