/**
 * The alert relay alone on Cloudflare Workers: register `https://<worker>/alerts/<token>` with
 * `client.webhooks.create`. Bindings: the secrets `RECAPTURE_ALERT_TOKENS`, `RECAPTURE_API_KEY`,
 * `RECAPTURE_ALERT_WEBHOOK_URL` + `RECAPTURE_ALERT_WEBHOOK_SECRET` and/or
 * `RECAPTURE_ALERT_SLACK_URL`, and a KV namespace `ALERT_IDS` that remembers event ids (so a
 * retried push is relayed once). Background relaying runs under `ctx.waitUntil`.
 *
 * Bundle: `deno bundle --platform=browser examples/cloudflare_alerts_worker.ts -o worker.js`.
 *
 * @module
 */
import {
  type AlertRelay,
  cloudflareKvGuard,
  type CloudflareKvNamespace,
  createAlertRelay,
} from "../src/edge/mod.ts";

let relay: AlertRelay | undefined;

export default {
  fetch(request: Request, env: { ALERT_IDS: CloudflareKvNamespace }, ctx: unknown) {
    relay ??= createAlertRelay({ guard: cloudflareKvGuard(env.ALERT_IDS) });
    return relay.fetch(request, env, ctx);
  },
};
