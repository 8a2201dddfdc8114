import { assertEquals } from "@std/assert";
import app from "../../examples/receiver.ts";
import { signPayload } from "../../src/signature/mod.ts";

const env = { RECAPTURE_CALLBACK_SECRET: "whsec_receiver_test" };
const event = {
  id: "evt_receiver",
  type: "upload.completed",
  created_at: "2026-01-01T00:00:00.000Z",
  data: {
    upload_id: "upl_1",
    region: "au",
    status: "completed",
    total_uploaded_customers: 2,
    total_processed_customers: 2,
    total_errors: 0,
  },
};

/** POSTs `body` to a receiver route with a signature header; collects what the route logs. */
async function withReceiver(
  path: string,
  body: string,
  env: Record<string, string>,
  fn: (post: (signature: string | null) => Promise<Response>, lines: string[]) => Promise<void>,
): Promise<void> {
  const post = async (signature: string | null) =>
    await app.request(path, {
      method: "POST",
      headers: signature ? { "recapture-signature": signature } : {},
      body,
    }, env);
  const log = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    await fn(post, lines);
  } finally {
    console.log = log;
  }
}

Deno.test("examples/receiver.ts accepts a signed callback and refuses others", async () => {
  const body = JSON.stringify(event);
  await withReceiver("/hooks/recapture", body, env, async (post, lines) => {
    const ok = await post(await signPayload(body, env.RECAPTURE_CALLBACK_SECRET));
    assertEquals(ok.status, 200);
    assertEquals(await ok.json(), { received: "evt_receiver" });
    assertEquals(lines, ["evt_receiver: upload upl_1 completed, 2 processed, 0 errors"]);
    const forged = await post(await signPayload(body, "whsec_someone_else"));
    assertEquals(forged.status, 401);
    assertEquals((await forged.json()).reason, "no_matching_signature");
    const unsigned = await post(null);
    assertEquals(unsigned.status, 401);
    assertEquals((await unsigned.json()).reason, "missing_header");
    assertEquals(lines.length, 1, "the handler ran only for the signed delivery");
  });
});

Deno.test("examples/receiver.ts accepts a signed alert from the relay and refuses others", async () => {
  const secrets = { RECAPTURE_ALERT_WEBHOOK_SECRET: "whsec_receiver_alerts" };
  const alert = {
    id: "evt_alert",
    event: "recapture_new",
    created_at: null,
    region: "au",
    data: { customer_id: "cus_1" },
    customer: { id: "cus_1", client_name: "Jo Citizen" },
    received_at: "2026-01-01T00:00:00.000Z",
  };
  const body = JSON.stringify(alert);
  await withReceiver("/hooks/alerts", body, secrets, async (post, lines) => {
    const ok = await post(await signPayload(body, secrets.RECAPTURE_ALERT_WEBHOOK_SECRET));
    assertEquals(ok.status, 200);
    assertEquals(await ok.json(), { received: "evt_alert" });
    assertEquals(lines, ["evt_alert: recapture_new (customer: Jo Citizen)"]);
    // The callback secret does not sign alerts: each route has its own.
    const other = await post(await signPayload(body, env.RECAPTURE_CALLBACK_SECRET));
    assertEquals(other.status, 401);
    assertEquals(lines.length, 1);
  });
});
