/**
 * The alert relay in real workerd: the Worker example (examples/cloudflare_alerts_worker.ts) is
 * bundled with `deno bundle`, loaded by Miniflare (npm `miniflare`, installed into
 * `.recapture/workerd-tools` on first run, as tests/edge_workerd_test.ts does) with a Workers KV
 * namespace for event ids. A sandbox served on 127.0.0.1 pushes to it after a simulated listing;
 * the destination is a Deno server on 127.0.0.1.
 *
 * Needs `node` (20+) and `npm` on PATH.
 */
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient } from "../mod.ts";
import type { EnrichedAlert } from "../src/edge/mod.ts";
import { simulateMarketEvent } from "../src/sandbox/mod.ts";
import { verifySignature } from "../src/webhooks.ts";
import { testSandbox } from "./sandbox_helpers.ts";

const MINIFLARE_VERSION = "4.20260426.0";
const ROOT = new URL("..", import.meta.url).pathname;
const TOOLS = `${ROOT}.recapture/workerd-tools`;
const BUNDLE = `${ROOT}.recapture/workerd/alerts_worker.js`;
const TOKEN = "alerts_workerd_3c5e7a9b1d2f4a6c8e0b";
const SECRET = "whsec_alerts_in_workerd";

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

async function ensureMiniflare(): Promise<void> {
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${TOOLS}/node_modules/miniflare/package.json`));
    if (pkg.version === MINIFLARE_VERSION) return;
  } catch {
    // not installed yet
  }
  await Deno.mkdir(TOOLS, { recursive: true });
  await run("npm", [
    "install",
    "--prefix",
    TOOLS,
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `miniflare@${MINIFLARE_VERSION}`,
  ]);
}

async function startWorkerd(bindings: Record<string, string>) {
  const child = new Deno.Command("node", {
    args: [`${ROOT}tests/workerd/alerts_harness.mjs`, BUNDLE, TOOLS],
    cwd: ROOT,
    env: { WORKER_BINDINGS: JSON.stringify(bindings) },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  const ready = Promise.withResolvers<string>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^READY (\S+)/.exec(line);
        if (m) ready.resolve(m[1]);
        else logs.push(line);
      }
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const exited = child.status.then((s) => {
    ready.resolve("");
    return s;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    ready.promise,
    new Promise<string>((r) => timer = setTimeout(() => r(""), 30_000)),
  ]);
  clearTimeout(timer);
  const close = async () => {
    await child.stdin.close().catch(() => {});
    await exited;
    await drained;
  };
  if (!url) {
    try {
      child.kill();
    } catch { /* gone */ }
    await close();
    throw new Error(`workerd harness did not start:\n${logs.join("\n")}`);
  }
  return { url: url.replace(/\/$/, ""), logs, close };
}

Deno.test("edge alerts (workerd): a pushed listing is relayed once, signed and enriched", async () => {
  await ensureMiniflare();
  await Deno.mkdir(`${ROOT}.recapture/workerd`, { recursive: true });
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform=browser",
    "examples/cloudflare_alerts_worker.ts",
    "-o",
    BUNDLE,
  ]);
  assert(!/\bDeno\.[a-z]/.test(await Deno.readTextFile(BUNDLE)), "no Deno.* in the bundle");

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
  let harness: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  try {
    harness = await startWorkerd({
      RECAPTURE_ALERT_TOKENS: `other_token_aaaaaaaaaaaa,${TOKEN}`,
      RECAPTURE_API_KEY: "sec_key_a",
      RECAPTURE_BASE_URL: apiUrl,
      RECAPTURE_ALERT_WEBHOOK_URL: `http://127.0.0.1:${dest.addr.port}/crm`,
      RECAPTURE_ALERT_WEBHOOK_SECRET: SECRET,
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
    await wrong.body?.cancel();
    await new Promise((ok) => setTimeout(ok, 300));
    assertEquals(received.length, 1);
  } finally {
    await harness?.close();
    await api.shutdown();
    await sandbox.close();
    await dest.shutdown();
  }
});
