/**
 * A receiver for what the edge adapter sends, each route one line of verification: the proxy's
 * `upload.completed` callbacks (`/hooks/recapture`) and the alert relay's enriched alerts
 * (`/hooks/alerts`), both signed with `Recapture-Signature`.
 *
 * ```sh
 * RECAPTURE_CALLBACK_SECRET=whsec_dev_callback RECAPTURE_ALERT_WEBHOOK_SECRET=whsec_dev_alerts \
 *   deno run --allow-net --allow-env examples/receiver.ts
 * # then ingest with "callback_url": "http://127.0.0.1:8788/hooks/recapture"; alerts arrive
 * # from examples/deno_deploy.ts in sandbox mode (its RECAPTURE_ALERT_WEBHOOK_URL points here)
 * ```
 *
 * The same file works as a Cloudflare Worker (`export default app`, secrets in the Worker env).
 *
 * @module
 */
import { Hono } from "hono";
import type { EnrichedAlert } from "../src/edge/mod.ts";
import { type UploadCompletedEvent, verifyWebhook } from "../src/signature/mod.ts";

type Bindings = { RECAPTURE_CALLBACK_SECRET?: string; RECAPTURE_ALERT_WEBHOOK_SECRET?: string };

const app = new Hono<{ Bindings: Bindings }>();

app.post(
  "/hooks/recapture",
  // The one line: the secret comes from the Worker env, or from Deno's env below.
  verifyWebhook({ secret: (env) => String(env.RECAPTURE_CALLBACK_SECRET ?? "") }),
  async (c) => {
    const event = await c.req.json<UploadCompletedEvent>();
    const { upload_id, status, total_processed_customers, total_errors } = event.data;
    console.log(
      `${event.id}: upload ${upload_id} ${status}, ${total_processed_customers} processed, ` +
        `${total_errors} errors`,
    );
    return c.json({ received: event.id });
  },
);

app.post(
  "/hooks/alerts",
  verifyWebhook({ secret: (env) => String(env.RECAPTURE_ALERT_WEBHOOK_SECRET ?? "") }),
  async (c) => {
    const alert = await c.req.json<EnrichedAlert>();
    const who = alert.customer?.client_name ?? alert.customer?.id ?? alert.customer_error ?? "-";
    console.log(`${alert.id}: ${alert.event} (customer: ${who})`);
    return c.json({ received: alert.id });
  },
);

export default app;

if (import.meta.main && typeof Deno !== "undefined") {
  const env: Bindings = {
    RECAPTURE_CALLBACK_SECRET: Deno.env.get("RECAPTURE_CALLBACK_SECRET") ?? "",
    RECAPTURE_ALERT_WEBHOOK_SECRET: Deno.env.get("RECAPTURE_ALERT_WEBHOOK_SECRET") ?? "",
  };
  Deno.serve(
    { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8788) },
    (req) => app.fetch(req, env),
  );
}
