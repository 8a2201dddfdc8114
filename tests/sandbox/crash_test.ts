/**
 * Crash safety: a sandbox subprocess on a KV file takes a 50,000-customer upload, is killed with
 * SIGKILL while chunks are processing, and is restarted on the same file. Every good customer
 * then exists exactly once and the counters add up.
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { generateCustomers } from "../../examples/_customers.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { type Body, startSandboxProcess as start } from "./_helpers.ts";

const HEADERS = { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" };

async function get(url: string): Promise<Body> {
  const response = await fetch(url, { headers: HEADERS });
  return await response.json();
}

Deno.test({
  name: "crash safety: SIGKILL while processing, restart, every customer exactly once",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "recapture_crash_" });
    const path = `${dir}/sandbox.kv`;
    const { customers, bad } = generateCustomers(50_000, { badRatio: 0.03, seed: 11 });
    let child = await start(path);
    try {
      const post = await fetch(`${child.url}/v2/recapture/upload?region=au`, {
        method: "POST",
        headers: HEADERS,
        body: JSON.stringify({ name: "crash", customers }),
      });
      assertEquals(post.status, 201);
      const { upload } = await post.json();
      const statusUrl = `/v2/recapture/upload/${upload.id}?region=au`;
      let before = (await get(child.url + statusUrl)).upload!;
      while (before.total_processed_customers === 0) {
        before = (await get(child.url + statusUrl)).upload!;
      }
      child.process.kill("SIGKILL");
      await child.process.status;
      await child.drained;
      assert(
        before.total_processed_customers < 50_000,
        `killed mid-processing (${before.total_processed_customers} processed)`,
      );

      child = await start(path);
      const deadline = Date.now() + 25_000;
      let after = (await get(child.url + statusUrl)).upload!;
      while (after.status !== "completed" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        after = (await get(child.url + statusUrl)).upload!;
      }
      assertEquals(after.status, "completed");
      assertEquals(after.total_uploaded_customers, 50_000);
      assertEquals(after.total_processed_customers, 50_000);
      assertEquals(after.total_errors, bad.size);
      assertGreater(bad.size, 1000);
      assertEquals(after.errors.map((e) => e.index), [...bad].sort((a, b) => a - b).slice(0, 100));

      const ids = new Set<string>();
      const externalIds: string[] = [];
      let total = -1;
      for (let offset = 0; offset === 0 || offset < total; offset += 1000) {
        const page = await get(
          `${child.url}/v2/recapture/customers?region=au&upload_id=${upload.id}&limit=1000&offset=${offset}`,
        );
        total = page.total!;
        for (const c of page.customers!) {
          ids.add(c.id);
          externalIds.push(c.external_id!);
        }
      }
      const expected = customers.filter((_, i) => !bad.has(i)).map((c) => c.external_id);
      assertEquals(total, 50_000 - bad.size);
      assertEquals(ids.size, 50_000 - bad.size, "each customer once");
      assertEquals(externalIds, expected, "exactly the good rows, in order");
    } finally {
      try {
        child.process.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.process.status;
      await child.drained;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
