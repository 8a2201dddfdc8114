/**
 * A receiver for the edge proxy's `upload.completed` callbacks: one line of verification.
 *
 * ```sh
 * RECAPTURE_CALLBACK_SECRET=whsec_dev_callback deno run --allow-net --allow-env examples/receiver.ts
 * # then ingest with "callback_url": "http://127.0.0.1:8788/hooks/recapture"
 * ```
 *
 * The same file works as a Cloudflare Worker (`export default app`, secret in the Worker env).
 *
 * @module
 */
import { Hono } from "hono";
import { type UploadCompletedEvent, verifyWebhook } from "../src/webhooks.ts";

type Bindings = { RECAPTURE_CALLBACK_SECRET?: string };

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

export default app;

if (import.meta.main && typeof Deno !== "undefined") {
  const secret = Deno.env.get("RECAPTURE_CALLBACK_SECRET") ?? "";
  Deno.serve(
    { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8788) },
    (req) => app.fetch(req, { RECAPTURE_CALLBACK_SECRET: secret }),
  );
}
