/**
 * The client over real sockets on 127.0.0.1 (Deno's own fetch): what a refused connection, a
 * dropped connection and a stalled body really look like, plus the retry arithmetic.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { ConnectionError, RecaptureApiError, RecaptureClient, TimeoutError } from "../../mod.ts";
import { requestedDelayMs } from "../../src/sdk/_response.ts";
import { provablyNotSent, resolveBackoff, retryDelayMs } from "../../src/sdk/_retry.ts";
import { customerJson } from "../_msw.ts";

const FAST = { baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 };

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A TCP server that reads each request, then drops the connection without answering. */
function dropper(): { port: number; requests: () => number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let requests = 0;
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(65536);
        const n = await conn.read(buf).catch(() => null);
        if (n) requests++;
        conn.close();
        conns.delete(conn);
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    requests: () => requests,
    close: async () => {
      listener.close();
      for (const c of conns) c.close();
      await loop;
    },
  };
}

Deno.test("real refused connection: provably not sent, so even the upload is retried", async () => {
  const port = freePort();
  const client = new RecaptureClient({
    apiKey: "sec_x",
    baseUrl: `http://127.0.0.1:${port}`,
    maxRetries: 2,
    retry: FAST,
  });
  const err = await assertRejects(
    () => client.uploads.create({ name: "n", customers: [{ rego: "A1" }] }),
    ConnectionError,
  );
  assert(err.message.includes("attempt 3"), err.message);
  assert(/Connection refused/i.test(err.message), err.message);
  assert(provablyNotSent(err.cause));
});

Deno.test("real dropped connection: the upload is sent once, a GET is retried", async () => {
  const server = dropper();
  try {
    const client = new RecaptureClient({
      apiKey: "sec_x",
      baseUrl: `http://127.0.0.1:${server.port}`,
      maxRetries: 2,
      retry: FAST,
    });
    const err = await assertRejects(
      () => client.uploads.create({ name: "n", customers: [{ rego: "A1" }] }),
      ConnectionError,
    );
    assert(!provablyNotSent(err.cause), err.message);
    assertEquals(server.requests(), 1);
    await assertRejects(() => client.customers.retrieve("c1"), ConnectionError);
    assertEquals(server.requests(), 4);
  } finally {
    await server.close();
  }
});

Deno.test("real stalled body: the per-attempt timeout covers the body read", async () => {
  let hits = 0;
  const stalls: ReadableStreamDefaultController<Uint8Array>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    hits++;
    if (new URL(req.url).pathname.endsWith("/ok")) {
      return Response.json({ success: true, customer: customerJson("ok") });
    }
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        stalls.push(c);
        c.enqueue(new TextEncoder().encode('{"success":true,'));
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  try {
    const client = new RecaptureClient({
      apiKey: "sec_x",
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      maxRetries: 1,
      timeoutMs: 150,
      retry: FAST,
    });
    const err = await assertRejects(() => client.customers.retrieve("slow"), TimeoutError);
    assert(err.message.includes("timed out after 150 ms (attempt 2)"), err.message);
    assertEquals(hits, 2);
    const ok = await client.customers.retrieve("ok");
    assertEquals(ok.id, "ok");
    assertEquals(ok.lastResponse.status, 200);
  } finally {
    for (const c of stalls) {
      try {
        c.close();
      } catch { /* already cancelled */ }
    }
    await server.shutdown();
  }
});

Deno.test("server-asked delays: Retry-After seconds or date, Rate-Limit-Reset on 429, capped", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const h = (init: Record<string, string>) => new Headers(init);
  assertEquals(requestedDelayMs(503, h({ "Retry-After": "3" }), now), 3000);
  assertEquals(
    requestedDelayMs(429, h({ "Retry-After": "Thu, 01 Jan 2026 00:00:07 GMT" }), now),
    7000,
  );
  assertEquals(
    requestedDelayMs(429, h({ "Rate-Limit-Reset": String(now / 1000 + 12) }), now),
    12000,
  );
  assertEquals(
    requestedDelayMs(503, h({ "Rate-Limit-Reset": String(now / 1000 + 12) }), now),
    null,
  );
  assertEquals(requestedDelayMs(429, h({ "Rate-Limit-Reset": String(now / 1000 - 5) }), now), 0);
  assertEquals(requestedDelayMs(429, h({ "Retry-After": "soon" }), now), null);
  const b = resolveBackoff({ baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 30_000 });
  assertEquals(retryDelayMs(0, 120_000, b), 30_000);
  assertEquals(retryDelayMs(0, 2_000, b), 2_000);
  // A wait of 0 or less (Retry-After: 0, a reset already past on this clock) is no wait at all:
  // the backoff applies.
  assertEquals([0, -5000].map((w) => retryDelayMs(1, w, b, () => 1)), [200, 200]);
  assertEquals(retryDelayMs(1, 0, b, () => 0), 100);
  assertEquals([0, 1, 2, 3, 4].map((n) => retryDelayMs(n, null, b, () => 1)), [
    100,
    200,
    400,
    800,
    1000,
  ]);
  assertEquals([0, 1, 4].map((n) => retryDelayMs(n, null, b, () => 0)), [50, 100, 500]);
  const defaults = resolveBackoff(undefined);
  assertEquals(defaults, { baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 });
});

for (
  const [what, headers] of [
    ["Retry-After: 0", () => ({ "Retry-After": "0" })],
    // The server's clock 2 s behind the client's: the reset it names is already past here.
    ["a Rate-Limit-Reset already past", () => ({
      "Rate-Limit-Remaining": "0",
      "Rate-Limit-Reset": String(Math.ceil((Date.now() - 2000) / 1000) + 1),
    })],
  ] as const
) {
  Deno.test(`a 429 with ${what} is retried after the backoff, not at once`, async () => {
    const times: number[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      times.push(performance.now());
      return Response.json({ error: true, message: "Rate limit exceeded" }, {
        status: 429,
        headers: headers(),
      });
    });
    try {
      const client = new RecaptureClient({
        apiKey: "sec_x",
        baseUrl: `http://127.0.0.1:${server.addr.port}`,
        maxRetries: 2,
        retry: { baseDelayMs: 60, maxDelayMs: 1000 },
      });
      const e = await assertRejects(() => client.customers.retrieve("c1"), RecaptureApiError);
      assertEquals(e.status, 429);
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      assertEquals(gaps.length, 2);
      // Jittered backoff: at least half of 60 ms, then of 120 ms (the defect retried in 2-13 ms).
      assert(gaps[0] >= 29 && gaps[1] >= 59, `gaps ${gaps.map(Math.round)} ms`);
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("provablyNotSent recognises refused, DNS and blocked-port failures only", () => {
  const wrap = (m: string) => new TypeError("fetch failed", { cause: new Error(m) });
  assert(provablyNotSent(wrap("client error (Connect): tcp connect error: Connection refused")));
  assert(provablyNotSent(wrap("dns error: failed to lookup address information")));
  assert(provablyNotSent(Object.assign(new Error("x"), { code: "ECONNREFUSED" })));
  // Deno refuses the fetch spec's bad ports before connecting.
  assert(provablyNotSent(new TypeError("Fetch failed: Requests to port 1 are blocked")));
  assert(provablyNotSent(new TypeError("fetch failed", { cause: new Error("bad port") }))); // undici
  assert(!provablyNotSent(wrap("client error (SendRequest): connection closed before message")));
  assert(!provablyNotSent(wrap("connection reset by peer")));
  assert(!provablyNotSent(new Error("timeout")));
  assertInstanceOf(new ConnectionError("x"), Error);
});

Deno.test("redirects are not followed: the key and an upload's body go nowhere else", async () => {
  const reached: string[] = [];
  const other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    reached.push(`${req.method} ${req.headers.get("apikey")}`);
    return Response.json({ success: true, customer: customerJson("c1") });
  });
  const otherUrl = `http://127.0.0.1:${other.addr.port}`;
  const api = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new Response(null, {
        status: 307,
        headers: { location: `${otherUrl}${new URL(req.url).pathname}` },
      }),
  );
  try {
    const client = new RecaptureClient({
      apiKey: "sec_redirect_key_123",
      baseUrl: `http://127.0.0.1:${api.addr.port}`,
      maxRetries: 2,
      retry: FAST,
    });
    const read = await assertRejects(() => client.customers.retrieve("c1"), RecaptureApiError);
    assertEquals(read.status, 307);
    assertStringIncludes(
      read.message,
      `redirect (HTTP 307 to ${otherUrl}/v2/recapture/customers/c1)`,
    );
    await assertRejects(
      () => client.uploads.create({ name: "n", customers: [{ rego: "ABC1" }] }),
      RecaptureApiError,
      "redirects are not followed",
    );
    assertEquals(reached, []);
  } finally {
    await api.shutdown();
    await other.shutdown();
  }
});

Deno.test("an upload to a port the runtime blocks was never sent: no 'may have been created' note", async () => {
  const client = new RecaptureClient({
    apiKey: "sec_x",
    baseUrl: "http://127.0.0.1:1",
    maxRetries: 0,
  });
  const err = await assertRejects(
    () => client.uploads.create({ name: "n", customers: [{ rego: "A1" }] }),
    ConnectionError,
  );
  assert(/are blocked/.test(err.message), err.message);
  assert(!err.message.includes("may have been created"), err.message);
});
