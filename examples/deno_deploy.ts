/**
 * The edge proxy on Deno Deploy, or locally with `deno task proxy`.
 *
 * With `RECAPTURE_API_KEY` set it fronts the real API; without it, it fronts an embedded sandbox
 * (`.recapture/sandbox.kv`) and fills in development credentials, printed at start-up.
 *
 * Deploy: set `RECAPTURE_API_KEY`, `RECAPTURE_PROXY_TOKENS`, `RECAPTURE_WEBHOOK_SECRETS`,
 * `RECAPTURE_CALLBACK_SECRET` in the project's env, and deploy this file (its default export is
 * served, as with `deno serve`). `Deno.serve(app.fetch)` works the same way.
 *
 * ```sh
 * deno task proxy                      # http://127.0.0.1:8787, sandbox mode
 * curl -H "Authorization: Bearer dev-proxy-token" http://127.0.0.1:8787/v2/recapture/customers
 * ```
 *
 * @module
 */
import { createRecaptureProxy, denoKvScheduler } from "../src/edge/mod.ts";

const realApi = (Deno.env.get("RECAPTURE_API_KEY") ?? "") !== "";

/** Development defaults, used only in sandbox mode and only where the env has no value. */
const DEV_DEFAULTS: Record<string, string> = {
  RECAPTURE_PROXY_TOKENS: "dev-proxy-token",
  RECAPTURE_PROXY_READONLY_TOKENS: "dev-readonly-token",
  RECAPTURE_WEBHOOK_SECRETS: "whsec_dev_inbound",
  RECAPTURE_CALLBACK_SECRET: "whsec_dev_callback",
  RECAPTURE_CALLBACK_ALLOW_HOSTS: "127.0.0.1,localhost",
};

let upstreamFetch: ((request: Request) => Promise<Response>) | undefined;
let sandboxKey: string | undefined;
if (!realApi) {
  const { createSandbox, SANDBOX_API_KEY } = await import("../src/sandbox/mod.ts");
  await Deno.mkdir(".recapture", { recursive: true });
  const sandbox = await createSandbox({ path: ".recapture/sandbox.kv" });
  upstreamFetch = sandbox.fetch;
  sandboxKey = SANDBOX_API_KEY;
  const defaulted = Object.entries(DEV_DEFAULTS).filter(([name]) => !Deno.env.get(name));
  console.log(
    "recapture proxy: sandbox mode (no RECAPTURE_API_KEY); development values in use: " +
      (defaulted.map(([name, value]) => `${name}=${value}`).join(", ") || "none"),
  );
}

// Callbacks wait on a Deno KV queue: the managed KV on Deploy, a local file otherwise.
const kv = await Deno.openKv(realApi ? undefined : ".recapture/proxy_queue.kv");

const app = createRecaptureProxy({
  env: (name) => Deno.env.get(name) ?? (realApi ? undefined : DEV_DEFAULTS[name]),
  apiKey: sandboxKey,
  fetch: upstreamFetch,
  scheduler: denoKvScheduler(kv),
});

export default app;
