/**
 * The edge adapter on Deno Deploy, or locally with `deno task proxy`: the proxy
 * (`/v2/recapture/*`, signed customer webhooks at `/webhooks/customers`, completion callbacks)
 * and the alert relay (`/alerts?token=<token>`, the URL to register with `client.webhooks.create`).
 *
 * With `RECAPTURE_API_KEY` set it fronts the real API; without it, it fronts an embedded sandbox
 * (`.recapture/sandbox.kv`) and fills in development credentials, printed at start-up.
 *
 * Deploy: set `RECAPTURE_API_KEY`, `RECAPTURE_PROXY_TOKENS`, `RECAPTURE_WEBHOOK_SECRETS`,
 * `RECAPTURE_CALLBACK_SECRET`, and for alerts `RECAPTURE_ALERT_TOKENS` with
 * `RECAPTURE_ALERT_WEBHOOK_URL` + `RECAPTURE_ALERT_WEBHOOK_SECRET` and/or
 * `RECAPTURE_ALERT_SLACK_URL` in the project's env, and deploy this file (its default export is
 * served, as with `deno serve`). `Deno.serve(app.fetch)` works the same way. Everything durable
 * lives in the project's one Deno KV: callbacks and alert retries wait in its queue, shared
 * through `sharedKvQueue`; webhook deliveries and alert event ids are remembered in it, so every
 * instance refuses a replay and relays a retried push once.
 *
 * ```sh
 * deno task proxy                      # http://127.0.0.1:8790, sandbox mode
 * curl -H "Authorization: Bearer dev-proxy-token" http://127.0.0.1:8790/v2/recapture/customers
 * deno run --allow-net --allow-env examples/receiver.ts   # prints relayed alerts
 * curl -X POST -d '{"id":"evt_1","event":"ping"}' "http://127.0.0.1:8790/alerts?token=dev-alert-token"
 * ```
 *
 * @module
 */
import {
  createAlertRelay,
  createRecaptureProxy,
  denoKvReplayGuard,
  denoKvScheduler,
  sharedKvQueue,
} from "../src/edge/mod.ts";

const realApi = (Deno.env.get("RECAPTURE_API_KEY") ?? "") !== "";

/** Development defaults, used only in sandbox mode and only where the env has no value. */
const DEV_DEFAULTS: Record<string, string> = {
  RECAPTURE_PROXY_TOKENS: "dev-proxy-token",
  RECAPTURE_PROXY_READONLY_TOKENS: "dev-readonly-token",
  RECAPTURE_WEBHOOK_SECRETS: "whsec_dev_inbound",
  RECAPTURE_CALLBACK_SECRET: "whsec_dev_callback",
  // Development only: callbacks and alert destinations on http://127.0.0.1 / localhost.
  RECAPTURE_DEV_ALLOW_LOOPBACK: "1",
  // Alerts go to examples/receiver.ts.
  RECAPTURE_ALERT_TOKENS: "dev-alert-token",
  RECAPTURE_ALERT_WEBHOOK_URL: "http://127.0.0.1:8788/hooks/alerts",
  RECAPTURE_ALERT_WEBHOOK_SECRET: "whsec_dev_alerts",
};

let upstreamFetch: ((request: Request) => Promise<Response>) | undefined;
let sandboxKey: string | undefined;
let closeSandbox: (() => Promise<void>) | undefined;
if (!realApi) {
  const { createSandbox, SANDBOX_API_KEY } = await import("../src/sandbox/mod.ts");
  await Deno.mkdir(".recapture", { recursive: true });
  const sandbox = await createSandbox({ path: ".recapture/sandbox.kv" });
  upstreamFetch = sandbox.fetch;
  closeSandbox = () => sandbox.close();
  sandboxKey = SANDBOX_API_KEY;
  const defaulted = Object.entries(DEV_DEFAULTS).filter(([name]) => !Deno.env.get(name));
  console.log(
    "recapture proxy: sandbox mode (no RECAPTURE_API_KEY); development values in use: " +
      (defaulted.map(([name, value]) => `${name}=${value}`).join(", ") || "none"),
  );
}

const env = (name: string): string | undefined =>
  Deno.env.get(name) ?? (realApi ? undefined : DEV_DEFAULTS[name]);

// The managed KV on Deploy, a local file otherwise.
const kv = await Deno.openKv(realApi ? undefined : ".recapture/proxy_queue.kv");
const queue = sharedKvQueue(kv);

// `deno serve` stops gracefully on Ctrl-C / SIGTERM, waiting for pending work, and a queue
// listener is pending until its KV closes: close them. (Deno Deploy runs the process itself.)
if (!Deno.env.get("DENO_DEPLOYMENT_ID")) {
  const close = () => {
    kv.close();
    closeSandbox?.().catch(() => {});
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, close);
    } catch {
      // SIGTERM cannot be listened to on Windows
    }
  }
}

/** Resolves a callback's or destination's host before each delivery (private answers refused). */
const resolveHost = async (host: string): Promise<string[]> => {
  const answers = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  return answers.flatMap((a) => a.status === "fulfilled" ? a.value : []);
};

/** Logs the request id and the error's name only: messages may carry secrets. */
const onError = (e: unknown, requestId?: string): void =>
  console.error(
    `recapture edge: ${e instanceof Error ? e.name : "error"}${
      requestId ? ` (request ${requestId})` : ""
    }`,
  );

const alerts = createAlertRelay({
  env,
  apiKey: sandboxKey, // sandbox mode; otherwise RECAPTURE_API_KEY from the env
  apiFetch: upstreamFetch,
  guard: denoKvReplayGuard(kv, { prefix: "recapture_alert_ids" }),
  queue,
  resolveHost,
  onError,
});

const app = createRecaptureProxy({
  env,
  apiKey: sandboxKey,
  fetch: upstreamFetch,
  scheduler: denoKvScheduler(queue),
  replayGuard: denoKvReplayGuard(kv),
  resolveHost,
  onError,
  alerts,
});

export default app;
