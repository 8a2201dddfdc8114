import { assertEquals } from "@std/assert";
import {
  createRecaptureProxy,
  denoKvReplayGuard,
  memoryReplayGuard,
  type ReplayGuard,
} from "../../src/edge/mod.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { signPayload } from "../../src/signature/mod.ts";
import { startUpstream } from "./_helpers.ts";

async function semantics(guard: ReplayGuard): Promise<void> {
  assertEquals(await guard.claim("sig-a", 60_000), true);
  assertEquals(await guard.claim("sig-a", 60_000), false);
  assertEquals(await guard.claim("sig-b", 60_000), true);
  await guard.release("sig-a");
  assertEquals(await guard.claim("sig-a", 60_000), true);
}

Deno.test("memoryReplayGuard: claim once, release, expire", async () => {
  const guard = memoryReplayGuard();
  await semantics(guard);
  assertEquals(await guard.claim("short", 1), true);
  await new Promise((r) => setTimeout(r, 5));
  assertEquals(await guard.claim("short", 1), true, "an expired claim can be made again");
  const small = memoryReplayGuard({ maxEntries: 10 });
  for (let i = 0; i < 50; i++) assertEquals(await small.claim(`k${i}`, 60_000), true);
  assertEquals(await small.claim("k49", 60_000), false, "recent entries survive pruning");
});

Deno.test("denoKvReplayGuard: claim once, release", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await semantics(denoKvReplayGuard(kv));
  } finally {
    kv.close();
  }
});

Deno.test("a delivery replayed to another instance sharing the KV guard gets the first upload", async () => {
  const upstream = await startUpstream();
  const kv = await Deno.openKv(":memory:");
  try {
    const instance = () =>
      createRecaptureProxy({
        apiKey: SANDBOX_API_KEY,
        fetch: upstream.fetch,
        webhookSecrets: ["whsec_shared"],
        replayGuard: denoKvReplayGuard(kv),
      });
    const [a, b] = [instance(), instance()];
    const body = JSON.stringify({ vin: "1HGCM82633A004352" });
    const header = await signPayload(body, "whsec_shared");
    const send = (p: typeof a) =>
      p.fetch(
        new Request("http://p/webhooks/customers", {
          method: "POST",
          headers: { "recapture-signature": header },
          body,
        }),
      );
    const first = await send(a);
    assertEquals(first.status, 202);
    const firstId = (await first.json()).upload_id;
    const uploads = upstream.requests.length;
    const replay = await send(b);
    assertEquals(replay.status, 200);
    const answer = await replay.json();
    assertEquals([answer.upload_id, answer.duplicate], [firstId, true]);
    assertEquals(upstream.requests.length, uploads, "the replay never reached the API");
    await upstream.sandbox.idle();
  } finally {
    kv.close();
    await upstream.close();
  }
});

Deno.test("a delivery that failed upstream is released, so the sender's retry is accepted", async () => {
  const upstream = await startUpstream({ accounts: [] });
  try {
    const proxy = createRecaptureProxy({
      apiKey: "sec_not_an_account",
      fetch: upstream.fetch,
      webhookSecrets: ["whsec_x"],
    });
    const body = JSON.stringify({ vin: "1HGCM82633A004352" });
    const header = await signPayload(body, "whsec_x");
    const send = () =>
      proxy.fetch(
        new Request("http://p/webhooks/customers", {
          method: "POST",
          headers: { "recapture-signature": header },
          body,
        }),
      );
    const first = await send();
    const answer = await first.json();
    assertEquals(first.status, 502, "the API refused the proxy's key: a gateway error");
    assertEquals(answer.code, "upstream_auth_failed");
    assertEquals(answer.message, "The API answered 401: Invalid API key");
    const retry = await send();
    assertEquals(retry.status, 502, "not 409: the failed delivery was released");
    await retry.body?.cancel();
  } finally {
    await upstream.close();
  }
});

Deno.test("during a rotation, a replay with its signatures reordered or cut is still a replay", async () => {
  const upstream = await startUpstream();
  const kv = await Deno.openKv(":memory:");
  try {
    const proxy = createRecaptureProxy({
      apiKey: SANDBOX_API_KEY,
      fetch: upstream.fetch,
      webhookSecrets: ["whsec_old", "whsec_new"],
      replayGuard: denoKvReplayGuard(kv),
    });
    const body = JSON.stringify({ name: "once", customers: [{ rego: "ABC123", state: "NSW" }] });
    const header = await signPayload(body, ["whsec_old", "whsec_new"]);
    const [t, v1old, v1new] = header.split(",");
    const statuses: number[] = [];
    for (const h of [header, `${t},${v1new},${v1old}`, `${t},${v1old}`, `${t},${v1new}`]) {
      const r = await proxy.fetch(
        new Request("http://p/webhooks/customers", {
          method: "POST",
          headers: { "recapture-signature": h },
          body,
        }),
      );
      statuses.push(r.status);
      await r.body?.cancel();
    }
    assertEquals(statuses, [202, 200, 200, 200]); // the later ones: the first upload, again
    const uploads = upstream.requests.filter((r) => r.method === "POST");
    assertEquals(uploads.length, 1, "one upload from one delivery");
    await upstream.sandbox.idle();
  } finally {
    kv.close();
    await upstream.close();
  }
});

Deno.test("guards take keys of any length (Deno KV keys hold 2 KB; an event id is the sender's)", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    for (const guard of [memoryReplayGuard(), denoKvReplayGuard(kv)]) {
      const long = "e".repeat(5000);
      assertEquals(await guard.claim(long, 60_000), true);
      assertEquals(await guard.claim(long, 60_000), false);
      assertEquals(await guard.claim(long.slice(1) + "f", 60_000), true, "another long key");
      await guard.release(long);
      assertEquals(await guard.claim(long, 60_000), true);
    }
  } finally {
    kv.close();
  }
});
