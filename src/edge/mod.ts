/**
 * The edge adapter: a Hono app to deploy in front of the Recapture API. It keeps the API key,
 * lets its own callers in with bearer tokens, forwards `/v2/recapture/*`, turns signed webhooks
 * into uploads, and calls back when an upload is done.
 *
 * Runs unchanged on Deno / Deno Deploy (`Deno.serve(app.fetch)`, `deno serve`) and on Cloudflare
 * Workers (`export default app`). It never touches `Deno.*` or `process.*`: secrets come from
 * the options or the platform env, read on every request.
 *
 * Env variables (all optional when the matching option is given):
 * `RECAPTURE_API_KEY`, `RECAPTURE_BASE_URL`, `RECAPTURE_REGION`, `RECAPTURE_PROXY_TOKENS`
 * (comma-separated), `RECAPTURE_PROXY_READONLY_TOKENS`, `RECAPTURE_WEBHOOK_SECRETS`
 * (comma-separated, several during a rotation), `RECAPTURE_CALLBACK_SECRET`,
 * `RECAPTURE_OUTBOUND_ALLOW_HOSTS` (when set, the only hosts callbacks may reach, `name` or
 * `name:port`), `RECAPTURE_DEV_ALLOW_LOOPBACK` (`1`: development only, http(s) to `127.0.0.1`,
 * `[::1]` or `localhost`; off by default).
 *
 * @example Deno Deploy
 * ```ts ignore
 * import { createRecaptureProxy, denoKvScheduler } from "@recapture/sdk/edge";
 * const app = createRecaptureProxy({
 *   env: (name) => Deno.env.get(name),
 *   scheduler: denoKvScheduler(await Deno.openKv()),
 * });
 * Deno.serve(app.fetch);
 * ```
 * @example Cloudflare Workers
 * ```ts
 * import { cloudflareQueueScheduler, createRecaptureProxy } from "@recapture/sdk/edge";
 * export default createRecaptureProxy({ scheduler: cloudflareQueueScheduler() });
 * ```
 * @module
 */
import { Hono } from "hono";
import type { CloudflareMessageBatch } from "./_cf_scheduler.ts";
import type { EdgeEnv } from "./_config.ts";
import { handleForward } from "./_forward.ts";
import { errorResponse, executionCtxOf, requestIdFrom } from "./_http.ts";
import { handleIngest } from "./_ingest.ts";
import { canonicalPath } from "./_path.ts";
import { createRuntime, type RecaptureProxyOptions } from "./_runtime.ts";
import { isCallbackJob } from "./_scheduler.ts";
import type { AlertRelay } from "./alerts/mod.ts";

export type { Region } from "../sdk/schemas.ts";
export type { CallbackOutcome, CallbackSettings } from "./_callbacks.ts";
export {
  type CloudflareMessageBatch,
  type CloudflareQueueBinding,
  type CloudflareQueueMessage,
  cloudflareQueueScheduler,
  type CloudflareQueueSchedulerOptions,
} from "./_cf_scheduler.ts";
export type { EdgeEnv, ProxyToken } from "./_config.ts";
export { denoKvScheduler, type KvQueue, sharedKvQueue } from "./_kv_scheduler.ts";
export {
  cloudflareKvGuard,
  type CloudflareKvNamespace,
  denoKvReplayGuard,
  type KvAtomicOperation,
  type KvAtomicStore,
  memoryReplayGuard,
  type ReplayGuard,
} from "./_replay.ts";
export type { RecaptureProxyOptions } from "./_runtime.ts";
export type { HostResolver } from "./_outbound.ts";
export {
  ALERT_ENV,
  type AlertDeliveryOutcome,
  type AlertDestination,
  type AlertRelay,
  type AlertRelayOptions,
  createAlertRelay,
  type EnrichedAlert,
  type SlackDestination,
  slackText,
  type WebhookDestination,
} from "./alerts/mod.ts";
export type { CallbackJob, CallbackScheduler, ScheduleOptions } from "./_scheduler.ts";

/**
 * The proxy. `fetch` serves HTTP (hand it to `Deno.serve`, or `export default` the proxy on
 * Workers); `queue` consumes Cloudflare Queues batches of callback jobs.
 */
export interface RecaptureProxy {
  /** Serves one request. `env` is the Workers bindings object when on Workers. */
  fetch: (request: Request, env?: unknown, executionCtx?: unknown) => Promise<Response>;
  /** Consumes a Cloudflare Queues batch of callback jobs. */
  queue: (batch: CloudflareMessageBatch, env?: unknown) => Promise<void>;
}

/**
 * Creates the edge proxy.
 *
 * Routes: `GET /healthz`; `/v2/recapture/upload[/{id}]` and `/v2/recapture/customers[/{id}]`
 * (bearer token, forwarded with the upstream key; a `callback_url` in a
 * `POST /v2/recapture/upload` body is taken out and honoured); `POST /webhooks/customers`
 * (signed with `Recapture-Signature`, becomes an upload, 202); `/alerts[/{token}]` with
 * `alerts`. Any other path, and any path with a `%`, a dot segment, an empty segment or a
 * character outside `A-Za-z0-9._~-`, is a 400 `invalid_path` before anything else happens.
 *
 * @example
 * ```ts
 * import { createRecaptureProxy } from "@recapture/sdk/edge";
 * const app = createRecaptureProxy({
 *   apiKey: "sec_example",
 *   tokens: [{ token: "crm-token" }, { token: "dashboard-token", readOnly: true }],
 * });
 * const res = await app.fetch(new Request("http://proxy/v2/recapture/customers"));
 * console.log(res.status); // 401: no bearer token
 * ```
 */
export function createRecaptureProxy(
  options: RecaptureProxyOptions & { alerts?: AlertRelay } = {},
): RecaptureProxy {
  const rt = createRuntime(options);
  options.scheduler?.listen?.((job) => rt.runJob(job, undefined));

  const internalError = (request: Request, e: unknown): Response => {
    const requestId = requestIdFrom(request.headers);
    options.onError?.(e, requestId);
    return errorResponse(
      requestId,
      500,
      "internal_error",
      "Internal proxy error",
    );
  };

  const app = new Hono<{ Bindings: EdgeEnv }>();
  app.get(
    "/healthz",
    (c) =>
      Response.json({ ok: true }, {
        headers: { "x-request-id": requestIdFrom(c.req.raw.headers) },
      }),
  );
  app.post("/webhooks/customers", (c) => handleIngest(rt, c.req.raw, c.env));
  // Alert relay (alerts/mod.ts): AutoGrab's pushes, when `alerts` is given.
  const alerts = options.alerts;
  if (alerts) app.all("/alerts/*", (c) => alerts.fetch(c.req.raw, c.env, executionCtxOf(c)));
  app.notFound((c) =>
    errorResponse(
      requestIdFrom(c.req.raw.headers),
      404,
      "not_found",
      `No route for ${c.req.method} ${c.req.path}`,
    )
  );
  app.onError((e, c) => internalError(c.req.raw, e));

  const queue = async (batch: CloudflareMessageBatch, env?: unknown): Promise<void> => {
    for (const message of batch.messages) {
      if (!isCallbackJob(message.body)) {
        message.ack();
        continue;
      }
      try {
        await rt.runJob(message.body, env);
        message.ack();
      } catch (e) {
        options.onError?.(e);
        message.retry({ delaySeconds: 5 });
      }
    }
  };

  return {
    fetch: (request: Request, env?: unknown, executionCtx?: unknown): Promise<Response> => {
      // One canonical path, from the URL as the runtime gave it (Deno keeps the request line as
      // sent): only known routes with plain segments go further, anything else is a 400 here.
      const read = canonicalPath(request);
      if (!read.ok) {
        request.body?.cancel().catch(() => {});
        return Promise.resolve(errorResponse(
          requestIdFrom(request.headers),
          400,
          read.code,
          `Refused request ${read.code === "invalid_host" ? "host" : "path"}: ${read.reason}`,
        ));
      }
      if (read.route.kind === "forward") {
        return handleForward(rt, request, env, read.route.path)
          .catch((e) => internalError(request, e));
      }
      return Promise.resolve(
        app.fetch(request, env as EdgeEnv, executionCtx as Parameters<typeof app.fetch>[2]),
      );
    },
    queue,
  };
}
