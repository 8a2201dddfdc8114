/**
 * examples/deno_deploy.ts as a user runs it (`deno serve`, sandbox mode, in a fresh directory):
 * the proxy answers its callers and the alert relay, mounted beside it, refuses a wrong or
 * malformed token and relays a ping, signed, to the destination its env names; SIGTERM stops it.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import type { EnrichedAlert } from "../../src/edge/mod.ts";
import { verifySignature } from "../../src/signature/mod.ts";
import { startDenoServe } from "../_miniflare.ts";

const ALERT_SECRET = "whsec_deploy_example_test";

Deno.test("examples/deno_deploy.ts serves the proxy and the alert relay", async () => {
  const dir = await Deno.makeTempDir();
  const received: { body: string; signature: string | null }[] = [];
  const arrived = Promise.withResolvers<void>();
  const destination = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push({
        body: await request.text(),
        signature: request.headers.get("recapture-signature"),
      });
      arrived.resolve();
      return new Response("ok");
    },
  );
  const served = await startDenoServe(
    "examples/deno_deploy.ts",
    {
      NO_COLOR: "1",
      RECAPTURE_API_KEY: "", // sandbox mode, development values
      RECAPTURE_ALERT_WEBHOOK_URL: `http://127.0.0.1:${destination.addr.port}/crm`,
      RECAPTURE_ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    },
    { cwd: dir, stopSignal: "SIGTERM", killAfterMs: 15_000 },
  );
  const base = served.url;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    assertStringIncludes(served.logs.join("\n"), "sandbox mode");

    const customers = await fetch(`${base}/v2/recapture/customers?limit=1`, {
      headers: { authorization: "Bearer dev-proxy-token" },
    });
    assertEquals(customers.status, 200);
    assertEquals((await customers.json()).success, true);

    // The token as a query parameter, as documented (request logs print paths).
    const push = async (token: string, id: string) => {
      const res = await fetch(`${base}/alerts?token=${token}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id, event: "ping" }),
      });
      return { status: res.status, body: await res.json() };
    };
    const wrong = await push("not-the-token", "evt_wrong");
    assertEquals(wrong.status, 401);
    assertEquals(await push("%E0%A4%A", "evt_malformed"), wrong);
    const inPath = await fetch(`${base}/alerts/%E0%A4%A`, { method: "POST", body: "{}" });
    assertEquals([inPath.status, (await inPath.json()).code], [400, "invalid_path"]);
    const ok = await push("dev-alert-token", "evt_deploy_ping");
    assertEquals([ok.status, ok.body.duplicate], [202, false]);
    const again = await push("dev-alert-token", "evt_deploy_ping");
    assertEquals([again.status, again.body.duplicate], [200, true]); // remembered in Deno KV

    await Promise.race([
      arrived.promise,
      new Promise((_, no) => timer = setTimeout(() => no(new Error("nothing relayed")), 15_000)),
    ]);
    clearTimeout(timer);
    assertEquals(received.length, 1);
    await verifySignature(received[0].body, received[0].signature, ALERT_SECRET);
    const alert = JSON.parse(received[0].body) as EnrichedAlert;
    assertEquals([alert.id, alert.event, alert.customer], ["evt_deploy_ping", "ping", null]);

    // Ctrl-C / SIGTERM stops it (the KV queue listeners are closed), within seconds (else it is
    // killed, and the status says so).
    const stopped = await served.close();
    assertEquals(stopped.success, true, served.logs.join("\n"));
  } finally {
    clearTimeout(timer);
    await served.close();
    await destination.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
