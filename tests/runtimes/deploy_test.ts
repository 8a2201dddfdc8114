/**
 * Deno Deploy's constraints: `examples/deno_deploy.ts` served by `deno serve` with
 * `--deny-run --deny-ffi --deny-write` (no subprocess, no native code, no file writes, as on
 * Deploy) and `DENO_DEPLOYMENT_ID` set, in front of a real API (a sandbox served over HTTP),
 * with the default Deno KV (`Deno.openKv()`, as Deploy's managed KV): the proxy forwards with the
 * key, the alert relay remembers an event id in KV (a retried push is a duplicate) and delivers
 * it through the KV queue, signed; no permission was ever refused.
 */
import { assert, assertEquals } from "@std/assert";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { verifySignature } from "../../src/signature/mod.ts";
import { childEnv } from "../_child_env.ts";
import { startDenoServe, withHarness } from "../_miniflare.ts";
import { startReceiver, startUpstream } from "../edge/_helpers.ts";

const TOKEN = "tok_deploy_rw_0123456789";
const ALERT_TOKEN = "alert_deploy_0123456789abcdef";
const ALERT_SECRET = "whsec_deploy_alerts";

Deno.test("Deno Deploy: the example runs with --deny-run --deny-ffi --deny-write and Deno KV", async () => {
  const dir = await Deno.makeTempDir({ prefix: "recapture_deploy_" });
  const upstream = await startUpstream();
  const receiver = startReceiver();
  try {
    await withHarness(() =>
      startDenoServe(
        "examples/deno_deploy.ts",
        childEnv({
          DENO_DEPLOYMENT_ID: "deploy_test",
          RECAPTURE_API_KEY: SANDBOX_API_KEY,
          RECAPTURE_BASE_URL: upstream.url,
          RECAPTURE_PROXY_TOKENS: TOKEN,
          RECAPTURE_WEBHOOK_SECRETS: "whsec_deploy_inbound",
          RECAPTURE_CALLBACK_SECRET: "whsec_deploy_callback",
          RECAPTURE_ALERT_TOKENS: ALERT_TOKEN,
          RECAPTURE_ALERT_WEBHOOK_URL: `${receiver.url}/alerts`,
          RECAPTURE_ALERT_WEBHOOK_SECRET: ALERT_SECRET,
          RECAPTURE_DEV_ALLOW_LOOPBACK: "1",
        }),
        {
          flags: ["--deny-run", "--deny-ffi", "--deny-write"],
          cwd: dir,
          stopSignal: "SIGKILL", // on Deploy the platform stops the process; no signal listener
          clearEnv: true,
        },
      ), async (served) => {
      const customers = await fetch(`${served.url}/v2/recapture/customers?limit=1`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assertEquals([customers.status, (await customers.json()).success], [200, true]);
      const forwarded = upstream.requests.filter((r) => r.path === "/v2/recapture/customers");
      assertEquals(forwarded.length, 1, "forwarded once");
      assert(
        Object.values(forwarded[0].headers).some((v) => v.includes(SANDBOX_API_KEY)),
        "forwarded with the API key",
      );

      // A fresh id per run: the default KV is shared by runs of the same example file.
      const id = `evt_deploy_${crypto.randomUUID()}`;
      const push = async () => {
        const res = await fetch(`${served.url}/alerts?token=${ALERT_TOKEN}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ id, event: "ping" }),
        });
        return [res.status, (await res.json()).duplicate];
      };
      assertEquals(await push(), [202, false]);
      assertEquals(await push(), [200, true]); // remembered in Deno KV
      const [delivery] = await receiver.waitFor("/alerts", 1); // through the KV queue
      await verifySignature(delivery.body, delivery.headers["recapture-signature"], ALERT_SECRET);
      assertEquals(JSON.parse(delivery.body).id, id);

      const refused = served.logs.filter((l) =>
        /NotCapable|PermissionDenied|Requires \w+ access/.test(l)
      );
      assertEquals(refused, [], "a permission was refused");
      assertEquals([...Deno.readDirSync(dir)], [], "nothing written in the working directory");
    });
  } finally {
    await receiver.close();
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
});
