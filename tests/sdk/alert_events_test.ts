// The pushed-event parser: known events checked, extra fields kept, unknown events passed
// through, bad input refused with the field at fault.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { AlertEventError, isRecaptureAlert, parseAlertEvent } from "../../mod.ts";

const listing = {
  url: "https://www.carsales.example/l/1",
  marketplace: "carsales",
  price: 23_500,
  listed_at: "2026-11-01T00:00:00Z",
  seller_type: "private",
};
const base = { id: "evt_1", created_at: "2026-11-01T00:00:00Z", region: "au" };

Deno.test("events: each known event parses, typed, extra fields kept", () => {
  const text = JSON.stringify({
    ...base,
    event: "recapture_new",
    data: { customer_id: "cus_1", rego: "ABC123", state: "NSW", vin: null, listing, extra: 1 },
    future_field: { a: 1 },
  });
  const e = parseAlertEvent(text);
  assert(isRecaptureAlert(e));
  assertEquals(e.event, "recapture_new");
  if (e.event === "recapture_new") {
    assertEquals(e.data.listing.price, 23_500);
    assertEquals(e.data.extra, 1);
  }
  assertEquals(e.future_field, { a: 1 });
  const bytes = new TextEncoder().encode(text);
  assertEquals(parseAlertEvent(bytes).id, "evt_1");

  const change = parseAlertEvent({
    ...base,
    event: "recapture_price_change",
    data: { customer_id: "cus_1", listing, previous_price: 25_000 },
  });
  assert(isRecaptureAlert(change) && change.event === "recapture_price_change");
  assertEquals(change.data.previous_price, 25_000);
  const delist = parseAlertEvent({
    ...base,
    event: "recapture_delist",
    data: { customer_id: "cus_1", listing: {} },
  });
  assertEquals(delist.event, "recapture_delist");
  const ping = parseAlertEvent({ id: "evt_p", event: "ping" });
  assertEquals(ping.event, "ping");
  assert(!isRecaptureAlert(ping));
});

Deno.test("events: unknown event names pass through, marked", () => {
  const e = parseAlertEvent({ id: "evt_v", event: "valuation_change", data: { anything: true } });
  assertEquals(e.event, "valuation_change");
  assert("unknown" in e && e.unknown === true);
  assertEquals(e.data, { anything: true });
  assert(!isRecaptureAlert(e));
});

Deno.test("events: bad input names the field", () => {
  const cases: [unknown, string][] = [
    ["{not json", ""],
    [[1, 2], ""],
    [{ event: "ping" }, "id"],
    [{ id: "", event: "ping" }, "id"],
    [{ id: "e", event: 5 }, "event"],
    [{ id: "e", event: "recapture_new" }, "data"],
    [{ id: "e", event: "recapture_new", data: { listing } }, "data.customer_id"],
    [{ id: "e", event: "recapture_new", data: { customer_id: "c" } }, "data.listing"],
    [{
      id: "e",
      event: "recapture_price_change",
      data: { customer_id: "c", listing: { price: "cheap" } },
    }, "data.listing.price"],
  ];
  for (const [input, field] of cases) {
    const e = assertThrows(() => parseAlertEvent(input), AlertEventError);
    assertEquals(e.field, field, JSON.stringify(input));
    assertEquals(e.code, "invalid_event");
  }
});

Deno.test("events: an object given is checked as a copy and left as it was", () => {
  const given = {
    id: "evt_c",
    event: "ping",
    constructor: "kept",
    data: { ["__proto__"]: "kept too" },
  };
  const before = structuredClone(given);
  const event = parseAlertEvent(given);
  assert((event as unknown) !== given);
  assertEquals(given, before);
  given.event = "recapture_delist";
  assertEquals(event.event, "ping");
  assertThrows(() => parseAlertEvent({ id: "e", event: "ping", f: () => 1 }), AlertEventError);
});
