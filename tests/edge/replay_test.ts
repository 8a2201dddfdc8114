import { assert, assertEquals } from "@std/assert";
import {
  createRecaptureProxy,
  denoKvReplayGuard,
  memoryReplayGuard,
  type ReplayGuard,
} from "../../src/edge/mod.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { signPayload } from "../../src/signature/mod.ts";
import { startUpstream } from "./_helpers.ts";
import { sendRaw } from "./redteam.ts";

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

/** The proxy on 127.0.0.1 (requests go over raw TCP), in front of a recording sandbox. */
async function servedProxy(guard: ReplayGuard = memoryReplayGuard()) {
  const upstream = await startUpstream();
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    fetch: upstream.fetch,
    webhookSecrets: ["whsec_wire"],
    replayGuard: guard,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.fetch);
  const host = `127.0.0.1:${server.addr.port}`;
  const send = async (body: string, headers: Record<string, string>) => {
    const got = await sendRaw(host, {
      method: "POST",
      target: "/webhooks/customers",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    // The outcome's body is cut at 300 characters: the upload id comes first.
    return { status: got.status, uploadId: /"upload_id":"([^"]+)"/.exec(got.body)?.[1] };
  };
  const uploads = () => upstream.requests.filter((r) => r.method === "POST").length;
  return {
    send,
    uploads,
    async close() {
      await upstream.sandbox.idle();
      await server.shutdown();
      await upstream.close();
    },
  };
}

Deno.test("a captured delivery replayed with fresh Idempotency-Keys gets the first upload, never a second", async () => {
  const p = await servedProxy();
  try {
    const body = JSON.stringify({
      name: "replayed",
      customers: [{ rego: "ABC123", state: "NSW" }],
    });
    const signature = await signPayload(body, "whsec_wire");
    const first = await p.send(body, { "recapture-signature": signature });
    assertEquals(first.status, 202);
    for (const key of ["a", "b", "c", null, "a"]) {
      const replay = await p.send(body, {
        "recapture-signature": signature,
        ...(key === null ? {} : { "idempotency-key": key }),
      });
      assertEquals(
        [replay.status, replay.uploadId],
        [200, first.uploadId],
        `replay with Idempotency-Key ${key}`,
      );
    }
    // The sender's own first delivery carried a key: a replay without it, or with another, too.
    const keyed = JSON.stringify({ vin: "1HGCM82633A004352" });
    const keyedSignature = await signPayload(keyed, "whsec_wire");
    const original = await p.send(keyed, {
      "recapture-signature": keyedSignature,
      "idempotency-key": "dlv_original",
    });
    assertEquals(original.status, 202);
    for (const headers of [{}, { "idempotency-key": "dlv_forged" }] as Record<string, string>[]) {
      const replay = await p.send(keyed, { "recapture-signature": keyedSignature, ...headers });
      assertEquals([replay.status, replay.uploadId], [200, original.uploadId]);
    }
    assertEquals(p.uploads(), 2, "one upload per signature");
  } finally {
    await p.close();
  }
});

Deno.test("a re-signed retry with the first Idempotency-Key gets the first upload; without one it is a new delivery", async () => {
  const p = await servedProxy();
  try {
    const body = JSON.stringify({ vin: "1HGCM82633A004352", client_name: "Retried" });
    const now = Math.floor(Date.now() / 1000);
    const at = (t: number) => signPayload(body, "whsec_wire", { timestamp: t });
    const first = await p.send(body, {
      "recapture-signature": await at(now - 20),
      "idempotency-key": "dlv_7",
    });
    assertEquals(first.status, 202);
    const resigned = await at(now - 10);
    const retry = await p.send(body, {
      "recapture-signature": resigned,
      "idempotency-key": "dlv_7",
    });
    assertEquals([retry.status, retry.uploadId], [200, first.uploadId]);
    // The retry's own signature is spent too: replayed with another key, it gets the same.
    const replay = await p.send(body, {
      "recapture-signature": resigned,
      "idempotency-key": "dlv_8",
    });
    assertEquals([replay.status, replay.uploadId], [200, first.uploadId]);
    assertEquals(p.uploads(), 1);
    // The key binds the body: the same key with another body is another delivery.
    const other = JSON.stringify({ vin: "1HGCM82633A004352", client_name: "Other" });
    const otherAnswer = await p.send(other, {
      "recapture-signature": await signPayload(other, "whsec_wire"),
      "idempotency-key": "dlv_7",
    });
    assertEquals(otherAnswer.status, 202);
    // A new signature without a key: a new delivery (the sender asked for it, signed).
    const fresh = await p.send(body, { "recapture-signature": await at(now) });
    assertEquals(fresh.status, 202);
    assert(fresh.uploadId !== first.uploadId);
    assertEquals(p.uploads(), 3);
  } finally {
    await p.close();
  }
});

Deno.test("concurrent replays of one signature with different Idempotency-Keys make one upload", async () => {
  const kv = await Deno.openKv(":memory:");
  const p = await servedProxy(denoKvReplayGuard(kv));
  try {
    const body = JSON.stringify({ vin: "1HGCM82633A004352" });
    const signature = await signPayload(body, "whsec_wire");
    const answers = await Promise.all(
      ["k1", "k2", "k3", "k4", "k5", "k6"].map((key) =>
        p.send(body, { "recapture-signature": signature, "idempotency-key": key })
      ),
    );
    const statuses = answers.map((a) => a.status);
    assertEquals(statuses.filter((s) => s === 202).length, 1, `${statuses}`);
    assert(statuses.every((s) => s === 202 || s === 200 || s === 409), `${statuses}`);
    assertEquals(p.uploads(), 1);
  } finally {
    await p.close();
    kv.close();
  }
});
