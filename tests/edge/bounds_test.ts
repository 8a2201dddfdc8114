/**
 * Bounded work and the outbound policy, on Deno, where the work can be counted: HMACs per
 * signature flood (counted by wrapping `crypto.subtle.sign`, not timed), slow bodies (a stalled
 * sender over raw TCP), a retry after a failure that followed the upload, and the outbound URL
 * policy's defaults and DNS re-check.
 */
import { assert, assertEquals } from "@std/assert";
import { createAlertRelay, createRecaptureProxy, denoKvScheduler } from "../../src/edge/mod.ts";
import { isNonPublicAddress, outboundUrlProblem } from "../../src/edge/_outbound.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import {
  readBodyLimited,
  signPayload,
  verifySignature,
  type WebhookVerificationError,
} from "../../src/signature/mod.ts";
import { startUpstream } from "./_helpers.ts";

const VIN = "1HGCM82633A004352";

/** Runs `fn` counting the HMACs computed (`crypto.subtle.sign` and `verify` calls). */
async function countingHmacs(fn: () => Promise<unknown>): Promise<number> {
  const subtle = crypto.subtle;
  const sign = subtle.sign.bind(subtle);
  const verify = subtle.verify.bind(subtle);
  let count = 0;
  subtle.sign = ((...args: Parameters<typeof sign>) => {
    count++;
    return sign(...args);
  }) as typeof subtle.sign;
  subtle.verify = ((...args: Parameters<typeof verify>) => {
    count++;
    return verify(...args);
  }) as typeof subtle.verify;
  try {
    await fn();
  } finally {
    subtle.sign = sign;
    subtle.verify = verify;
  }
  return count;
}

Deno.test("signature floods cost at most one HMAC per secret, in the verifier and in ingest", async () => {
  const body = JSON.stringify({ vin: VIN, pad: "x".repeat(500_000) });
  const secrets = ["whsec_a", "whsec_b"];
  const t = Math.floor(Date.now() / 1000);
  const fake = (n: number) =>
    `t=${t},` + Array.from({ length: n }, (_, i) => `v1=${i.toString(16).padStart(64, "0")}`);
  const refusedWith = async (header: string) => {
    try {
      await verifySignature(body, header, secrets);
    } catch (e) {
      return (e as WebhookVerificationError).reason;
    }
    return "accepted";
  };
  // Over the cap: refused before any MAC.
  let reason = "";
  assertEquals(await countingHmacs(async () => reason = await refusedWith(fake(1000))), 0);
  assertEquals(reason, "malformed_header");
  // At the cap (8 candidates), 2 secrets: 2 MACs, not 16.
  assertEquals(await countingHmacs(async () => reason = await refusedWith(fake(8))), 2);
  assertEquals(reason, "no_matching_signature");
  // The real one last among 8: still 2.
  const real = await signPayload(body, "whsec_b");
  const mixed = `${fake(7)},${real.split(",")[1]}`;
  assertEquals(await countingHmacs(async () => reason = await refusedWith(mixed)), 2);
  assertEquals(reason, "accepted");

  // The same through the ingest route.
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    webhookSecrets: secrets,
    fetch: () => Promise.reject(new Error("no upstream call expected")),
  });
  for (const [n, most] of [[1000, 0], [8, 2]]) {
    let status = 0;
    const hmacs = await countingHmacs(async () => {
      const res = await proxy.fetch(
        new Request("http://p/webhooks/customers", {
          method: "POST",
          headers: { "recapture-signature": fake(n) },
          body,
        }),
      );
      status = res.status;
      await res.body?.cancel();
    });
    assertEquals([status, hmacs], [401, most], `${n} entries`);
  }
});

Deno.test("a stalled body gets 408 on every route, and never reaches the upstream", async () => {
  const upstream = await startUpstream();
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    fetch: upstream.fetch,
    tokens: [{ token: "tok_slow_0123456789" }],
    webhookSecrets: ["whsec_slow"],
    bodyTimeoutMs: 200,
    alerts: createAlertRelay({ tokens: ["alert_slow"], destinations: [], bodyTimeoutMs: 200 }),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (r) => proxy.fetch(r),
  );
  try {
    for (
      const target of ["/v2/recapture/upload", "/webhooks/customers", "/alerts?token=alert_slow"]
    ) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(
        new TextEncoder().encode(
          `POST ${target} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer tok_slow_0123456789\r\n` +
            // A header that may verify (current timestamp), so ingest reads the body.
            `recapture-signature: t=${Math.floor(Date.now() / 1000)},v1=00\r\n` +
            `content-length: 1000\r\n\r\n{"partial":`,
        ),
      );
      // The rest never comes: the answer is the proxy's 408.
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      conn.close();
      const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      assert(text.startsWith("HTTP/1.1 408"), `${target}: ${text.slice(0, 80)}`);
      assert(text.includes('"body_timeout"'), target);
    }
    assertEquals(upstream.requests.length, 0);
  } finally {
    await server.shutdown();
    await upstream.close();
  }
});

Deno.test("a delivery retried after a failure that followed its upload gets that upload back", async () => {
  const upstream = await startUpstream();
  const kv = await Deno.openKv(":memory:");
  const scheduler = denoKvScheduler(kv);
  let failNext = true;
  const errors: string[] = [];
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    fetch: upstream.fetch,
    webhookSecrets: ["whsec_retry"],
    callbackSecret: "whsec_cb",
    allowLoopbackForDevelopment: true,
    scheduler: {
      schedule(job, options) {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error("queue unavailable"));
        }
        return scheduler.schedule(job, options);
      },
    },
    callbacks: { pollIntervalMs: 60_000 },
    onError: (e, id) => errors.push(`${(e as Error).name} ${id}`),
  });
  try {
    const body = JSON.stringify({
      customers: [{ vin: VIN }],
      callback_url: "http://127.0.0.1:9/hook",
    });
    const send = async () =>
      await proxy.fetch(
        new Request("http://p/webhooks/customers", {
          method: "POST",
          headers: {
            "recapture-signature": await signPayload(body, "whsec_retry"),
            "idempotency-key": "delivery-42",
            "x-request-id": "req-retry-1",
          },
          body,
        }),
      );
    const first = await send();
    const firstAnswer = await first.json();
    // The upload exists, the callback could not be queued: a success, never a 5xx (the sender
    // would retry), with the callback marked pending.
    assertEquals([first.status, firstAnswer.callback_event_id, firstAnswer.pending_callback], [
      202,
      null,
      true,
    ]);
    assertEquals(errors, ["Error req-retry-1"]);
    const retry = await send();
    const answer = await retry.json();
    assertEquals([retry.status, answer.duplicate, answer.pending_callback], [200, true, undefined]);
    assertEquals(answer.upload_id, firstAnswer.upload_id);
    assert(typeof answer.callback_event_id === "string", "the callback is queued on the retry");
    const posts = upstream.requests.filter((r) => r.method === "POST");
    assertEquals(posts.length, 1, "one upload for one delivery");
    assertEquals(
      answer.upload_id,
      JSON.parse(
        await (await fetch(
          `${upstream.url}/v2/recapture/upload/${answer.upload_id}?region=au`,
          { headers: { apikey: SANDBOX_API_KEY } },
        )).text(),
      ).upload.id,
    );
    await upstream.sandbox.idle();
  } finally {
    kv.close();
    await upstream.close();
  }
});

Deno.test("outbound policy: loopback is refused unless the named development opt-in is on", () => {
  const off = { allowHosts: [], allowLoopback: false };
  const on = { allowHosts: [], allowLoopback: true };
  for (const url of ["http://127.0.0.1:8788/x", "https://localhost/x", "https://[::1]/x"]) {
    assert(outboundUrlProblem(url, off) !== null, url);
    assertEquals(outboundUrlProblem(url, on), null, url);
  }
  // Other notations of loopback stay refused even with the opt-in.
  for (const url of ["https://127.1/", "https://2130706433/", "https://LOCALHOST/"]) {
    assert(outboundUrlProblem(url, on) !== null, url);
  }
  assertEquals(outboundUrlProblem("https://hooks.example.com/recapture", off), null);
  const listed = { allowHosts: ["hooks.example.com:8443"], allowLoopback: false };
  assertEquals(outboundUrlProblem("https://hooks.example.com:8443/r", listed), null);
  assert(outboundUrlProblem("https://other.example.com/r", listed) !== null);
});

Deno.test("outbound policy: the relay refuses private destinations and base URLs (503)", async () => {
  const push = async (options: Parameters<typeof createAlertRelay>[0]) => {
    const relay = createAlertRelay({ tokens: ["alert_pol"], ...options });
    const res = await relay.fetch(
      new Request("http://e/alerts?token=alert_pol", { method: "POST", body: "{}" }),
    );
    const body = await res.json();
    await relay.idle();
    return [res.status, body.code];
  };
  const dest = (url: string) => [{ kind: "webhook" as const, url, secret: "whsec_x" }];
  assertEquals(await push({ destinations: dest("https://10.0.0.8/hook") }), [
    503,
    "not_configured",
  ]);
  assertEquals(
    await push({ destinations: [], apiKey: "sec_x", baseUrl: "https://169.254.169.254" }),
    [503, "not_configured"],
  );
  // A body that is no event, past the policy: the policy let it through.
  assertEquals(await push({ destinations: dest("https://crm.example.com/hook") }), [
    400,
    "invalid_event",
  ]);
});

Deno.test("outbound policy: resolved answers in private ranges are refused at delivery", async () => {
  for (
    const a of [
      "10.1.2.3",
      "169.254.169.254",
      "100.100.1.1",
      "::1",
      "::ffff:10.0.0.1",
      "::ffff:7f00:1",
      "::ffff:0:127.0.0.1", // IPv4-translated (RFC 2765), ::ffff:0:0:0/96
      "::ffff:0:a9fe:a9fe",
      "fe80::1",
      "fd12::1",
      "64:ff9b::a9fe:a9fe",
      "0.0.0.0",
      "255.255.255.255",
    ]
  ) {
    assert(isNonPublicAddress(a), a);
  }
  for (const a of ["93.184.215.14", "2606:4700::1111", "1.1.1.1", "::ffff:0:101:101"]) {
    assert(!isNonPublicAddress(a), a);
  }

  const upstream = await startUpstream();
  const kv = await Deno.openKv(":memory:");
  const outcomes: string[] = [];
  const delivered: string[] = [];
  try {
    const proxy = createRecaptureProxy({
      apiKey: SANDBOX_API_KEY,
      fetch: upstream.fetch,
      webhookSecrets: ["whsec_dns"],
      callbackSecret: "whsec_cb",
      scheduler: denoKvScheduler(kv),
      callbacks: { pollIntervalMs: 10 },
      // The name passed the policy when queued; at delivery it resolves to the metadata address.
      resolveHost: () => Promise.resolve(["169.254.169.254"]),
      callbackFetch: (r) => {
        delivered.push(r.url);
        return Promise.resolve(new Response("ok"));
      },
      onCallback: (o) => outcomes.push(o.type === "gave_up" ? o.reason : o.type),
    });
    const body = JSON.stringify({
      customers: [{ vin: VIN }],
      callback_url: "https://hooks.example.com/recapture",
    });
    const res = await proxy.fetch(
      new Request("http://p/webhooks/customers", {
        method: "POST",
        headers: { "recapture-signature": await signPayload(body, "whsec_dns") },
        body,
      }),
    );
    assertEquals(res.status, 202);
    await res.body?.cancel();
    await upstream.sandbox.idle();
    const deadline = Date.now() + 10_000;
    while (!outcomes.some((o) => o.startsWith("destination_refused")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert(
      outcomes.some((o) => o.includes("resolves to a non-public address")),
      outcomes.join(", "),
    );
    assertEquals(delivered, []);
  } finally {
    kv.close();
    await upstream.close();
  }
});

/** Opens a raw connection and writes a request head with a part of its declared body. */
async function openIngest(port: number, signature: string | null): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const header = signature === null ? "" : `recapture-signature: ${signature}\r\n`;
  await conn.write(
    new TextEncoder().encode(
      `POST /webhooks/customers HTTP/1.1\r\nhost: x\r\n${header}` +
        `content-length: 1048576\r\n\r\n${"x".repeat(1000)}`,
    ),
  );
  return conn;
}

/** Reads the status line and the JSON `reason` (else `code`) of the answer on `conn`, then closes it. */
async function answerOn(conn: Deno.TcpConn): Promise<string> {
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  conn.close();
  const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  const why = /"reason":"([^"]+)"/.exec(text) ?? /"code":"([^"]+)"/.exec(text);
  return `${text.split("\r\n")[0]} ${why?.[1]}`;
}

Deno.test("ingest refuses a missing, malformed or stale signature header before reading the body", async () => {
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    webhookSecrets: ["whsec_early"],
    bodyTimeoutMs: 5_000,
    fetch: () => Promise.reject(new Error("no upstream call expected")),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.fetch);
  try {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string | null, string][] = [
      [null, "missing_header"],
      ["garbage", "malformed_header"],
      [`t=${now}`, "malformed_header"],
      ["t=1,v1=00", "timestamp_outside_tolerance"],
      [`t=${now + 3600},v1=00`, "timestamp_outside_tolerance"],
    ];
    for (const [signature, reason] of cases) {
      const started = Date.now();
      const got = await answerOn(await openIngest(server.addr.port, signature));
      // The body never completes: only an answer before it is read comes before the 5 s limit.
      assertEquals(got, `HTTP/1.1 401 Unauthorized ${reason}`, `${signature}`);
      assert(Date.now() - started < 2_000, `${signature}: answered after the body timeout`);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("ingest reads at most 64 bodies at once; the next sender gets 503 with Retry-After", async () => {
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    webhookSecrets: ["whsec_cap"],
    bodyTimeoutMs: 3_000,
    fetch: () => Promise.reject(new Error("no upstream call expected")),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.fetch);
  const signature = () => `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`;
  const slow: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 64; i++) slow.push(await openIngest(server.addr.port, signature()));
    await new Promise((r) => setTimeout(r, 300)); // every one of them is being read now
    const extra = await openIngest(server.addr.port, signature());
    const buf = new Uint8Array(4096);
    const n = await extra.read(buf);
    extra.close();
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    assert(text.startsWith("HTTP/1.1 503"), text.slice(0, 80));
    assert(/\r\nretry-after: 1\r\n/i.test(text), "Retry-After");
    assert(text.includes('"code":"busy"'), text);
    // Once those bodies are given up (408 after 3 s), senders are read again.
    const answers = await Promise.all(slow.map(answerOn));
    assertEquals(new Set(answers), new Set(["HTTP/1.1 408 Request Timeout body_timeout"]));
    slow.length = 0;
    const after = await answerOn(await openIngest(server.addr.port, "t=1,v1=00"));
    assertEquals(after, "HTTP/1.1 401 Unauthorized timestamp_outside_tolerance");
  } finally {
    for (const conn of slow) conn.close();
    await server.shutdown();
  }
});

Deno.test("readBodyLimited assembles a streamed body once, and refuses one over the limit", async () => {
  const parts = ['{"a":', '"bc"', "}"].map((p) => new TextEncoder().encode(p));
  const streamed = (chunks: Uint8Array[]) =>
    new Request("http://x/", {
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(c);
          controller.close();
        },
      }),
    });
  const whole = await readBodyLimited(streamed(parts), 100);
  assertEquals(new TextDecoder().decode(whole!), '{"a":"bc"}');
  const one = await readBodyLimited(streamed([parts[0]]), 100);
  assertEquals(new TextDecoder().decode(one!), '{"a":');
  assertEquals(await readBodyLimited(streamed(parts), 9), null);
  assertEquals((await readBodyLimited(new Request("http://x/", { method: "POST" }), 9))!.length, 0);
});
