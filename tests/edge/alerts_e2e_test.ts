/**
 * Recapture alerts end to end: upload customers → register the edge adapter's alert URL as a
 * webhook → simulate the market in the sandbox → the destination receives exactly one signed,
 * enriched event. Run twice: all in one process (fetch handed from part to part), and over real
 * HTTP on 127.0.0.1 (sandbox, edge adapter and destination each a `Deno.serve`).
 */
import { assert, assertEquals, assertExists } from "@std/assert";
import { type Customer, parseAlertEvent, RecaptureClient } from "../../mod.ts";
import { createAlertRelay, createRecaptureProxy, memoryReplayGuard } from "../../src/edge/mod.ts";
import type { AlertDeliveryOutcome, EnrichedAlert } from "../../src/edge/mod.ts";
import { simulateMarketEvent } from "../../src/sandbox/mod.ts";
import { verifySignature } from "../../src/signature/mod.ts";
import { ACCOUNTS, testSandbox } from "../sandbox/_helpers.ts";

const TOKEN = "alert_tok_7d1f3c9a5e2b8d4f6a0c1e3b5d7f9a2c";
const SECRET = "whsec_alerts_destination_secret";
const KEY_A = ACCOUNTS[0].apiKey!;
const KEY_B = "sec_key_b";
const VIN = "1HGCM82633A004352";

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** The destination: records every request; fails the first `failures` answers. */
class Destination {
  received: { headers: Headers; body: string }[] = [];
  slack: string[] = [];
  failures = 0;
  attempts = 0;
  #waiters: (() => void)[] = [];

  handle = async (request: Request): Promise<Response> => {
    const body = await request.text();
    if (new URL(request.url).pathname === "/slack") {
      this.slack.push((JSON.parse(body) as { text: string }).text);
      return new Response("ok");
    }
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return new Response("unavailable", { status: 503 });
    }
    this.received.push({ headers: request.headers, body });
    for (const w of this.#waiters.splice(0)) w();
    return new Response("ok");
  };
}

interface Wiring {
  a: RecaptureClient;
  b: RecaptureClient;
  alertUrl: (token: string) => string;
  /** Sends a request to the edge adapter (in process, or over HTTP). */
  edge: (request: Request) => Promise<Response>;
  destination: Destination;
  outcomes: AlertDeliveryOutcome[];
  /** Waits until the sandbox has pushed everything and the edge has relayed everything. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

function relayOptions(destUrl: string, outcomes: AlertDeliveryOutcome[]) {
  return {
    tokens: [TOKEN],
    guard: memoryReplayGuard(),
    apiKey: KEY_A,
    destinations: [
      { kind: "webhook" as const, url: `${destUrl}/crm`, secret: SECRET },
      { kind: "slack" as const, url: `${destUrl}/slack` },
    ],
    backoffMs: [10, 20, 40],
    // The destinations are on 127.0.0.1 (a Deno server) or in process: development opt-in.
    allowLoopbackForDevelopment: true,
    onDelivery: (o: AlertDeliveryOutcome) => outcomes.push(o),
  };
}

/** The parts a wiring is made of; `stop` closes what it started, after the relay is idle. */
interface WiringParts extends Pick<Wiring, "alertUrl" | "edge" | "destination" | "outcomes"> {
  sandbox: { pushesIdle(): Promise<void> };
  relay: { idle(): Promise<void> };
  /** A client of the sandbox (directly or over HTTP) with this API key. */
  client(apiKey: string): RecaptureClient;
  stop(): Promise<void>;
}

function wiring(parts: WiringParts): Wiring {
  return {
    a: parts.client(KEY_A),
    b: parts.client(KEY_B),
    alertUrl: parts.alertUrl,
    edge: parts.edge,
    destination: parts.destination,
    outcomes: parts.outcomes,
    async settle() {
      await parts.sandbox.pushesIdle();
      await parts.relay.idle();
    },
    async close() {
      await parts.relay.idle();
      await parts.stop();
    },
  };
}

async function inProcess(): Promise<Wiring> {
  const destination = new Destination();
  const outcomes: AlertDeliveryOutcome[] = [];
  let relayFetch: (r: Request) => Promise<Response> = () => Promise.reject(new Error("not yet"));
  const sandbox = await testSandbox({
    pushFetch: (r) => relayFetch(r),
    pushBackoffMs: [10, 20],
  });
  const relay = createAlertRelay({
    ...relayOptions("https://destination.example", outcomes),
    baseUrl: "https://sandbox",
    apiFetch: sandbox.fetch,
    fetch: destination.handle,
  });
  const proxy = createRecaptureProxy({ apiKey: KEY_A, alerts: relay });
  relayFetch = (r) => proxy.fetch(r);
  return wiring({
    sandbox,
    relay,
    destination,
    outcomes,
    client: (apiKey) =>
      new RecaptureClient({ apiKey, baseUrl: "https://sandbox", fetch: sandbox.fetch }),
    alertUrl: (token) => `https://edge.test/alerts/${token}`,
    edge: (r) => proxy.fetch(r),
    stop: () => sandbox.close(),
  });
}

async function overHttp(): Promise<Wiring> {
  const destination = new Destination();
  const outcomes: AlertDeliveryOutcome[] = [];
  const serve = (handler: (r: Request) => Promise<Response>) => {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
    return { server, url: `http://127.0.0.1:${server.addr.port}` };
  };
  const dest = serve(destination.handle);
  const sandbox = await testSandbox({ pushBackoffMs: [10, 20] });
  const api = serve(sandbox.fetch);
  const relay = createAlertRelay({ ...relayOptions(dest.url, outcomes), baseUrl: api.url });
  const proxy = createRecaptureProxy({
    apiKey: KEY_A,
    baseUrl: api.url,
    allowLoopbackForDevelopment: true, // the API is on 127.0.0.1
    alerts: relay,
  });
  const edge = serve((r) => proxy.fetch(r));
  return wiring({
    sandbox,
    relay,
    destination,
    outcomes,
    client: (apiKey) => new RecaptureClient({ apiKey, baseUrl: api.url }),
    alertUrl: (token) => `${edge.url}/alerts/${token}`,
    edge: (r) => fetch(r),
    async stop() {
      await edge.server.shutdown();
      await api.server.shutdown();
      await sandbox.close();
      await dest.server.shutdown();
    },
  });
}

/** Uploads the test customers; answers them by external id. */
async function upload(w: Wiring): Promise<Map<string, Customer>> {
  const created = await w.a.uploads.create({
    name: "alerts e2e",
    customers: [
      { external_id: "vin", vin: VIN, rego: "VIN001", state: "VIC", client_name: "Vin Owner" },
      { external_id: "rego", rego: "ABC123", state: "NSW", client_name: "Jo Citizen" },
      { external_id: "expired", rego: "EXP001", state: "NSW", expiry_date: isoDay(-1) },
      { external_id: "later", rego: "LTR001", state: "NSW", monitor_start_date: isoDay(5) },
      { external_id: "ended", rego: "END001", state: "NSW", monitor_end_date: isoDay(-2) },
      { external_id: "deleted", rego: "DEL001", state: "NSW", client_name: "Gone" },
    ],
  }, { allowPastExpiry: true }); // "expired" is deleted at once, on purpose
  await w.a.uploads.wait(created.id, { intervalMs: 5 });
  const out = new Map<string, Customer>();
  for await (const c of w.a.customers.iterate({ upload_id: created.id })) {
    out.set(c.external_id!, c);
  }
  await w.a.customers.delete(out.get("deleted")!.id);
  // Account B tracks a car with the same rego as A's "rego" customer.
  const b = await w.b.uploads.create({
    name: "b",
    customers: [{ rego: "ABC123", state: "NSW", client_name: "B's customer" }],
  });
  await w.b.uploads.wait(b.id, { intervalMs: 5 });
  return out;
}

async function received(w: Wiring): Promise<EnrichedAlert[]> {
  await w.settle();
  const out: EnrichedAlert[] = [];
  for (const r of w.destination.received) {
    await verifySignature(r.body, r.headers.get("Recapture-Signature"), SECRET);
    const alert = JSON.parse(r.body) as EnrichedAlert;
    assertEquals(r.headers.get("Recapture-Event-Id"), alert.id);
    out.push(alert);
  }
  w.destination.received = [];
  return out;
}

async function scenario(w: Wiring): Promise<void> {
  const customers = await upload(w);
  const hook = await w.a.webhooks.create({ name: "edge", endpoint: w.alertUrl(TOKEN) });
  await w.b.webhooks.create({ name: "b's own", endpoint: w.alertUrl(TOKEN) });

  // Listed, by VIN: exactly one signed, enriched recapture_new.
  const listed = await simulateMarketEvent(w.a, {
    vin: VIN,
    marketplace: "carsales",
    price: 23_500,
  });
  assertEquals(listed.matched, 1);
  let alerts = await received(w);
  assertEquals(alerts.length, 1);
  const vinOwner = customers.get("vin")!;
  assertEquals(alerts[0].event, "recapture_new");
  assertEquals(alerts[0].id, listed.alerts[0].id);
  const data = alerts[0].data as { customer_id: string; listing: { price: number; url: string } };
  assertEquals(data.customer_id, vinOwner.id);
  assertEquals(data.listing.price, 23_500);
  assertEquals(alerts[0].customer?.client_name, "Vin Owner");
  assertEquals(alerts[0].customer?.sightings?.length, 1);
  assertEquals(parseAlertEvent({ ...alerts[0] }).event, "recapture_new");
  const slack = w.destination.slack.splice(0);
  assertEquals(slack.length, 1);
  assert(slack[0].includes("Vin Owner") && slack[0].includes("VIN001"), slack[0]);
  assert(slack[0].includes("$23,500") && slack[0].includes(data.listing.url), slack[0]);

  // Price change, then delist, by rego + state.
  await simulateMarketEvent(w.a, {
    rego: "abc 123",
    state: "NSW",
    marketplace: "carsales",
    price: 25_000,
  });
  assertEquals((await received(w)).map((a) => a.event), ["recapture_new"]);
  w.destination.slack.length = 0;
  const changed = await simulateMarketEvent(w.a, {
    event: "price_change",
    rego: "ABC123",
    state: "NSW",
    marketplace: "carsales",
    price: 22_000,
  });
  assertEquals(changed.matched, 1);
  alerts = await received(w);
  assertEquals(alerts.map((a) => a.event), ["recapture_price_change"]);
  const change = alerts[0].data as { previous_price: number; listing: { price: number } };
  assertEquals([change.previous_price, change.listing.price], [25_000, 22_000]);
  assertEquals(alerts[0].customer?.client_name, "Jo Citizen");
  assert(w.destination.slack.splice(0)[0].includes("$25,000 → $22,000"));

  await simulateMarketEvent(w.a, {
    event: "delisted",
    rego: "ABC123",
    state: "NSW",
    marketplace: "carsales",
  });
  alerts = await received(w);
  assertEquals(alerts.map((a) => a.event), ["recapture_delist"]);
  assertEquals((alerts[0].data as { listing: { price: number } }).listing.price, 22_000);
  assertEquals(alerts[0].customer?.sightings?.length, 3);

  // No event for an expired, a not-yet-monitored, a no-longer-monitored or a deleted customer,
  // nor for a rego in another state, nor for another account's customer.
  for (const rego of ["EXP001", "LTR001", "END001", "DEL001"]) {
    const r = await simulateMarketEvent(w.a, {
      rego,
      state: "NSW",
      marketplace: "gumtree",
      price: 9_000,
    });
    assertEquals(r.matched, 0, rego);
  }
  const otherState = await simulateMarketEvent(w.a, {
    rego: "ABC123",
    state: "VIC",
    marketplace: "gumtree",
    price: 1,
  });
  assertEquals(otherState.matched, 0);
  const bListed = await simulateMarketEvent(w.b, {
    rego: "ABC123",
    state: "NSW",
    marketplace: "gumtree",
    price: 9_000,
  });
  assertEquals(bListed.matched, 1); // B's own customer, pushed to B's own webhook only
  await w.settle();
  // B's push reached the edge (same token) and was relayed: it is B's customer, not A's; the
  // edge's API key is A's, so the enrichment lookup is refused and says so.
  alerts = await received(w);
  assertEquals(alerts.length, 1);
  assertEquals(alerts[0].customer, null);
  assertEquals(alerts[0].customer_error, "permission_denied");
  w.destination.slack.length = 0;

  // A push with a wrong token is rejected and relays nothing.
  const forged = await fetchEdge(w, w.alertUrl("wrong_token"), {
    id: "evt_forged",
    event: "recapture_new",
    data: { customer_id: vinOwner.id, listing: { price: 1 } },
  });
  assertEquals(forged.status, 401);
  const noToken = await fetchEdge(w, w.alertUrl(""), { id: "evt_forged2", event: "ping" });
  assertEquals(noToken.status, 400); // `/alerts/`: an empty path segment, refused as a path
  assertEquals((await received(w)).length, 0);

  // A push that is not a valid event: 400 naming the field, nothing relayed.
  const invalid = await fetchEdge(w, w.alertUrl(TOKEN), { id: "evt_bad", event: "recapture_new" });
  assertEquals(invalid.status, 400);
  assertEquals(invalid.json().field, "data");

  // The same event pushed twice (AutoGrab retrying) is relayed once.
  const event = { id: "evt_retry_1", event: "ping", region: "au", data: {} };
  assertEquals((await fetchEdge(w, w.alertUrl(TOKEN), event)).status, 202);
  const again = await fetchEdge(w, w.alertUrl(TOKEN), event);
  assertEquals(again.status, 200);
  assertEquals(again.json().duplicate, true);
  assertEquals((await received(w)).map((a) => a.id), ["evt_retry_1"]);

  // A destination that fails twice, then succeeds, receives the event once.
  w.destination.failures = 2;
  w.destination.attempts = 0;
  w.outcomes.length = 0;
  const ping = await w.a.webhooks.ping(hook.id);
  alerts = await received(w);
  assertEquals(alerts.map((a) => a.id), [ping.event?.id]);
  assertEquals(w.destination.attempts, 3);
  const crm = w.outcomes.filter((o) => o.destination !== "slack").map((o) => o.outcome);
  assertEquals(crm, ["retrying", "retrying", "delivered"]);

  // The sighting is on the customer record.
  const after = await w.a.customers.retrieve(customers.get("rego")!.id);
  assertEquals(after.sightings?.map((s) => s.listing_price), [25_000, 22_000, 22_000]);
  assertExists(after.sightings?.[0].listing_url);
}

async function fetchEdge(
  w: Wiring,
  url: string,
  body: unknown,
): Promise<{ status: number; json(): Record<string, unknown> }> {
  const response = await w.edge(
    new Request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  const json = await response.json();
  return { status: response.status, json: () => json };
}

const WIRINGS = [["in one process", inProcess], ["over HTTP on 127.0.0.1", overHttp]] as const;
for (const [how, wire] of WIRINGS) {
  Deno.test(`alerts end to end, ${how}`, async () => {
    const w = await wire();
    try {
      await scenario(w);
    } finally {
      await w.close();
    }
  });
}
