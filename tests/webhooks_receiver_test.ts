import { assertEquals } from "@std/assert";
import app from "../examples/receiver.ts";
import { signPayload } from "../src/webhooks.ts";

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

Deno.test("examples/receiver.ts accepts a signed callback and refuses others", async () => {
  const body = JSON.stringify(event);
  const post = (header: string | null) =>
    app.request("/hooks/recapture", {
      method: "POST",
      headers: header ? { "recapture-signature": header } : {},
      body,
    }, env);
  const log = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
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
  } finally {
    console.log = log;
  }
});
