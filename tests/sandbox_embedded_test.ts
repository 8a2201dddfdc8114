/** `openClient`: the real API with `RECAPTURE_API_KEY`, else an in-process sandbox on a KV file. */
import { assertEquals, assertExists } from "@std/assert";
import { openClient } from "../src/sandbox/embedded.ts";

Deno.test("openClient: without a key, an in-process sandbox on a KV file that survives reopening", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/sandbox.kv`;
  try {
    const first = await openClient({ path, env: {}, region: "nz" });
    assertEquals(first.mode, "sandbox");
    assertExists(first.sandbox);
    const up = await first.client.uploads.create({ name: "kept", customers: [{ rego: "KIWI1" }] });
    await first.sandbox.idle();
    await first.close();
    const second = await openClient({ path, env: { RECAPTURE_API_KEY: "  " }, region: "nz" });
    try {
      assertEquals(second.mode, "sandbox", "a blank key counts as unset");
      const page = await second.client.customers.list({ upload_id: up.id });
      assertEquals(page.customers.map((c) => c.rego), ["KIWI1"]);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openClient: with RECAPTURE_API_KEY, a client of the real API (no sandbox opened)", async () => {
  const opened = await openClient({
    env: { RECAPTURE_API_KEY: "sec_live_example", RECAPTURE_BASE_URL: "http://127.0.0.1:9" },
  });
  assertEquals(opened.mode, "api");
  assertEquals(opened.sandbox, undefined);
  await opened.close();
});
