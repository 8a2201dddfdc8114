/**
 * examples/deno_deploy.ts as a user runs it (`deno serve`, sandbox mode, in a fresh directory):
 * the proxy answers its callers and the alert relay, mounted beside it, refuses a wrong or
 * malformed token and relays a ping, signed, to the destination its env names; SIGTERM stops it.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import type { EnrichedAlert } from "../../src/edge/mod.ts";
import { verifySignature } from "../../src/signature/mod.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
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
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      "-A",
      "--config",
      `${ROOT}deno.json`,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      `${ROOT}examples/deno_deploy.ts`,
    ],
    cwd: dir,
    env: {
      NO_COLOR: "1",
      RECAPTURE_API_KEY: "", // sandbox mode, development values
      RECAPTURE_ALERT_WEBHOOK_URL: `http://127.0.0.1:${destination.addr.port}/crm`,
      RECAPTURE_ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const listening = Promise.withResolvers<string>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) listening.resolve(m[1]);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  child.status.then(() => listening.resolve(""));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const base = await Promise.race([
      listening.promise,
      new Promise<string>((ok) => timer = setTimeout(() => ok(""), 30_000)),
    ]);
    clearTimeout(timer);
    assertMatch(base, /^http:/, `deno serve did not start:\n${output}`);
    assertStringIncludes(output, "sandbox mode");

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

    // Ctrl-C / SIGTERM stops it (the KV queue listeners are closed), within seconds.
    child.kill("SIGTERM");
    const stopped = await Promise.race([
      child.status.then((s) => s.success),
      new Promise<string>((ok) => timer = setTimeout(() => ok("still running"), 15_000)),
    ]);
    assertEquals(stopped, true, output);
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await drained;
    await destination.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
