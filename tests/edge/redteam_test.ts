/**
 * The red-team battery (`edge_redteam.ts`) against the Worker example (proxy and alert relay)
 * served two ways: by `Deno.serve` in this process, and by workerd under Miniflare. Every
 * request is written raw on a socket. Each case must get its expected outcome on both, so both
 * answer alike; an upstream recorder checks that nothing outside `/v2/recapture/` ever left with
 * the key, and that refused cases reached no upstream at all.
 *
 * Needs `node` (20+) and miniflare (`deno task setup`).
 */
import { assert, assertEquals } from "@std/assert";
import worker from "../../examples/cloudflare_worker.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import type { Workerd } from "../_miniflare.ts";
import { type Receiver, startExampleWorker, startReceiver, startUpstream } from "./_helpers.ts";
import type { Upstream } from "./_helpers.ts";
import { RED_TEAM_CASES, type RedTeamContext, sendRaw } from "./redteam.ts";

const TOKEN = "tok_redteam_rw_0123456789";
const WEBHOOK_SECRET = "whsec_redteam_inbound";
const ALERT_TOKEN = "alert_redteam_0123456789abcdef";
const ALERT_SECRET = "whsec_redteam_alerts";
const ODD_ID = "évt_\r\nX-Injected: 1_🚗_日本";

function bindings(upstream: Upstream, receiver: Receiver): Record<string, string> {
  return {
    RECAPTURE_API_KEY: SANDBOX_API_KEY,
    RECAPTURE_BASE_URL: upstream.url,
    RECAPTURE_PROXY_TOKENS: TOKEN,
    RECAPTURE_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    RECAPTURE_CALLBACK_SECRET: "whsec_redteam_callback",
    RECAPTURE_ALERT_TOKENS: ALERT_TOKEN,
    RECAPTURE_ALERT_WEBHOOK_URL: `${receiver.url}/alerts`,
    RECAPTURE_ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    // The upstream and the receiver are on 127.0.0.1, written so; other loopback forms stay refused.
    RECAPTURE_DEV_ALLOW_LOOPBACK: "1",
  };
}

/** A Workers KV namespace in memory (the same guard code as on workerd). */
function memoryKv() {
  const values = new Map<string, string>();
  return {
    keys: values,
    get: (k: string) => Promise.resolve(values.get(k) ?? null),
    put: (k: string, v: string) => {
      if (new TextEncoder().encode(k).length > 512) throw new Error("KV key over 512 bytes");
      values.set(k, v);
      return Promise.resolve();
    },
    delete: (k: string) => {
      values.delete(k);
      return Promise.resolve();
    },
  };
}

interface Served {
  host: string;
  close(): Promise<void>;
}

/** The Worker example's `fetch` under `Deno.serve`, with bindings like workerd's. */
function serveOnDeno(env: Record<string, unknown>): Served {
  const pending = new Set<Promise<unknown>>();
  const ctx = {
    waitUntil: (p: Promise<unknown>) => {
      const done: Promise<unknown> = p.catch(() => {}).finally(() => pending.delete(done));
      pending.add(done);
    },
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => worker.fetch(request, env, ctx),
  );
  return {
    host: `127.0.0.1:${server.addr.port}`,
    async close() {
      while (pending.size > 0) await Promise.all([...pending]);
      await server.shutdown();
    },
  };
}

interface Row {
  name: string;
  status: number;
  code?: string;
  reached: boolean;
}

async function runBattery(host: string, upstream: Upstream): Promise<Row[]> {
  const ctx: RedTeamContext = {
    token: TOKEN,
    webhookSecret: WEBHOOK_SECRET,
    alertToken: ALERT_TOKEN,
    host,
  };
  const rows: Row[] = [];
  for (const c of RED_TEAM_CASES) {
    const before = upstream.requests.length;
    const got = await sendRaw(host, await c.request(ctx));
    await upstream.sandbox.idle();
    rows.push({
      name: `${c.family}: ${c.name}`,
      status: got.status,
      ...(c.expect.code ? { code: got.code } : {}),
      reached: upstream.requests.length > before,
    });
    if (got.status !== c.expect.status) console.error(`${c.family}: ${c.name} -> ${got.body}`);
  }
  return rows;
}

const EXPECTED: Row[] = RED_TEAM_CASES.map((c) => ({
  name: `${c.family}: ${c.name}`,
  status: c.expect.status,
  ...(c.expect.code ? { code: c.expect.code } : {}),
  reached: c.expect.upstream,
}));

/** Nothing but `/v2/recapture/` ever reached the upstream (and so nothing else with the key). */
function assertOnlyRecapturePaths(upstream: Upstream): void {
  const outside = upstream.requests.filter((r) => !r.path.startsWith("/v2/recapture/"));
  assertEquals(outside.map((r) => `${r.method} ${r.path}`), []);
  assert(upstream.requests.length > 0, "the baseline cases reached the upstream");
}

/** The alert with the odd id arrived, its id header-safe in the header and exact in the body. */
async function assertOddIdDelivered(receiver: Receiver): Promise<void> {
  const deliveries = await receiver.waitFor("/alerts", 2);
  const odd = deliveries.find((d) => JSON.parse(d.body).id === ODD_ID);
  assert(odd, "the alert with CR/LF and non-Latin-1 characters in its id was delivered");
  assertEquals(odd.headers["recapture-event-id"], encodeURIComponent(ODD_ID));
}

Deno.test("red team: every case gets its outcome on Deno (raw TCP) and on workerd, alike", async () => {
  const results: Record<string, Row[]> = {};
  // Deno.serve
  {
    const upstream = await startUpstream();
    const receiver = startReceiver();
    const kv = memoryKv();
    const sent: unknown[] = [];
    const env = {
      ...bindings(upstream, receiver),
      ALERT_IDS: kv,
      RECAPTURE_CALLBACKS: { send: (m: unknown) => Promise.resolve(void sent.push(m)) },
    };
    const served = serveOnDeno(env);
    try {
      results.deno = await runBattery(served.host, upstream);
      assertOnlyRecapturePaths(upstream);
      await assertOddIdDelivered(receiver);
      assert([...kv.keys.keys()].some((k) => k.includes("sha256:")), "the long id was hashed");
    } finally {
      await served.close();
      await receiver.close();
      await upstream.close();
    }
  }
  // workerd
  {
    const upstream = await startUpstream();
    const receiver = startReceiver();
    let harness: Workerd | undefined;
    try {
      harness = await startExampleWorker(bindings(upstream, receiver));
      results.workerd = await runBattery(new URL(harness.url).host, upstream);
      assertOnlyRecapturePaths(upstream);
      await assertOddIdDelivered(receiver);
    } catch (e) {
      if (harness) console.error(harness.logs.slice(-30).join("\n"));
      throw e;
    } finally {
      await harness?.close();
      await receiver.close();
      await upstream.close();
    }
  }
  assertEquals(results.deno, EXPECTED, "Deno.serve");
  assertEquals(results.workerd, EXPECTED, "workerd");
});
