/**
 * The edge proxy in process on Deno, in front of a sandbox served on 127.0.0.1, with callbacks
 * on a Deno KV queue (delayed messages). The shared cases also run in workerd
 * (`edge_workerd_test.ts`).
 */
import { assert, assertEquals, assertExists, assertMatch } from "@std/assert";
import { type CallbackOutcome, createRecaptureProxy, denoKvScheduler } from "../../src/edge/mod.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { constructEvent, signPayload } from "../../src/signature/mod.ts";
import { caseContext, caseEnv, type CaseSecrets, EDGE_CASES } from "./_cases.ts";
import { startReceiver, startUpstream } from "./_helpers.ts";

const TOKEN = "tok_rw_0123456789abcdef";
const RO_TOKEN = "tok_ro_fedcba9876543210";
const SECRETS: [string, string] = ["whsec_current_in_deno", "whsec_previous_in_deno"];
const CALLBACK_SECRET = "whsec_callback_in_deno";
const CASE_SECRETS: CaseSecrets = {
  token: TOKEN,
  readOnlyToken: RO_TOKEN,
  webhookSecrets: SECRETS,
  callbackSecret: CALLBACK_SECRET,
};

for (const c of EDGE_CASES) {
  Deno.test(`edge (deno): ${c.name}`, async () => {
    const upstream = await startUpstream();
    const receiver = startReceiver();
    const kv = await Deno.openKv(":memory:");
    const outcomes: CallbackOutcome[] = [];
    const env = caseEnv(CASE_SECRETS, upstream.url);
    const proxy = createRecaptureProxy({
      env: (name) => env[name],
      scheduler: denoKvScheduler(kv),
      callbacks: { pollIntervalMs: 20, retryBaseMs: 50 },
      onCallback: (o) => outcomes.push(o),
    });
    const send = (path: string, init?: RequestInit) =>
      proxy.fetch(new Request(`http://proxy.test${path}`, init));
    const ctx = caseContext(CASE_SECRETS, upstream, receiver, send, 10_000);
    try {
      await c.fn(ctx);
    } finally {
      kv.close();
      await receiver.close();
      await upstream.close();
    }
  });
}

Deno.test("edge (deno): in-process transport, 429 with rate-limit headers passes through", async () => {
  const upstream = await startUpstream({ rateLimit: { limit: 2, windowMs: 60_000 } });
  try {
    const proxy = createRecaptureProxy({
      apiKey: SANDBOX_API_KEY,
      fetch: upstream.fetch,
      tokens: [{ token: TOKEN }],
    });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await proxy.fetch(
        new Request("http://p/v2/recapture/customers", {
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
      );
      statuses.push(last.status);
      if (i < 2) await last.body?.cancel();
    }
    assertEquals(statuses, [200, 200, 429]);
    assertExists(last);
    assertEquals(last.headers.get("rate-limit-remaining"), "0");
    assertEquals(last.headers.get("rate-limit-total"), "2");
    assertMatch(last.headers.get("rate-limit-reset") ?? "", /^\d+$/);
    const body = await last.json();
    assertEquals(body.error, true);
    assertEquals(upstream.requests.length, 3, "by default a 429 is handed back, not retried");
  } finally {
    await upstream.close();
  }
});

Deno.test("edge (deno): misconfiguration fails closed without naming secrets", async () => {
  const noTokens = createRecaptureProxy({ apiKey: "sec_hidden_value", env: () => undefined });
  const a = await noTokens.fetch(
    new Request("http://p/v2/recapture/customers", { headers: { authorization: "Bearer x" } }),
  );
  const aBody = await a.json();
  assertEquals(a.status, 500);
  assertEquals(aBody.code, "proxy_misconfigured");
  const noKey = createRecaptureProxy({ tokens: [{ token: TOKEN }], env: () => undefined });
  const b = await noKey.fetch(
    new Request("http://p/v2/recapture/customers", {
      headers: { authorization: `Bearer ${TOKEN}` },
    }),
  );
  const bBody = await b.json();
  assertEquals(b.status, 500);
  assertMatch(bBody.message, /RECAPTURE_API_KEY/);
  const noSecret = await noKey.fetch(
    new Request("http://p/webhooks/customers", { method: "POST", body: "{}" }),
  );
  assertEquals(noSecret.status, 500);
  assertMatch((await noSecret.json()).message, /RECAPTURE_WEBHOOK_SECRETS/);
  assert(!JSON.stringify([aBody, bBody]).includes("sec_hidden_value"));
});

Deno.test("edge (deno): secrets are read per request, so rotation applies at once", async () => {
  const upstream = await startUpstream();
  try {
    const env: Record<string, string> = {
      RECAPTURE_API_KEY: SANDBOX_API_KEY,
      RECAPTURE_PROXY_TOKENS: "tok_first",
      RECAPTURE_WEBHOOK_SECRETS: "whsec_first",
    };
    const proxy = createRecaptureProxy({ env: (name) => env[name], fetch: upstream.fetch });
    const get = (token: string) =>
      proxy.fetch(
        new Request("http://p/v2/recapture/customers?limit=1", {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    const body = JSON.stringify({ vin: "1HGCM82633A004352" });
    const hook = async (secret: string) =>
      proxy.fetch(
        new Request("http://p/webhooks/customers", {
          method: "POST",
          headers: { "recapture-signature": await signPayload(body, secret) },
          body,
        }),
      );
    const r1 = await get("tok_first");
    assertEquals(r1.status, 200);
    await r1.body?.cancel();
    env.RECAPTURE_PROXY_TOKENS = "tok_second";
    env.RECAPTURE_WEBHOOK_SECRETS = "whsec_second";
    const r2 = await get("tok_first");
    assertEquals(r2.status, 401);
    await r2.body?.cancel();
    const r3 = await get("tok_second");
    assertEquals(r3.status, 200);
    await r3.body?.cancel();
    const h1 = await hook("whsec_first");
    assertEquals(h1.status, 401);
    await h1.body?.cancel();
    const h2 = await hook("whsec_second");
    assertEquals(h2.status, 202);
    await h2.body?.cancel();
    await upstream.sandbox.idle();
  } finally {
    await upstream.close();
  }
});

Deno.test("edge (deno): an unreachable upstream is 502, never a hang or a stack trace", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    baseUrl: `http://127.0.0.1:${port}`,
    allowLoopbackForDevelopment: true,
    tokens: [{ token: TOKEN }],
    maxRetries: 0,
  });
  const res = await proxy.fetch(
    new Request("http://p/v2/recapture/customers", {
      headers: { authorization: `Bearer ${TOKEN}` },
    }),
  );
  const body = await res.json();
  assertEquals(res.status, 502);
  assertEquals(body.code, "upstream_unreachable");
  assertExists(res.headers.get("x-request-id"));
});

Deno.test("edge (deno): a method fetch cannot send (TRACE) is 405, not 'unreachable'", async () => {
  let reached = 0;
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    tokens: [{ token: TOKEN }],
    fetch: () => {
      reached++;
      return Promise.resolve(Response.json({ success: true }));
    },
  });
  // `new Request(url, { method: "TRACE" })` throws, so the proxy is driven over a socket.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.fetch);
  const send = async (method: string, token: string): Promise<string> => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(new TextEncoder().encode(
      `${method} /v2/recapture/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Length: 0\r\n\r\n`,
    ));
    let text = "";
    for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) text += chunk;
    return `${text.split("\r\n")[0]} ${text.slice(text.indexOf("\r\n\r\n") + 4)}`;
  };
  try {
    const trace = await send("TRACE", TOKEN);
    assertMatch(trace, /^HTTP\/1\.1 405 .*"code":"method_not_allowed"/);
    assertMatch(await send("TRACE", "wrong"), /^HTTP\/1\.1 401 /); // auth still comes first
    assertEquals(reached, 0);
    assertMatch(await send("GET", TOKEN), /^HTTP\/1\.1 200 /);
    assertEquals(reached, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("edge (deno): callbacks without a scheduler are refused up front", async () => {
  const upstream = await startUpstream();
  try {
    const proxy = createRecaptureProxy({
      apiKey: SANDBOX_API_KEY,
      fetch: upstream.fetch,
      webhookSecrets: ["whsec_x"],
      callbackSecret: "whsec_cb",
    });
    const body = JSON.stringify({
      callback_url: "https://crm.example/hook",
      customers: [{ vin: "1HGCM82633A004352" }],
    });
    const res = await proxy.fetch(
      new Request("http://p/webhooks/customers", {
        method: "POST",
        headers: { "recapture-signature": await signPayload(body, "whsec_x") },
        body,
      }),
    );
    const answer = await res.json();
    assertEquals(res.status, 422);
    assertEquals(answer.issues[0].field, "callback_url");
    assertMatch(answer.issues[0].reason, /not enabled/);
    assertEquals(upstream.requests.length, 0);
  } finally {
    await upstream.close();
  }
});

Deno.test("edge (deno): a cancelled upload's callback says cancelled, with its totals", async () => {
  const upstream = await startUpstream({ chunkSize: 1 });
  const receiver = startReceiver();
  const kv = await Deno.openKv(":memory:");
  try {
    const proxy = createRecaptureProxy({
      apiKey: SANDBOX_API_KEY,
      fetch: upstream.fetch,
      tokens: [{ token: TOKEN }],
      callbackSecret: CALLBACK_SECRET,
      allowLoopbackForDevelopment: true,
      scheduler: denoKvScheduler(kv),
      callbacks: { pollIntervalMs: 20 },
    });
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const customers = Array.from({ length: 200 }, (_, i) => ({ rego: `CAN${i}`, state: "NSW" }));
    const created = await proxy.fetch(
      new Request("http://p/v2/recapture/upload", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ name: "to cancel", callback_url: `${receiver.url}/c`, customers }),
      }),
    );
    assertEquals(created.status, 201);
    const id = (await created.json()).upload.id;
    const cancelled = await proxy.fetch(
      new Request(`http://p/v2/recapture/upload/${id}`, { method: "DELETE", headers: auth }),
    );
    const upload = (await cancelled.json()).upload;
    assertEquals(upload.status, "cancelled");
    assert(upload.total_processed_customers < 200, "cancelled before processing finished");
    const [delivery] = await receiver.waitFor("/c", 1);
    const event = await constructEvent(
      delivery.body,
      delivery.headers["recapture-signature"],
      CALLBACK_SECRET,
    );
    assertEquals(event.data.status, "cancelled");
    await upstream.sandbox.idle();
    const final = (await (await proxy.fetch(
      new Request(`http://p/v2/recapture/upload/${id}`, { headers: auth }),
    )).json()).upload;
    assertEquals(event.data.total_uploaded_customers, final.total_uploaded_customers);
    assertEquals(event.data.total_processed_customers, final.total_processed_customers);
    assertEquals(event.data.total_errors, final.total_errors);
  } finally {
    kv.close();
    await receiver.close();
    await upstream.close();
  }
});
