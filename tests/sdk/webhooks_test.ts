/**
 * `client.webhooks` against the sandbox (in process): every operation and every error, plus the
 * push the sandbox sends for a ping, parsed with `parseAlertEvent`.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  IncorrectRegionError,
  NotFoundError,
  NotLicensedError,
  parseAlertEvent,
  PermissionDeniedError,
  RecaptureClient,
  ServerError,
  ValidationError,
} from "../../mod.ts";
import { ACCOUNTS, testSandbox } from "../sandbox/_helpers.ts";

async function setup(pushed: Request[] = []) {
  const sandbox = await testSandbox({
    pushFetch: (request) => {
      pushed.push(request);
      return Promise.resolve(new Response("ok"));
    },
  });
  const client = (key: string) =>
    new RecaptureClient({
      apiKey: key,
      baseUrl: "https://sandbox",
      fetch: sandbox.fetch,
      maxRetries: 0,
    });
  return { sandbox, a: client(ACCOUNTS[0].apiKey!), b: client("sec_key_b") };
}

const ENDPOINT = "https://edge.example.com/alerts/tok_0123456789abcdef";

Deno.test("webhooks: create, list, retrieve, delete; the wire object", async () => {
  const { sandbox, a } = await setup();
  try {
    const created = await a.webhooks.create({ name: "CRM", endpoint: ENDPOINT });
    assertEquals(created.lastResponse.status, 201);
    assert(created.id.startsWith("wh_"));
    assertEquals(created.name, "CRM");
    assertEquals(created.region, "au");
    assertEquals(created.format, "json");
    assertEquals(created.endpoint, ENDPOINT);
    assertEquals(created.events, ["recapture_new", "recapture_price_change", "recapture_delist"]);
    assert(typeof created.created_at === "string");
    const only = await a.webhooks.create({
      name: "New only",
      endpoint: ENDPOINT,
      events: ["recapture_new"],
    });
    assertEquals(only.events, ["recapture_new"]);

    const list = await a.webhooks.list();
    assertEquals(list.webhooks.map((w) => w.id), [created.id, only.id]);
    assertEquals((await a.webhooks.list({ region: "nz" })).webhooks, []);

    const got = await a.webhooks.retrieve(created.id);
    assertEquals({ ...got }, { ...created });

    const deleted = await a.webhooks.delete(created.id);
    assertEquals(deleted.id, created.id);
    assertEquals((await a.webhooks.list()).webhooks.map((w) => w.id), [only.id]);
    const gone = await assertRejects(() => a.webhooks.retrieve(created.id), NotFoundError);
    assertEquals(gone.code, "invalid_webhook_id");
    assertEquals(gone.status, 404);
  } finally {
    await sandbox.close();
  }
});

Deno.test("webhooks: ping pushes a ping event the parser accepts", async () => {
  const pushed: Request[] = [];
  const { sandbox, a } = await setup(pushed);
  try {
    const hook = await a.webhooks.create({ name: "p", endpoint: ENDPOINT });
    const ping = await a.webhooks.ping(hook.id);
    assertEquals(ping.lastResponse.status, 202);
    assertEquals(ping.event?.event, "ping");
    await sandbox.pushesIdle();
    assertEquals(pushed.length, 1);
    assertEquals(pushed[0].url, ENDPOINT);
    assertEquals(pushed[0].headers.get("content-type"), "application/json");
    const event = parseAlertEvent(await pushed[0].text());
    assertEquals(event.event, "ping");
    assertEquals(event.id, ping.event?.id);
    assertEquals(event.region, "au");
  } finally {
    await sandbox.close();
  }
});

Deno.test("webhooks: errors map to typed classes", async () => {
  const { sandbox, a, b } = await setup();
  try {
    const hook = await a.webhooks.create({ name: "x", endpoint: ENDPOINT });
    // Another account's webhook: permission error (documented message).
    const denied = await assertRejects(() => b.webhooks.retrieve(hook.id), PermissionDeniedError);
    assertEquals(denied.message, "You don't have permission to access that webhook");
    await assertRejects(() => b.webhooks.delete(hook.id), PermissionDeniedError);
    await assertRejects(() => b.webhooks.ping(hook.id), PermissionDeniedError);
    // Another region: `Invalid Region` becomes the region error class.
    const region = await assertRejects(
      () => a.webhooks.retrieve(hook.id, { region: "nz" }),
      IncorrectRegionError,
    );
    assertEquals(region.code, "incorrect_region");
    assert(region.message.startsWith("Invalid Region"));
    // An unknown id.
    await assertRejects(() => a.webhooks.delete("wh_000000000000000000000000"), NotFoundError);
    await assertRejects(() => a.webhooks.ping("nope"), NotFoundError);
    // A region outside the four, sent raw: `Invalid Region`.
    const raw = await a.requestRaw("GET", "/v2/webhooks", { query: { region: "xx" } });
    assertEquals(raw.status, 400);
    const rawBody = await raw.json();
    assertEquals(rawBody.message, "Invalid Region");
    assertEquals(rawBody.detail, '"xx" is not one of au, nz, uk, my');
    // Not licensed for the region (account B has au only).
    await assertRejects(() => b.webhooks.list({ region: "nz" }), NotLicensedError);
    // Still there after all that.
    assertEquals((await a.webhooks.retrieve(hook.id)).id, hook.id);
  } finally {
    await sandbox.close();
  }
});

/** A client whose fetch only counts what it is given (nothing should reach it). */
function countingClient(): { client: RecaptureClient; sent: () => number } {
  let sent = 0;
  const client = new RecaptureClient({
    apiKey: "sec_x",
    fetch: () => {
      sent++;
      return Promise.resolve(new Response("{}"));
    },
  });
  return { client, sent: () => sent };
}

Deno.test("webhooks: bad params are refused before sending, naming the field", async () => {
  const { client, sent } = countingClient();
  const e = await assertRejects(
    () =>
      client.webhooks.create({
        name: "",
        endpoint: "not a url",
        // @ts-expect-error: not an event name
        events: ["recapture_new", "valuation_change"],
      }),
    ValidationError,
  );
  assertEquals(e.issues.map((i) => i.field), ["name", "endpoint", "events[1]"]);
  assertEquals(sent(), 0);
});

Deno.test("webhooks: an endpoint must be https (its token is the pushes' only authentication), plain http only to loopback", async () => {
  const { sandbox, a } = await setup();
  try {
    for (
      const endpoint of [
        "http://169.254.169.254/latest?token=abc_secret",
        "http://crm.example.com/alerts/tok_secret",
        "http://localhost.example.com/alerts/tok_secret",
        "ftp://crm.example.com/tok_secret",
      ]
    ) {
      const e = await assertRejects(
        () => a.webhooks.create({ name: "crm", endpoint }),
        ValidationError,
      );
      assertEquals(e.issues.map((i) => [i.index, i.field]), [[-1, "endpoint"]]);
      assert(e.issues[0].reason.startsWith("must be https (http only to localhost"), e.message);
      assert(!e.message.includes("_secret"), e.message); // the URL's token is not repeated
    }
    for (
      const endpoint of [
        ENDPOINT,
        "http://127.0.0.1:8788/alerts?token=tok_0123456789abcdef",
        "http://localhost:8788/alerts/tok_0123456789abcdef",
        "http://[::1]:8788/alerts/tok_0123456789abcdef",
      ]
    ) {
      assertEquals((await a.webhooks.create({ name: "crm", endpoint })).endpoint, endpoint);
    }
  } finally {
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("webhooks: unknown fields are refused, each named, not dropped", async () => {
  const { client, sent } = countingClient();
  const e = await assertRejects(
    () =>
      client.webhooks.create({
        name: "crm",
        endpoint: ENDPOINT,
        // @ts-expect-error: a typo for `events` (it would subscribe to all three events)
        event: ["recapture_delist"],
        secret: "x",
      }),
    ValidationError,
  );
  assertEquals(e.issues, [
    { index: -1, field: "event", reason: "unknown field" },
    { index: -1, field: "secret", reason: "unknown field" },
  ]);
  assertEquals(sent(), 0);
});

Deno.test("webhooks: a create that may have succeeded says so", async () => {
  const client = new RecaptureClient({
    apiKey: "sec_x",
    fetch: () => Promise.resolve(Response.json({ error: true, message: "boom" }, { status: 502 })),
  });
  const e = await assertRejects(
    () => client.webhooks.create({ name: "crm", endpoint: ENDPOINT }),
    ServerError,
  );
  assertEquals(e.status, 502);
  assert(e.message.startsWith("boom. "), e.message);
  assert(e.message.includes('"crm" may have been created anyway'), e.message);
  assert(e.message.includes("webhooks.list()"), e.message);
  // A 400 created nothing: as it was.
  const refused = new RecaptureClient({
    apiKey: "sec_x",
    fetch: () => Promise.resolve(Response.json({ error: true, message: "bad" }, { status: 400 })),
  });
  const r = await assertRejects(() => refused.webhooks.create({ name: "crm", endpoint: ENDPOINT }));
  assertEquals(r.message, "bad");
});

Deno.test("webhooks: the sandbox refuses a bad body with a 400 naming the field", async () => {
  const { sandbox, a } = await setup();
  try {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: "x", endpoint: ENDPOINT, events: ["valuation_change"] }, /events\[0\]/],
      [{ name: "x", endpoint: "ftp://x", events: ["recapture_new"] }, /endpoint/],
      [{ name: "x", endpoint: ENDPOINT, events: [] }, /events/],
      [{ name: "x", endpoint: ENDPOINT, events: ["recapture_new"], format: "xml" }, /format/],
      [
        { name: "x", endpoint: ENDPOINT, events: ["recapture_new"], region: "nz" },
        /Invalid Region/,
      ],
      [{ name: "x", endpoint: ENDPOINT, events: ["recapture_new"], secret: 1 }, /Unknown field/],
    ];
    for (const [body, pattern] of cases) {
      const res = await a.requestRaw("POST", "/v2/webhooks", {
        body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" },
      });
      assertEquals(res.status, 400, JSON.stringify(body));
      const message = (await res.json()).message as string;
      assert(pattern.test(message), `${message} should match ${pattern}`);
    }
    assertEquals((await a.webhooks.list()).webhooks.length, 0);
  } finally {
    await sandbox.close();
  }
});

Deno.test("webhooks: create is not retried after a 5xx, list is", async () => {
  const seen: string[] = [];
  let failures = 1;
  const client = new RecaptureClient({
    apiKey: "sec_x",
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    fetch: (req) => {
      seen.push(req.method);
      if (req.method === "POST" || failures-- > 0) {
        return Promise.resolve(Response.json({ error: true, message: "boom" }, { status: 503 }));
      }
      return Promise.resolve(Response.json({ success: true, webhooks: [] }));
    },
  });
  await assertRejects(() => client.webhooks.create({ name: "x", endpoint: ENDPOINT }));
  assertEquals(seen, ["POST"]);
  seen.length = 0;
  const list = await client.webhooks.list();
  assertInstanceOf(list.webhooks, Array);
  assertEquals(seen, ["GET", "GET"]);
});
