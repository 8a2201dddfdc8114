/**
 * The alert relay in real workerd: the Worker example (examples/cloudflare_worker.ts, the proxy
 * and the relay) is bundled with `deno bundle` and loaded by Miniflare (`tests/_miniflare.ts`)
 * with the bindings of the root `wrangler.toml`, a Workers KV namespace for event ids among them.
 * A sandbox served on 127.0.0.1 pushes to it after a simulated listing; the destination is a Deno
 * server on 127.0.0.1.
 *
 * Needs `node` (20+) and `npm` on PATH.
 */
import { assertEquals } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import type { EnrichedAlert } from "../../src/edge/mod.ts";
import { simulateMarketEvent } from "../../src/sandbox/mod.ts";
import { verifySignature } from "../../src/signature/mod.ts";
import type { Workerd } from "../_miniflare.ts";
import { startExampleWorker } from "./_helpers.ts";
import { testSandbox } from "../sandbox/_helpers.ts";

const TOKEN = "alerts_workerd_3c5e7a9b1d2f4a6c8e0b";
const SECRET = "whsec_alerts_in_workerd";

Deno.test("edge alerts (workerd): a pushed listing is relayed once, signed and enriched", async () => {
  const received: { body: string; signature: string | null }[] = [];
  const arrived = Promise.withResolvers<void>();
  const dest = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    received.push({ body: await r.text(), signature: r.headers.get("Recapture-Signature") });
    arrived.resolve();
    return new Response("ok");
  });
  const sandbox = await testSandbox({ pushBackoffMs: [50, 100] });
  const api = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, sandbox.fetch);
  const apiUrl = `http://127.0.0.1:${api.addr.port}`;
  let harness: Workerd | undefined;
  try {
    harness = await startExampleWorker({
      RECAPTURE_ALERT_TOKENS: `other_token_aaaaaaaaaaaa,${TOKEN}`,
      RECAPTURE_API_KEY: "sec_key_a",
      RECAPTURE_BASE_URL: apiUrl,
      RECAPTURE_ALERT_WEBHOOK_URL: `http://127.0.0.1:${dest.addr.port}/crm`,
      RECAPTURE_ALERT_WEBHOOK_SECRET: SECRET,
      RECAPTURE_DEV_ALLOW_LOOPBACK: "1", // the API and the destination are on 127.0.0.1
    });
    const client = new RecaptureClient({ apiKey: "sec_key_a", baseUrl: apiUrl });
    await client.uploads.create({
      name: "w",
      customers: [{ rego: "WRK001", state: "QLD", client_name: "Wendy Worker" }],
    });
    await sandbox.idle();
    await client.webhooks.create({ name: "workerd", endpoint: `${harness.url}/alerts/${TOKEN}` });
    const r = await simulateMarketEvent(client, {
      rego: "WRK001",
      state: "QLD",
      marketplace: "gumtree",
      price: 12_345,
    });
    assertEquals(r.matched, 1);
    await sandbox.pushesIdle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      arrived.promise,
      new Promise((_, no) => timer = setTimeout(() => no(new Error("no relay")), 15_000)),
    ]).finally(() => clearTimeout(timer));
    assertEquals(received.length, 1);
    await verifySignature(received[0].body, received[0].signature, SECRET);
    const alert = JSON.parse(received[0].body) as EnrichedAlert;
    assertEquals(alert.id, r.alerts[0].id);
    assertEquals(alert.event, "recapture_new");
    assertEquals(alert.customer?.client_name, "Wendy Worker");

    // AutoGrab retrying the same push: the KV namespace remembers the id.
    const push = (token: string, body: unknown) =>
      fetch(`${harness!.url}/alerts/${token}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const again = await push(TOKEN, {
      id: alert.id,
      event: "recapture_new",
      data: alert.data,
    });
    assertEquals(again.status, 200);
    assertEquals((await again.json()).duplicate, true);
    // A wrong token: rejected, nothing relayed.
    const wrong = await push("wrong_token", { id: "evt_x", event: "ping" });
    assertEquals(wrong.status, 401);
    assertEquals((await wrong.json()).code, "unauthorized");
    // Any escape in the path: the canonical-path refusal (400), not a 500.
    for (const token of ["%", `${TOKEN}%E0%A4%A`]) {
      const malformed = await push(token, { id: "evt_y", event: "ping" });
      assertEquals([malformed.status, (await malformed.json()).code], [400, "invalid_path"]);
    }
    await new Promise((ok) => setTimeout(ok, 300));
    assertEquals(received.length, 1);
  } finally {
    await harness?.close();
    await api.shutdown();
    await sandbox.close();
    await dest.shutdown();
  }
});
