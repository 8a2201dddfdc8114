/**
 * The sandbox's market simulation and alert pushes: validation of the market route, retries
 * with backoff, and a push that survives a restart of the sandbox (KV file).
 */
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { simulateMarketEvent } from "../../src/sandbox/mod.ts";
import { call, testSandbox } from "./_helpers.ts";

const ENDPOINT = "https://crm.example.com/alerts?token=tok_abcdef0123456789";
/** The car `trackOne` tracks, seen listed. */
const LISTING = { rego: "ABC123", state: "NSW", marketplace: "carsales", price: 20_000 };

async function trackOne(sandbox: { fetch(r: Request): Promise<Response>; idle(): Promise<void> }) {
  const client = new RecaptureClient({
    apiKey: "sec_key_a",
    baseUrl: "https://sandbox",
    fetch: sandbox.fetch,
  });
  await client.uploads.create({
    name: "one",
    customers: [{ rego: "ABC123", state: "NSW", client_name: "Jo" }],
  });
  await sandbox.idle();
  await client.webhooks.create({ name: "crm", endpoint: ENDPOINT });
  return client;
}

Deno.test("market: bad events get a 400 naming the field; auth and region apply", async () => {
  const sandbox = await testSandbox();
  try {
    const cases: [unknown, RegExp][] = [
      [{ event: "sold", rego: "A", marketplace: "m", price: 1 }, /event must be one of/],
      [{ event: "listed", marketplace: "m", price: 1 }, /rego or vin is required/],
      [{ event: "listed", rego: "A", price: 1 }, /marketplace is required/],
      [{ event: "listed", rego: "A", marketplace: "m" }, /price is required/],
      [{ event: "listed", rego: "A", marketplace: "m", price: -1 }, /price must be/],
      [{ event: "listed", rego: "A", marketplace: "m", price: 1, colour: "red" }, /Unknown field/],
      [{ event: "listed", rego: 5, marketplace: "m", price: 1 }, /rego must be a string/],
      [{ event: "listed", rego: "A", marketplace: "m", price: 1, url: "nope" }, /url must be/],
      // A listing URL goes out in pushes: only http(s), whatever the scheme's spelling.
      ...[
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "ftp://cars.example/1",
        "mailto:a@b.example",
      ].map((url): [unknown, RegExp] => [
        { event: "listed", rego: "A", marketplace: "m", price: 1, url },
        /^url must be an http\(s\) URL \(got [a-z]+:\)$/,
      ]),
    ];
    for (const [body, pattern] of cases) {
      const r = await call(sandbox, "POST", "/sandbox/market/events?region=au", { body });
      assertEquals(r.status, 400, JSON.stringify(body));
      assert(pattern.test(r.body.message!), `${r.body.message} ~ ${pattern}`);
    }
    const ok = { event: "listed", rego: "A", marketplace: "m", price: 1 };
    assertEquals(
      (await call(sandbox, "POST", "/sandbox/market/events?region=au", { body: ok, key: null }))
        .status,
      401,
    );
    assertEquals(
      (await call(sandbox, "POST", "/sandbox/market/events?region=zz", { body: ok })).status,
      400,
    );
    const c = await call(sandbox, "POST", "/sandbox/market/events?region=au", {
      body: ok,
      key: "sec_key_c", // licensed for uk only
    });
    assertEquals(c.status, 403);
  } finally {
    await sandbox.close();
  }
});

Deno.test("pushes: an endpoint failing twice gets the event on the third try", async () => {
  const seen: { id: string; at: number }[] = [];
  let failures = 2;
  const sandbox = await testSandbox({
    pushBackoffMs: [20, 40, 80],
    pushFetch: async (request) => {
      seen.push({ id: (await request.json()).id, at: Date.now() });
      return failures-- > 0 ? new Response("no", { status: 500 }) : new Response("ok");
    },
  });
  try {
    const client = await trackOne(sandbox);
    const r = await simulateMarketEvent(client, LISTING);
    assertEquals(r.alerts.length, 1);
    assertEquals(r.alerts[0].webhooks, 1);
    await sandbox.pushesIdle();
    assertEquals(seen.map((s) => s.id), [r.alerts[0].id, r.alerts[0].id, r.alerts[0].id]);
    assert(seen[1].at - seen[0].at >= 15, "waited before the 2nd try");
    assert(seen[2].at - seen[1].at >= 35, "waited longer before the 3rd try");
  } finally {
    await sandbox.close();
  }
});

Deno.test("pushes: a delivery still owed survives a restart of the sandbox", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sandbox.kv`;
  try {
    let attempts = 0;
    const first = await testSandbox({
      path,
      pushBackoffMs: [300, 300, 300],
      pushFetch: () => {
        attempts++;
        return Promise.resolve(new Response("down", { status: 503 }));
      },
    });
    let eventId = "";
    try {
      const client = await trackOne(first);
      const r = await simulateMarketEvent(client, LISTING);
      eventId = r.alerts[0].id;
      while (attempts === 0) await new Promise((ok) => setTimeout(ok, 5));
    } finally {
      await first.close(); // the retry is queued, 300 ms away
    }
    const delivered: string[] = [];
    const second = await testSandbox({
      path,
      pushFetch: async (request) => {
        delivered.push((await request.json()).id);
        return new Response("ok");
      },
    });
    try {
      await second.pushesIdle();
      assertEquals(delivered, [eventId]);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("market: long sightings keep the record storable; a rego with a dash matches; webhooks count once and are capped", async () => {
  const sandbox = await testSandbox();
  try {
    const client = await trackOne(sandbox);
    // 60 listings with 2,000-character URLs and 200-character fields: each answers 200 and the
    // customer keeps its newest sightings (the oldest go, so the record stays one KV value).
    const long = (n: number, c: string) => c.repeat(n);
    for (let i = 0; i < 60; i++) {
      const r = await call(sandbox, "POST", "/sandbox/market/events?region=au", {
        body: {
          event: i === 0 ? "listed" : "price_change",
          rego: i % 2 ? "ABC-123" : "abc 123", // as uploads store it: no dash, no space
          state: "NSW",
          marketplace: long(200, "m"),
          seller_type: long(200, "s"),
          title: long(200, "t"),
          url: `https://cars.example.com/${i}/${long(1960, "u")}`,
          price: 20_000 - i,
        },
      });
      assertEquals(r.status, 200, `event ${i}: ${r.body.message}`);
      assertEquals((r.body as { matched?: number }).matched, 1, `event ${i} matched`);
    }
    const [customer] = (await client.customers.list()).customers;
    const sightings = customer.sightings!;
    assert(sightings.length > 1 && sightings.length < 50, `${sightings.length} kept`);
    assertEquals(sightings.at(-1)!.listing_price, 20_000 - 59, "the newest is kept");

    // GET /v2/webhooks takes one request from the rate limit, like every other route.
    const a = await call(sandbox, "GET", "/v2/webhooks?region=au");
    const b = await call(sandbox, "GET", "/v2/webhooks?region=au");
    assertEquals(
      Number(a.headers.get("rate-limit-remaining")) - Number(b.headers.get("rate-limit-remaining")),
      1,
    );
    // At most 100 webhooks per account and region (trackOne made one).
    for (let i = 1; i < 100; i++) {
      await client.webhooks.create({ name: `w${i}`, endpoint: `${ENDPOINT}&n=${i}` });
    }
    const over = await call(sandbox, "POST", "/v2/webhooks?region=au", {
      body: { name: "one too many", endpoint: ENDPOINT, events: ["recapture_new"] },
    });
    assertEquals(over.status, 400);
    assertEquals(
      over.body.message,
      "An account holds at most 100 webhooks per region; delete one first",
    );
    const pushed = await call(sandbox, "POST", "/sandbox/market/events?region=au", {
      body: { event: "delisted", rego: "ABC123", state: "NSW", marketplace: "m" },
    });
    assertEquals(pushed.status, 200, "an event for 100 webhooks fits one operation");
  } finally {
    await sandbox.close();
  }
});
