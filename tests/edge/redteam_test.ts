/**
 * The red-team battery (`redteam.ts`) against the Worker example (proxy and alert relay)
 * served two ways: by `Deno.serve` in this process, and by workerd under Miniflare. Every
 * request is written raw on a socket. Each case must get its expected outcome on both, so both
 * answer alike; an upstream recorder checks that nothing outside `/v2/recapture/` ever left with
 * the key, and that refused cases reached no upstream at all.
 *
 * The same battery runs under `Bun.serve` and Node in `tests/runtimes/servers_test.ts`.
 *
 * Needs `node` (20+) and miniflare (`deno task setup`).
 */
import { assert, assertEquals } from "@std/assert";
import worker from "../../examples/cloudflare_worker.ts";
import type { Workerd } from "../_miniflare.ts";
import { startExampleWorker, startReceiver, startUpstream } from "./_helpers.ts";
import {
  assertOddIdDelivered,
  assertOnlyRecapturePaths,
  EXPECTED,
  redTeamBindings,
  type Row,
  runBattery,
} from "./redteam.ts";

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

Deno.test("red team: every case gets its outcome on Deno (raw TCP) and on workerd, alike", async () => {
  const results: Record<string, Row[]> = {};
  // Deno.serve
  {
    const upstream = await startUpstream();
    const receiver = startReceiver();
    const kv = memoryKv();
    const sent: unknown[] = [];
    const env = {
      ...redTeamBindings(upstream, receiver),
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
      harness = await startExampleWorker(redTeamBindings(upstream, receiver));
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
