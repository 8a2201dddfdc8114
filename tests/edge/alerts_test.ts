// The alert relay's own rules, in process: token in path or query, methods, size, unknown events,
// the Slack text, the Workers KV guard, and a destination that never recovers.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { parseAlertEvent } from "../../mod.ts";
import {
  type AlertDeliveryOutcome,
  cloudflareKvGuard,
  createAlertRelay,
  createRecaptureProxy,
  denoKvReplayGuard,
  memoryReplayGuard,
  type ReplayGuard,
  slackText,
} from "../../src/edge/mod.ts";

const TOKEN = "tok_edge_alerts_0123456789abcdef";
const ping = (id: string) => JSON.stringify({ id, event: "ping" });

function relayWith(outcomes: AlertDeliveryOutcome[], status = 200) {
  const sent: Request[] = [];
  const relay = createAlertRelay({
    tokens: [TOKEN],
    destinations: [{ kind: "webhook", url: "https://crm.test/hook", secret: "whsec_x" }],
    backoffMs: [5, 5],
    fetch: (r) => {
      sent.push(r);
      return Promise.resolve(new Response("", { status }));
    },
    onDelivery: (o) => outcomes.push(o),
  });
  return { relay, sent };
}

Deno.test("relay: token in the path or the query; wrong or missing ones refused", async () => {
  const { relay, sent } = relayWith([]);
  const post = async (path: string, body = ping(path)) => {
    const res = await relay.fetch(new Request(`http://edge${path}`, { method: "POST", body }));
    await res.body?.cancel();
    return res.status;
  };
  assertEquals(await post(`/alerts/${TOKEN}`), 202);
  assertEquals(await post(`/alerts?token=${TOKEN}`), 202);
  assertEquals(await post(`/alerts/${TOKEN.slice(0, -1)}`), 401);
  assertEquals(await post(`/alerts/${TOKEN}x`), 401);
  assertEquals(await post(`/alerts`), 401);
  assertEquals(await post(`/elsewhere/${TOKEN}`), 400); // not a route: invalid_path
  const get = await relay.fetch(new Request(`http://edge/alerts/${TOKEN}`));
  assertEquals(get.status, 405);
  assertEquals(get.headers.get("allow"), "POST");
  assertEquals((await get.json()).code, "method_not_allowed");
  // A route of the proxy's, asked of the relay served alone: 404 in the edge's error shape.
  const other = await relay.fetch(new Request("http://edge/healthz"));
  assertEquals([other.status, (await other.json()).code], [404, "not_found"]);
  assert(other.headers.get("x-request-id"));
  await relay.idle();
  assertEquals(sent.length, 2);
  for (const r of sent) assert(r.headers.get("Recapture-Signature")?.startsWith("t="));
});

Deno.test("relay: a path token with any escape is a 400 invalid_path, never a 500", async () => {
  const errors: unknown[] = [];
  const { relay, sent } = relayWith([]);
  // Mounted on the proxy too: its onError would see a throw, and answer 500.
  const proxy = createRecaptureProxy({
    apiKey: "sec_x",
    alerts: relay,
    onError: (e) => errors.push(e),
  });
  const answer = async (handler: typeof relay.fetch, path: string) => {
    const res = await handler(
      new Request(`http://edge${path}`, { method: "POST", body: ping(path) }),
    );
    return { status: res.status, body: await res.json() };
  };
  const wrong = await answer(relay.fetch, "/alerts/not_the_token");
  assertEquals(wrong.status, 401);
  assertEquals(wrong.body.message, "Unknown alert token");
  const paths = [
    "/alerts/%",
    `/alerts/${TOKEN}%`,
    "/alerts/%E0%A4%A",
    "/alerts/%zz/",
    "/alerts/%41",
  ];
  for (const path of paths) {
    for (const handler of [relay.fetch, proxy.fetch]) {
      const got = await answer(handler, path);
      assertEquals([got.status, got.body.code], [400, "invalid_path"], path);
    }
  }
  // A token with a "%" can only be given as a query parameter.
  const pct = createAlertRelay({ tokens: ["tok%zz_0123456789abcdef"], destinations: [] });
  assertEquals((await answer(pct.fetch, "/alerts/tok%25zz_0123456789abcdef")).status, 400);
  assertEquals((await answer(pct.fetch, "/alerts?token=tok%25zz_0123456789abcdef")).status, 202);
  await pct.idle();
  await relay.idle();
  assertEquals(sent.length, 0); // nothing relayed
  assertEquals(errors, []);
});

Deno.test("relay: oversized, invalid and unknown events", async () => {
  const { relay, sent } = relayWith([]);
  const post = (body: string) =>
    relay.fetch(new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body }));
  const big = await post(JSON.stringify({ id: "e", event: "ping", pad: "x".repeat(70_000) }));
  assertEquals(big.status, 413);
  await big.body?.cancel();
  const bad = await post(JSON.stringify({ id: "e", event: "recapture_delist", data: {} }));
  assertEquals(bad.status, 400);
  assertEquals((await bad.json()).field, "data.customer_id");
  const unknown = await post(JSON.stringify({ id: "e2", event: "valuation_change" }));
  assertEquals(unknown.status, 202);
  assertEquals((await unknown.json()).ignored, true);
  await relay.idle();
  assertEquals(sent.length, 0);
});

Deno.test("relay: no token configured answers 503", async () => {
  const relay = createAlertRelay({ env: () => undefined });
  const res = await relay.fetch(new Request(`http://edge/alerts/x`, { method: "POST" }));
  assertEquals(res.status, 503);
  await res.body?.cancel();
});

Deno.test("relay: a destination that never recovers is given up after the schedule", async () => {
  const outcomes: AlertDeliveryOutcome[] = [];
  const { relay, sent } = relayWith(outcomes, 500);
  const res = await relay.fetch(
    new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body: ping("evt_down") }),
  );
  assertEquals(res.status, 202); // answered before any delivery attempt finished
  await res.body?.cancel();
  await relay.idle();
  assertEquals(sent.length, 3);
  assertEquals(outcomes.map((o) => o.outcome), ["retrying", "retrying", "failed"]);
});

Deno.test("slackText: name, rego, link and price; markup escaped", () => {
  const event = parseAlertEvent({
    id: "evt_1",
    event: "recapture_price_change",
    data: {
      customer_id: "cus_1",
      rego: "ABC123",
      state: "NSW",
      previous_price: 25_000,
      listing: { url: "https://m.example/l/1", marketplace: "carsales", price: 22_000 },
    },
  });
  const text = slackText(event, { id: "cus_1", client_name: "Jo <script>" });
  assertStringIncludes(text, "Jo &lt;script&gt;");
  assertStringIncludes(text, "ABC123 NSW");
  assertStringIncludes(text, "$25,000 → $22,000");
  assertStringIncludes(text, "<https://m.example/l/1|View listing>");
});

Deno.test("slackText: a listing url that is not http(s) is no link (no Slack mention or command)", () => {
  const eventWith = (url: string) =>
    parseAlertEvent({
      id: "evt_2",
      event: "recapture_new",
      data: {
        customer_id: "cus_1",
        rego: "ABC123",
        listing: { url, marketplace: "carsales", price: 22_000 },
      },
    });
  // Slack reads `<!channel|...>`, `<!here>`, `<@U…>` and `<#C…>` as mentions and channel links.
  for (const url of ["!channel", "!here", "!everyone", "@U024BE7LH", "#C024BE7LH", "!subteam^S1"]) {
    const text = slackText(eventWith(url), null);
    assert(!text.includes(`<${url}`), `${url}: ${text}`);
    assert(!/<[!@#]/.test(text), `${url}: ${text}`);
  }
  for (const url of ["javascript:alert(1)", "mailto:a@b.example", "slack://open"]) {
    assert(!slackText(eventWith(url), null).includes("View listing"), url);
  }
  // A pipe in an http(s) URL cannot end the link early.
  assertStringIncludes(
    slackText(eventWith("https://m.example/l/1?a=1|<!channel>"), null),
    "<https://m.example/l/1?a=1%7C%3C!channel%3E|View listing>",
  );
});

Deno.test("cloudflareKvGuard: claims once, releases", async () => {
  const store = new Map<string, string>();
  const ttls: number[] = [];
  const guard = cloudflareKvGuard({
    get: (k) => Promise.resolve(store.get(k) ?? null),
    put: (k, v, o) => {
      store.set(k, v);
      ttls.push(o?.expirationTtl ?? 0);
      return Promise.resolve();
    },
    delete: (k) => {
      store.delete(k);
      return Promise.resolve();
    },
  });
  assertEquals(await guard.claim("a", 10_000), true);
  assertEquals(await guard.claim("a", 10_000), false);
  await guard.release("a");
  assertEquals(await guard.claim("a", 120_000), true);
  assertEquals(ttls, [60, 120]); // Workers KV's minimum TTL is 60 s
});

/** Polls `done` until it holds; fails (instead of hanging) if it never does. */
async function until(done: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${maxMs} ms`);
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

Deno.test("relay with a Deno KV queue: retries wait in the queue and survive a restart", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/relay.kv`;
  const destinations = [{ kind: "webhook" as const, url: "https://crm.test/h", secret: "whsec_q" }];
  try {
    // First process: the destination is down; the retry goes into the queue, 200 ms away.
    const kv1 = await Deno.openKv(path);
    const first: AlertDeliveryOutcome[] = [];
    const relay1 = createAlertRelay({
      tokens: [TOKEN],
      destinations,
      queue: kv1,
      backoffMs: [200, 200],
      fetch: () => Promise.resolve(new Response("", { status: 503 })),
      onDelivery: (o) => first.push(o),
    });
    const res = await relay1.fetch(
      new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body: ping("evt_q") }),
    );
    assertEquals(res.status, 202);
    await res.body?.cancel();
    await until(() => first.length > 0, "the first attempt was never reported");
    // "retrying" is reported once the retry is in the queue, so closing now loses nothing.
    assertEquals(first.map((o) => o.outcome), ["retrying"]);
    kv1.close(); // "crash" before the retry runs

    // Second process on the same KV: the queued retry runs and is delivered, once.
    const kv2 = await Deno.openKv(path);
    const got: Request[] = [];
    const second: AlertDeliveryOutcome[] = [];
    const relay2 = createAlertRelay({
      tokens: [TOKEN],
      destinations,
      queue: kv2,
      backoffMs: [200, 200],
      fetch: (r) => {
        got.push(r);
        return Promise.resolve(new Response("ok"));
      },
      onDelivery: (o) => second.push(o),
    });
    await until(() => second.length > 0, "the queued retry never ran after the restart");
    await relay2.idle();
    assertEquals(second.map((o) => [o.attempt, o.outcome]), [[2, "delivered"]]);
    assertEquals(got.length, 1);
    assertEquals(got[0].headers.get("Recapture-Event-Id"), "evt_q");
    kv2.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("relay with a queue: a retry too large for a queue message is retried in process, not lost", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let calls = 0;
    const outcomes: string[] = [];
    const errors: unknown[] = [];
    const relay = createAlertRelay({
      tokens: [TOKEN],
      queue: kv,
      backoffMs: [20, 20],
      destinations: [{ kind: "webhook", url: "https://crm.example/hook", secret: "whsec_x" }],
      fetch: () => Promise.resolve(new Response("x", { status: ++calls === 1 ? 503 : 200 })),
      onDelivery: (o) => outcomes.push(`${o.attempt}:${o.outcome}:${o.status}`),
      onError: (e) => errors.push(e),
    });
    // Under the 64 KB push limit, but with the rendered envelope over a queue message's 64 KB.
    const body = JSON.stringify({
      id: "evt_big",
      event: "ping",
      data: { note: "x".repeat(65_400) },
    });
    const res = await relay.fetch(
      new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body }),
    );
    assertEquals(res.status, 202);
    await relay.idle();
    assertEquals(outcomes, ["1:retrying:503", "2:delivered:200"]);
    assertEquals(errors, []);
  } finally {
    kv.close();
  }
});

/** A guard that records what the relay asks of it. */
function recordingGuard(calls: string[]): ReplayGuard {
  const inner = memoryReplayGuard();
  return {
    claim: (key, ttlMs) => (calls.push(`claim ${key} ${ttlMs}`), inner.claim(key, ttlMs)),
    release: (key) => (calls.push(`release ${key}`), inner.release(key)),
    remember: (key, result, ttlMs) => (
      calls.push(`remember ${key} ${ttlMs}`), inner.remember!(key, result, ttlMs)
    ),
    recall: (key) => inner.recall!(key),
  };
}

Deno.test("relay: an event whose destination failed for good is relayed again when AutoGrab re-pushes it", async () => {
  let status = 503;
  const sent: Request[] = [];
  const calls: string[] = [];
  const relay = createAlertRelay({
    tokens: [TOKEN],
    destinations: [{ kind: "webhook", url: "https://crm.test/hook", secret: "whsec_x" }],
    backoffMs: [5, 5],
    timeoutMs: 1000,
    guard: recordingGuard(calls),
    fetch: (r) => {
      sent.push(r);
      return Promise.resolve(new Response("", { status }));
    },
  });
  const push = async () => {
    const res = await relay.fetch(
      new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body: ping("evt_lost") }),
    );
    const answer = await res.json();
    await relay.idle();
    return [res.status, answer.duplicate];
  };
  assertEquals(await push(), [202, false]);
  assertEquals(sent.length, 3, "the relay's own retries, all failed");
  assertEquals(await push(), [202, false], "the re-push is relayed, not a duplicate");
  assertEquals(sent.length, 6);
  status = 200;
  assertEquals(await push(), [202, false]);
  assertEquals(sent.length, 7);
  assertEquals(await push(), [200, true], "once delivered, a re-push is a duplicate");
  assertEquals(sent.length, 7);
  // Claimed for as long as relaying can take here (enrichment allowance, 3 attempts, 2 delays),
  // kept for the dedupe window only once delivered.
  const lease = 120_000 + 3 * 1000 + 10;
  assertEquals(calls, [
    `claim alert:evt_lost ${lease}`,
    "release alert:evt_lost",
    `claim alert:evt_lost ${lease}`,
    "release alert:evt_lost",
    `claim alert:evt_lost ${lease}`,
    `remember alert:evt_lost ${7 * 24 * 3600_000}`,
    `claim alert:evt_lost ${lease}`,
  ]);
});

Deno.test("relay: an error inside the background relay releases the claim too", async () => {
  const calls: string[] = [];
  const errors: unknown[] = [];
  const relay = createAlertRelay({
    tokens: [TOKEN],
    destinations: [{ kind: "webhook", url: "https://crm.test/hook", secret: "whsec_x" }],
    guard: recordingGuard(calls),
    fetch: () => Promise.resolve(new Response("ok")),
    onDelivery: () => {
      throw new Error("logger failed");
    },
    onError: (e) => errors.push(e),
  });
  const res = await relay.fetch(
    new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body: ping("evt_throws") }),
  );
  assertEquals(res.status, 202);
  await res.body?.cancel();
  await relay.idle();
  assertEquals(calls.slice(1), ["release alert:evt_throws"]);
  assertEquals(errors.map((e) => (e as Error).message), ["logger failed"]);
});

Deno.test("relay with a Deno KV queue: when the queued retries fail for good, a re-push is relayed again", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const outcomes: string[] = [];
    const relay = createAlertRelay({
      tokens: [TOKEN],
      queue: kv,
      guard: denoKvReplayGuard(kv, { prefix: "alert_ids" }),
      backoffMs: [20, 20],
      destinations: [{ kind: "webhook", url: "https://crm.example/hook", secret: "whsec_x" }],
      fetch: () => Promise.resolve(new Response("down", { status: 503 })),
      onDelivery: (o) => outcomes.push(`${o.attempt}:${o.outcome}`),
    });
    const push = async () => {
      const res = await relay.fetch(
        new Request(`http://edge/alerts/${TOKEN}`, { method: "POST", body: ping("evt_kvq") }),
      );
      const answer = await res.json();
      return [res.status, answer.duplicate];
    };
    assertEquals(await push(), [202, false]);
    await until(() => outcomes.length === 3, "the queued retries never ran");
    await relay.idle();
    assertEquals(outcomes, ["1:retrying", "2:retrying", "3:failed"]);
    assertEquals(await push(), [202, false], "relayed again, not a duplicate");
    await until(() => outcomes.length === 6, "the re-push was not relayed");
    await relay.idle();
  } finally {
    kv.close();
  }
});

Deno.test("relay: an event id with a lone surrogate is a 400 naming id; other non-ASCII ids are relayed", async () => {
  const outcomes: AlertDeliveryOutcome[] = [];
  const { relay, sent } = relayWith(outcomes);
  const post = async (body: string) => {
    const res = await relay.fetch(
      new Request(`http://edge/alerts?token=${TOKEN}`, { method: "POST", body }),
    );
    return [res.status, await res.json()] as const;
  };
  for (const id of ["\\ud800", "evt_\\udfff_x", "evt_\\ud83d"]) {
    const [status, answer] = await post(`{"id":"${id}","event":"ping"}`);
    assertEquals([status, answer.code, answer.field], [400, "invalid_event", "id"], id);
  }
  const [status] = await post(`{"id":"evt_\\ud83d\\ude97","event":"ping"}`); // a car emoji
  assertEquals(status, 202);
  await relay.idle();
  assertEquals(sent.length, 1);
  assertEquals(sent[0].headers.get("Recapture-Event-Id"), "evt_%F0%9F%9A%97");
  assertEquals(outcomes.map((o) => o.outcome), ["delivered"]);
});
