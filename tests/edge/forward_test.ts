import { assertEquals } from "@std/assert";
import { forwardRequestHeaders, forwardResponse } from "../../src/edge/_forward.ts";
import { createRecaptureProxy } from "../../src/edge/mod.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { startUpstream } from "./_helpers.ts";

Deno.test("forwardRequestHeaders forwards only the allowlist, never credentials or hop-by-hop", () => {
  const incoming = new Headers({
    authorization: "Bearer caller",
    apikey: "caller-key",
    "x-api-key": "caller-key-2",
    cookie: "a=b",
    connection: "keep-alive, x-private",
    "keep-alive": "timeout=5",
    "x-private": "hop",
    "transfer-encoding": "chunked",
    te: "trailers",
    upgrade: "websocket",
    "proxy-authorization": "Basic x",
    "x-forwarded-for": "10.0.0.1",
    host: "proxy.example",
    "content-type": "application/json",
    accept: "application/json",
    "x-request-id": "caller-id",
    "x-custom": "not forwarded",
    "accept-language": "en-AU",
    "if-none-match": '"abc"',
  });
  const out = Object.fromEntries(forwardRequestHeaders(incoming, "rid-1"));
  assertEquals(out, {
    accept: "application/json",
    "accept-language": "en-AU",
    "content-type": "application/json",
    "if-none-match": '"abc"',
    "x-request-id": "rid-1",
  });
  // A header the caller lists in Connection is hop-by-hop, even when allowlisted.
  const listed = new Headers({ connection: "accept-language", "accept-language": "fr" });
  assertEquals(Object.fromEntries(forwardRequestHeaders(listed, "r")), { "x-request-id": "r" });
});

Deno.test("forwardResponse keeps status, body and API headers; drops framing and hop-by-hop", async () => {
  const upstream = new Response('{"error":true,"message":"Too many requests"}', {
    status: 429,
    statusText: "Too Many Requests",
    headers: {
      "content-type": "application/json",
      "content-length": "44",
      "content-encoding": "identity",
      "rate-limit-remaining": "0",
      "rate-limit-total": "100",
      "rate-limit-reset": "1760000000",
      "monthly-request-total": "5",
      "retry-after": "30",
      connection: "x-upstream-private",
      "x-upstream-private": "drop",
      "set-cookie": "upstream=1",
      "x-request-id": "req_upstream",
    },
  });
  const res = forwardResponse(upstream, "rid-2");
  assertEquals(res.status, 429);
  assertEquals(res.statusText, "Too Many Requests");
  assertEquals(await res.text(), '{"error":true,"message":"Too many requests"}');
  const h = Object.fromEntries(res.headers);
  assertEquals(h, {
    "content-type": "application/json",
    "rate-limit-remaining": "0",
    "rate-limit-total": "100",
    "rate-limit-reset": "1760000000",
    "monthly-request-total": "5",
    "retry-after": "30",
    "x-request-id": "rid-2",
    "x-upstream-request-id": "req_upstream",
  });
});

Deno.test("forwardResponse handles null-body statuses and streams large bodies", async () => {
  const empty = forwardResponse(new Response(null, { status: 204 }), "rid-3");
  assertEquals(empty.status, 204);
  assertEquals(empty.body, null);
  const big = "x".repeat(300 * 1024);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(big));
      c.close();
    },
  });
  const res = forwardResponse(new Response(stream, { status: 200 }), "rid-4");
  assertEquals((await res.text()).length, big.length);
});

Deno.test("a forwarded upload whose callback cannot be scheduled answers the API's 201, marked pending, never a 5xx", async () => {
  const upstream = await startUpstream();
  const errors: string[] = [];
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    fetch: upstream.fetch,
    tokens: [{ token: "tok_forward_0123456789" }],
    callbackSecret: "whsec_cb",
    scheduler: { schedule: () => Promise.reject(new Error("queue unavailable")) },
    onError: (e, id) => errors.push(`${(e as Error).message} ${id}`),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.fetch);
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/v2/recapture/upload?region=au`, {
      method: "POST",
      headers: {
        authorization: "Bearer tok_forward_0123456789",
        "content-type": "application/json",
        "x-request-id": "req-forward-cb",
      },
      body: JSON.stringify({
        name: "with callback",
        customers: [{ vin: "1HGCM82633A004352" }],
        callback_url: "https://crm.example.com/hooks/done",
      }),
    });
    const answer = await res.json();
    assertEquals(res.status, 201);
    assertEquals(typeof answer.upload.id, "string");
    assertEquals(res.headers.get("recapture-pending-callback"), "true");
    assertEquals(res.headers.get("recapture-callback-event-id"), null);
    assertEquals(errors, ["queue unavailable req-forward-cb"]);
    assertEquals(upstream.requests.filter((r) => r.method === "POST").length, 1);
    await upstream.sandbox.idle();
  } finally {
    await server.shutdown();
    await upstream.close();
  }
});
