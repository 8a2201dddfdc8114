/**
 * The same edge cases as `proxy_test.ts`, run in real workerd: the Cloudflare Worker
 * example is bundled with `deno bundle`, loaded by Miniflare (installed by `deno task setup`;
 * `tests/_miniflare.ts` starts it) with the queue and KV bindings of
 * the root `wrangler.toml`, and driven over HTTP on 127.0.0.1. The upstream is a sandbox served
 * by Deno on 127.0.0.1.
 *
 * Needs `node` (20+) on PATH, as CI machines have.
 */
import { assertEquals } from "@std/assert";
import type { Workerd } from "../_miniflare.ts";
import { caseContext, caseEnv, type CaseSecrets, EDGE_CASES } from "./_cases.ts";
import {
  EXAMPLE_WORKER_RESOURCES,
  startExampleWorker,
  startReceiver,
  startUpstream,
} from "./_helpers.ts";

const SECRETS: CaseSecrets = {
  token: "tok_rw_workerd_0123456789",
  readOnlyToken: "tok_ro_workerd_9876543210",
  webhookSecrets: ["whsec_current_in_workerd", "whsec_previous_in_workerd"],
  callbackSecret: "whsec_callback_in_workerd",
};

Deno.test("edge (workerd): the Worker example under Miniflare passes the edge cases", async (t) => {
  const upstream = await startUpstream();
  const receiver = startReceiver();
  let harness: Workerd | undefined;
  try {
    harness = await startExampleWorker(caseEnv(SECRETS, upstream.url));
    const base = harness.url;
    const send = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);
    const ctx = caseContext(SECRETS, upstream, receiver, send, 20_000);
    for (const c of EDGE_CASES) {
      const ok = await t.step(c.name, () => c.fn(ctx));
      if (!ok) console.error(harness.logs.slice(-30).join("\n"));
    }
  } finally {
    await harness?.close();
    await receiver.close();
    await upstream.close();
  }
});

Deno.test("edge (workerd): wrangler.toml declares the bindings the suites give", async () => {
  const toml = await Deno.readTextFile(new URL("../../wrangler.toml", import.meta.url));
  const declared = (table: string, key: string) =>
    [...toml.matchAll(new RegExp(`\\[\\[${table}\\]\\][^[]*?${key} = "([^"]+)"`, "g"))]
      .map((m) => m[1]).sort();
  const r = EXAMPLE_WORKER_RESOURCES;
  assertEquals(declared("queues\\.producers", "binding"), Object.keys(r.queueProducers!).sort());
  assertEquals(declared("queues\\.producers", "queue"), Object.values(r.queueProducers!).sort());
  assertEquals(declared("queues\\.consumers", "queue"), Object.keys(r.queueConsumers!).sort());
  assertEquals(declared("kv_namespaces", "binding"), [...r.kvNamespaces!].sort());
  assertEquals(/^main = "\.recapture\/wrangler\/worker\.js"$/m.test(toml), true);
  assertEquals(
    toml.includes("examples/cloudflare_worker.ts -o .recapture/wrangler/worker.js"),
    true,
  );
});
