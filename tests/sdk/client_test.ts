import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  AuthenticationError,
  type Customer,
  type CustomerPage,
  type CustomerUpdateParams,
  encodePathSegment,
  RecaptureClient,
  TimeoutError,
  UnexpectedResponseError,
  type Upload,
  type UploadCreateParams,
  type UploadCreateResult,
  ValidationError,
} from "../../mod.ts";
import {
  BASE,
  customerJson,
  http,
  HttpResponse,
  KEY,
  mswClient,
  type Seen,
  uploadJson,
} from "../_msw.ts";
import { createSandbox, SANDBOX_API_KEY, SANDBOX_CLIENT_ID } from "../../src/sandbox/mod.ts";

const API = `${BASE}/v2/recapture`;
const RATE = {
  "Rate-Limit-Remaining": "99",
  "Rate-Limit-Total": "100",
  "Rate-Limit-Reset": "1767225600",
  "Monthly-Base-Request-Quota": "10000",
  "Monthly-Max-Request-Quota": "12000",
  "Monthly-Request-Total": "41",
  "X-Request-Id": "req_abc",
};

function query(s: Seen): Record<string, string> {
  return Object.fromEntries(s.url.searchParams);
}

function assertSent(
  s: Seen,
  method: string,
  path: string,
  q: Record<string, string>,
  body?: unknown,
): void {
  assertEquals(s.method, method);
  assertEquals(s.url.origin + s.url.pathname, `${BASE}${path}`);
  assertEquals(query(s), q);
  assertEquals(s.headers.get("apikey"), KEY);
  assertEquals(s.headers.get("authorization"), null);
  assertEquals(s.headers.get("accept"), "application/json");
  if (body === undefined) {
    assertEquals(s.body, "");
    assertEquals(s.headers.get("content-type"), null);
  } else {
    assertEquals(s.headers.get("content-type"), "application/json");
    assertEquals(JSON.parse(s.body), body);
  }
}

Deno.test("uploads.create sends the normalised rows and returns the upload", async () => {
  const { client, seen } = mswClient([
    http.post(
      `${API}/upload`,
      () =>
        HttpResponse.json({ success: true, upload: uploadJson("upl_1") }, {
          status: 201,
          headers: RATE,
        }),
    ),
  ]);
  const upload = await client.uploads.create({
    name: "March",
    enable_rego_lookups: true,
    monitor_start_date: "2025-03-01",
    customers: [
      { rego: "abc 123", state: "nsw", client_name: "Jo" },
      { vin: "1hgcm82633a004352", additional_fields: { crm: 1 } },
    ],
  });
  assertEquals(seen.length, 1);
  assertSent(seen[0], "POST", "/v2/recapture/upload", { region: "au" }, {
    name: "March",
    enable_rego_lookups: true,
    monitor_start_date: "2025-03-01",
    customers: [
      { rego: "ABC123", state: "NSW", client_name: "Jo" },
      { vin: "1HGCM82633A004352", additional_fields: { crm: 1 } },
    ],
  });
  assertEquals<UploadCreateResult>(upload, { ...uploadJson("upl_1"), rejected: [] });
  const typed: Upload = upload;
  assertEquals(typed.total_uploaded_customers, 2);
  assertEquals(upload.lastResponse, {
    status: 201,
    requestId: "req_abc",
    rateLimit: { remaining: 99, total: 100, reset: 1767225600 },
    quota: { base: 10000, max: 12000, total: 41 },
  });
  assertEquals(Object.keys(upload).includes("lastResponse"), false);
  assertEquals(JSON.parse(JSON.stringify(upload)).lastResponse, undefined);
});

Deno.test("uploads.create with dropInvalid sends only valid rows and returns the rejected", async () => {
  const { client, seen } = mswClient([
    http.post(
      `${API}/upload`,
      () => HttpResponse.json({ success: true, upload: uploadJson("upl_2") }, { status: 201 }),
    ),
  ]);
  const upload = await client.uploads.create({
    name: "Mixed",
    customers: [{ rego: "A1" }, { client_name: "no car" }, { vin: "SHORT" }, { rego: "B2" }],
  }, { dropInvalid: true, region: "nz" });
  assertEquals(query(seen[0]), { region: "nz" });
  assertEquals(JSON.parse(seen[0].body).customers, [{ rego: "A1" }, { rego: "B2" }]);
  assertEquals(JSON.parse(seen[0].body).enable_rego_lookups, false);
  assertEquals(upload.rejected, [
    { index: 1, field: "rego|vin", reason: "a customer needs a rego or a vin" },
    { index: 2, field: "vin", reason: "must be 17 characters, got 5" },
  ]);
});

Deno.test("uploads.create: upload-level monitor dates are checked in order and sent trimmed", async () => {
  const { client, seen } = mswClient([
    http.post(
      `${API}/upload`,
      () => HttpResponse.json({ success: true, upload: uploadJson("upl_3") }, { status: 201 }),
    ),
  ]);
  const err = await assertRejects(
    () =>
      client.uploads.create({
        name: "Window",
        monitor_start_date: "2026-06-01",
        monitor_end_date: "2026-01-01",
        customers: [{ rego: "A1" }],
      }),
    ValidationError,
  );
  assertEquals(err.issues, [
    { index: -1, field: "monitor_end_date", reason: "must not be before monitor_start_date" },
  ]);
  assertEquals(seen.length, 0, "nothing sent");
  await client.uploads.create({
    name: "Window",
    monitor_start_date: " 2026-01-01 ",
    monitor_end_date: "2026-06-01\t",
    customers: [{ rego: "A1" }],
  });
  const sent = JSON.parse(seen[0].body);
  assertEquals([sent.monitor_start_date, sent.monitor_end_date], ["2026-01-01", "2026-06-01"]);
});

Deno.test("uploads.create refuses invalid rows before sending anything", async () => {
  const { client, seen } = mswClient([]);
  const err = await assertRejects(
    () =>
      client.uploads.create({
        name: "",
        customers: [{ rego: "A1", state: "XYZ" }, { vin: "1HGCM82633A00435I" }],
      }),
    ValidationError,
  );
  assertEquals(err.code, "validation_failed");
  assertEquals(err.issues, [
    { index: -1, field: "name", reason: "must be a non-empty string" },
    {
      index: 0,
      field: "state",
      reason: "must be one of NSW, VIC, QLD, SA, WA, TAS, NT, ACT in region au",
    },
    {
      index: 1,
      field: "vin",
      reason: "must contain only letters and digits, without I, O or Q",
    },
  ]);
  await assertRejects(
    () => client.uploads.create({ name: "x", customers: [] }),
    ValidationError,
    "You must upload at least one customer record",
  );
  await assertRejects(
    () => client.uploads.create({ name: "x", customers: [{ vin: "x" }] }, { dropInvalid: true }),
    ValidationError,
    "no valid customer left",
  );
  assertEquals(seen.length, 0);
});

Deno.test("uploads.create refuses upload-level fields the API does not know (a misspelt one was dropped)", async () => {
  const { client, seen } = mswClient([]);
  for (const validate of [true, false]) {
    const err = await assertRejects(
      () =>
        client.uploads.create({
          name: "x",
          enableRegoLookups: true,
          region: "nz",
          notes: undefined, // absent, as in a row
          customers: [{ rego: "ABC123", state: "NSW" }],
        } as unknown as UploadCreateParams, { validate }),
      ValidationError,
    );
    assertEquals(err.issues, [
      { index: -1, field: "enableRegoLookups", reason: "unknown field" },
      { index: -1, field: "region", reason: "unknown field" },
    ]);
  }
  assertEquals(seen.length, 0);
});

Deno.test("uploads.create with validate:false sends the rows as given", async () => {
  const { client, seen } = mswClient([
    http.post(
      `${API}/upload`,
      () => HttpResponse.json({ success: true, upload: uploadJson("upl_3") }, { status: 201 }),
    ),
  ]);
  const rows = [{ client_name: "no car" }] as unknown as { rego?: string }[];
  await client.uploads.create({ name: "raw", customers: rows }, { validate: false });
  assertEquals(JSON.parse(seen[0].body).customers, [{ client_name: "no car" }]);
});

Deno.test("uploads.retrieve, cancel: method, encoded path, region override, result", async () => {
  const { client, seen } = mswClient([
    http.get(
      `${API}/upload/:id`,
      ({ params }) =>
        HttpResponse.json({
          success: true,
          upload: uploadJson(String(params.id), { future_field: [1, 2] }),
        }),
    ),
    http.delete(
      `${API}/upload/:id`,
      ({ params }) =>
        HttpResponse.json({
          success: true,
          upload: uploadJson(String(params.id), { status: "cancelled" }),
        }),
    ),
  ]);
  const got = await client.uploads.retrieve("upl/1 ?x", { region: "uk" });
  assertSent(seen[0], "GET", "/v2/recapture/upload/upl%2F1%20%3Fx", { region: "uk" });
  assertEquals(got, uploadJson("upl/1 ?x", { future_field: [1, 2] }));
  const cancelled = await client.uploads.cancel("upl_9");
  // A status request first (is it cancelled already?), then the DELETE.
  assertSent(seen[1], "GET", "/v2/recapture/upload/upl_9", { region: "au" });
  assertSent(seen[2], "DELETE", "/v2/recapture/upload/upl_9", { region: "au" });
  assertEquals(cancelled.status, "cancelled");
  assertEquals(cancelled.lastResponse.status, 200);
});

Deno.test("ids are refused when empty or a dot segment, never sent", async () => {
  const { client, seen } = mswClient([]);
  await assertRejects(() => client.customers.retrieve(""), TypeError, "non-empty");
  await assertRejects(() => client.customers.delete(".."), TypeError, 'cannot be ".."');
  await assertRejects(() => client.uploads.cancel("."), TypeError, 'cannot be "."');
  // Each names the argument that was wrong, in the SDK's words.
  const calls: [string, () => Promise<unknown>][] = [
    ["uploadId", () => client.uploads.retrieve("")],
    ["uploadId", () => client.uploads.cancel(undefined as unknown as string)],
    ["uploadId", () => client.uploads.wait("")],
    ["customerId", () => client.customers.retrieve("")],
    ["customerId", () => client.customers.update("", { client_name: "x" })],
    ["customerId", () => client.customers.delete(null as unknown as string)],
    ["webhookId", () => client.webhooks.retrieve("")],
    ["webhookId", () => client.webhooks.ping("..")],
    ["webhookId", () => client.webhooks.delete(3 as unknown as string)],
  ];
  for (const [name, call] of calls) await assertRejects(call, TypeError, name);
  assertEquals(seen.length, 0);
});

Deno.test("customers.list sends offset, limit, upload_id and returns the page", async () => {
  const { client, seen } = mswClient([
    http.get(`${API}/customers`, () =>
      HttpResponse.json({
        success: true,
        customers: [customerJson("c1"), customerJson("c2", { sightings: null })],
        total: 7,
        offset: 5,
        limit: 2,
      }, { headers: RATE })),
  ]);
  const page = await client.customers.list({ offset: 5, limit: 2, upload_id: "upl 1" });
  assertSent(seen[0], "GET", "/v2/recapture/customers", {
    offset: "5",
    limit: "2",
    upload_id: "upl 1",
    region: "au",
  });
  assertEquals<CustomerPage>(page, {
    success: true,
    customers: [customerJson("c1"), customerJson("c2", { sightings: null })],
    total: 7,
    offset: 5,
    limit: 2,
  });
  assertEquals(page.lastResponse.rateLimit?.remaining, 99);
  await client.customers.list();
  assertEquals(query(seen[1]), { region: "au" });
  await assertRejects(() => client.customers.list({ limit: 1001 }), RangeError, "at most 1000");
  await assertRejects(() => client.customers.list({ offset: -1 }), RangeError, "offset");
  // Per-call limits are checked like the client's own (not handed to the platform as they are).
  for (const timeoutMs of [-1, NaN, 3e9]) {
    await assertRejects(
      () => client.customers.retrieve("c1", { timeoutMs }),
      RangeError,
      "timeoutMs must be",
    );
  }
  await assertRejects(
    () => client.customers.retrieve("c1", { maxRetries: -1 }),
    RangeError,
    "maxRetries must be an integer ≥ 0",
  );
  // Counts are integers: refused, not rounded (offset 0.9 was sent as 0, limit 1.9 as 1).
  for (
    const call of [
      () => client.customers.list({ offset: 0.9 }),
      () => client.customers.list({ limit: 1.9 }),
      () => client.customers.retrieve("c1", { maxRetries: 2.5 }),
      () =>
        client.uploads.create({ name: "x", customers: [{ vin: "1HGCM82633A004352" }] }, {
          maxBodyBytes: 1e3 + 0.5,
        }),
    ]
  ) {
    const sent = seen.length;
    await assertRejects(call, RangeError, "must be an integer");
    assertEquals(seen.length, sent, "nothing was sent");
  }
  assertThrows(
    () => new RecaptureClient({ apiKey: "k", maxRetries: 1.5 }),
    RangeError,
    "maxRetries must be an integer ≥ 0, got 1.5",
  );
  await assertRejects(
    () => client.requestRaw("GET", "/v2/recapture/customers", { timeoutMs: 0 }),
    RangeError,
    "timeoutMs must be a number ≥ 1",
  );
  await assertRejects(
    () => client.uploads.wait("upl_1", { intervalMs: 3e9 }),
    RangeError,
    "intervalMs must be at most",
  );
});

Deno.test("customers.iterate walks every page, filtered by upload", async () => {
  const all = Array.from({ length: 7 }, (_, i) => customerJson(`c${i}`));
  const { client, seen } = mswClient([
    http.get(`${API}/customers`, ({ request }) => {
      const q = new URL(request.url).searchParams;
      const offset = Number(q.get("offset")), limit = Number(q.get("limit"));
      return HttpResponse.json({
        success: true,
        customers: all.slice(offset, offset + limit),
        total: all.length,
        offset,
        limit,
      });
    }),
  ]);
  const ids: string[] = [];
  for await (const c of client.customers.iterate({ upload_id: "upl_1", pageSize: 3 })) {
    const typed: Customer = c;
    ids.push(typed.id);
  }
  assertEquals(ids, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
  assertEquals(
    seen.map((s) => query(s)),
    [0, 3, 6].map((offset) => ({
      offset: String(offset),
      limit: "3",
      upload_id: "upl_1",
      region: "au",
    })),
  );
});

Deno.test("customers.list and iterate accept pages with only the documented customers", async () => {
  // A server that says no total, offset or limit, and caps its pages at 2 whatever is asked:
  // iterate must not take a short page for the last one, only an empty page.
  const all = Array.from({ length: 5 }, (_, i) => customerJson(`c${i}`));
  const { client, seen } = mswClient([
    http.get(`${API}/customers`, ({ request }) => {
      const offset = Number(new URL(request.url).searchParams.get("offset") ?? 0);
      return HttpResponse.json({ success: true, customers: all.slice(offset, offset + 2) });
    }),
  ]);
  const page = await client.customers.list({ limit: 10 });
  assertEquals<CustomerPage>(page, { success: true, customers: all.slice(0, 2) });
  assertEquals(page.total, undefined);
  const ids: string[] = [];
  for await (const c of client.customers.iterate({ pageSize: 3 })) ids.push(c.id);
  assertEquals(ids, ["c0", "c1", "c2", "c3", "c4"]);
  // Pages at 0, 2, 4 and the empty one at 5 that ends the walk.
  assertEquals(seen.slice(1).map((s) => query(s).offset), ["0", "2", "4", "5"]);
});

Deno.test("webhooks.ping accepts the documented { success: true } without an event", async () => {
  const { client } = mswClient([
    http.post(`${BASE}/v2/webhooks/wh_1/ping`, () => HttpResponse.json({ success: true })),
  ]);
  const ping = await client.webhooks.ping("wh_1");
  assertEquals(ping.success, true);
  assertEquals(ping.event, null);
});

Deno.test("customers.retrieve, update, delete: exact requests and typed results", async () => {
  const { client, seen } = mswClient([
    http.get(
      `${API}/customers/:id`,
      ({ params }) =>
        HttpResponse.json({ success: true, customer: customerJson(String(params.id)) }),
    ),
    http.patch(`${API}/customers/:id`, async ({ params, request }) =>
      HttpResponse.json({
        success: true,
        customer: customerJson(String(params.id), {
          ...(await request.json() as Record<string, unknown>),
          mobile_number: null,
        }),
      })),
    http.delete(
      `${API}/customers/:id`,
      ({ params }) =>
        HttpResponse.json({ success: true, customer: customerJson(String(params.id)) }),
    ),
  ]);
  const got = await client.customers.retrieve("cus_1");
  assertSent(seen[0], "GET", "/v2/recapture/customers/cus_1", { region: "au" });
  assertEquals(got, customerJson("cus_1"));
  const updated = await client.customers.update("cus_1", {
    client_name: "Sam",
    mobile_number: "",
    expiry_date: "2027-01-31",
  }, { region: "my" });
  assertSent(seen[1], "PATCH", "/v2/recapture/customers/cus_1", { region: "my" }, {
    client_name: "Sam",
    mobile_number: "",
    expiry_date: "2027-01-31",
  });
  assertEquals(updated.client_name, "Sam");
  assertEquals(updated.mobile_number, null);
  const deleted = await client.customers.delete("cus_1");
  assertSent(seen[2], "DELETE", "/v2/recapture/customers/cus_1", { region: "au" });
  assertEquals(deleted, customerJson("cus_1"));
});

Deno.test("customers.update refuses fields the API cannot change, before sending", async () => {
  const { client, seen } = mswClient([]);
  const err = await assertRejects(
    () =>
      client.customers.update("c1", {
        rego: "X",
        sale_date: "2025-02-30",
      } as unknown as { sale_date: string }),
    ValidationError,
  );
  assertEquals(err.issues.map((i) => i.field), ["rego", "sale_date"]);
  assertEquals(seen.length, 0);
});

Deno.test("customers.update applies the upload's field rules and refuses an empty update, before sending", async () => {
  const { client, seen } = mswClient([
    http.patch(
      `${API}/customers/:id`,
      () => HttpResponse.json({ success: true, customer: customerJson("cus_1") }),
    ),
  ]);
  const cases: [CustomerUpdateParams, string, string][] = [
    [
      { mobile_number: "call me maybe" },
      "mobile_number",
      "must be a phone number of 6 to 15 digits",
    ],
    [{ client_name: "x".repeat(201) }, "client_name", "must be at most 200 characters, got 201"],
    [
      { sale_date: " 2025-02-30 " },
      "sale_date",
      'must be a real date written YYYY-MM-DD, or "" to clear it',
    ],
    [{}, "", "nothing to update: give any of client_name, mobile_number, sale_date, expiry_date"],
    [{ client_name: undefined }, "", "nothing to update"],
  ];
  for (const [params, field, reason] of cases) {
    const err = await assertRejects(
      () => client.customers.update("cus_1", params),
      ValidationError,
    );
    assertEquals(err.issues.length, 1, err.message);
    assertEquals(err.issues[0].field, field);
    assert(err.issues[0].reason.startsWith(reason), err.issues[0].reason);
  }
  assertEquals(seen.length, 0);
  // Trimmed as the API stores it; blank clears a field.
  await client.customers.update("cus_1", { mobile_number: " 0412 345 678 ", client_name: "  " });
  assertEquals(seen.length, 1);
});

Deno.test("customers.update refuses a past expiry_date (the API deletes the customer) unless allowPastExpiry", async () => {
  const { client, seen } = mswClient([
    http.patch(
      `${API}/customers/:id`,
      () => HttpResponse.json({ success: true, customer: customerJson("cus_1") }),
    ),
  ]);
  const err = await assertRejects(
    () => client.customers.update("cus_1", { expiry_date: "2020-01-01" }),
    ValidationError,
  );
  assertEquals(err.issues.map((i) => i.field), ["expiry_date"]);
  assert(err.message.includes("allowPastExpiry"), err.message);
  // The message names the field, not an upload: this is a customer update.
  assertEquals(err.message.includes("upload"), false, err.message);
  assertEquals(seen.length, 0);
  await client.customers.update("cus_1", { expiry_date: "2020-01-01" }, { allowPastExpiry: true });
  await client.customers.update("cus_1", { expiry_date: "" }); // clearing it is fine
  assertEquals(seen.length, 2);
});

Deno.test("uploads.wait polls until processed == uploaded, reporting progress", async () => {
  let polls = 0;
  const { client, seen } = mswClient([
    http.get(`${API}/upload/:id`, () => {
      polls++;
      const processed = Math.min(4, polls * 2 - 2);
      return HttpResponse.json({
        success: true,
        upload: uploadJson("upl_1", {
          status: processed === 4 ? "completed" : "processing",
          total_uploaded_customers: 4,
          total_processed_customers: processed,
        }),
      });
    }),
  ]);
  const progress: number[] = [];
  const done = await client.uploads.wait("upl_1", {
    intervalMs: 1,
    onProgress: (u) => progress.push(u.total_processed_customers),
  });
  assertEquals(progress, [0, 2, 4]);
  assertEquals(done.status, "completed");
  assertEquals(seen.length, 3);
});

Deno.test("uploads.wait stops at the deadline and on abort", async () => {
  const { client, seen } = mswClient([
    http.get(
      `${API}/upload/:id`,
      () =>
        HttpResponse.json({ success: true, upload: uploadJson("upl_1", { status: "processing" }) }),
    ),
  ]);
  const err = await assertRejects(
    () => client.uploads.wait("upl_1", { intervalMs: 50, deadlineMs: 20 }),
    Error,
    "not finished within 20 ms (0/2 processed)",
  );
  assertEquals((err as { code?: string }).code, "timeout");
  assertEquals(seen.length, 2); // a first poll, and a last one at the deadline
  const controller = new AbortController();
  const p = client.uploads.wait("upl_1", {
    intervalMs: 10_000,
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
  const aborted = await assertRejects(() => p, Error, "aborted");
  assertEquals((aborted as { code?: string }).code, "aborted");
});

Deno.test("uploads.wait: the deadline bounds the polls too, their retries and waits included", async () => {
  // A poll that never answers, and polls rate limited with a long Retry-After: without the
  // bound, the first waits for the 20 s request timeout, the second 2 × 30 s between retries.
  const cases = [
    mswClient([http.get(`${API}/upload/:id`, () => new Promise<never>(() => {}))], {
      timeoutMs: 20_000,
      maxRetries: 0,
    }),
    mswClient([
      http.get(`${API}/upload/:id`, () =>
        HttpResponse.json({ message: "Too many requests" }, {
          status: 429,
          headers: { "Retry-After": "30" },
        })),
    ], { maxRetries: 2, retry: { maxRetryAfterMs: 60_000 } }),
  ];
  for (const { client, seen } of cases) {
    const err = await assertRejects(
      () => client.uploads.wait("upl_1", { intervalMs: 50, deadlineMs: 200 }),
      TimeoutError,
      "not finished within 200 ms (no answer yet)",
    );
    assertEquals(err.code, "timeout");
    assertEquals(seen.length, 1, "one attempt, cut short at the deadline (+2 s)");
  }
});

Deno.test("a response of the wrong shape names the field", async () => {
  const { client } = mswClient([
    http.get(`${API}/customers/:id`, () =>
      HttpResponse.json({
        success: true,
        customer: customerJson("c1", {
          sightings: [{ at: "2025-01-01", listing_price: "12,000" }],
        }),
      })),
    http.get(
      `${API}/upload/:id`,
      () => HttpResponse.json({ success: true, upload: { id: "u1", total_uploaded_customers: 1 } }),
    ),
  ]);
  const err = await assertRejects(
    () => client.customers.retrieve("c1"),
    UnexpectedResponseError,
    "customer.sightings.0.listing_price",
  );
  assertEquals(err.field, "customer.sightings.0.listing_price");
  assertEquals(err.code, "unexpected_response");
  const err2 = await assertRejects(
    () => client.uploads.retrieve("u1"),
    UnexpectedResponseError,
    "upload.total_processed_customers",
  );
  assertEquals(err2.status, 200);
});

Deno.test("OAuth: one shared token request, bearer auth, form body with Basic credentials", async () => {
  let tokens = 0;
  const { client, seen } = mswClient([
    http.post(`${BASE}/auth-broker/request-token`, () => {
      tokens++;
      return HttpResponse.json({
        access_token: `tok_${tokens}_secretvalue`,
        expires_in: 3599,
        scope: "recapture",
        token_type: "bearer",
      });
    }),
    http.get(
      `${API}/customers/:id`,
      ({ params }) =>
        HttpResponse.json({ success: true, customer: customerJson(String(params.id)) }),
    ),
  ], { apiKey: undefined, clientId: "client_a", clientSecret: "s3cr3t_value" });
  const results = await Promise.all(
    ["a", "b", "c", "d"].map((id) => client.customers.retrieve(id)),
  );
  assertEquals(results.map((c) => c.id), ["a", "b", "c", "d"]);
  await client.customers.retrieve("e");
  assertEquals(tokens, 1);
  const tokenReq = seen.filter((s) => s.url.pathname === "/auth-broker/request-token");
  assertEquals(tokenReq.length, 1);
  assertEquals(tokenReq[0].method, "POST");
  assertEquals(tokenReq[0].body, "grant_type=client_credentials");
  assertEquals(tokenReq[0].headers.get("content-type"), "application/x-www-form-urlencoded");
  assertEquals(tokenReq[0].headers.get("authorization"), `Basic ${btoa("client_a:s3cr3t_value")}`);
  assertEquals(query(tokenReq[0]), {});
  const apiReqs = seen.filter((s) => s.url.pathname.startsWith("/v2/"));
  assertEquals(apiReqs.length, 5);
  for (const s of apiReqs) {
    assertEquals(s.headers.get("authorization"), "Bearer tok_1_secretvalue");
    assertEquals(s.headers.get("apikey"), null);
  }
});

Deno.test("OAuth: a refused token is replaced once; an expired token is refreshed", async () => {
  let tokens = 0;
  let refuse = true;
  const { client, seen } = mswClient([
    http.post(`https://auth.test.local/token`, () => {
      tokens++;
      return HttpResponse.json({
        access_token: `tok_${tokens}`,
        expires_in: tokens === 2 ? 0 : 3599,
      });
    }),
    http.get(`${API}/customers/:id`, ({ request }) => {
      if (refuse && request.headers.get("authorization") === "Bearer tok_1") {
        return HttpResponse.json({ error: true, message: "Invalid token" }, { status: 401 });
      }
      return HttpResponse.json({ success: true, customer: customerJson("c1") });
    }),
  ], {
    apiKey: undefined,
    clientId: "id",
    clientSecret: "secret_xyz",
    tokenUrl: "https://auth.test.local/token",
  });
  await client.customers.retrieve("c1");
  assertEquals(tokens, 2);
  // tok_2 has expires_in 0: the next call fetches tok_3.
  refuse = false;
  await client.customers.retrieve("c1");
  assertEquals(tokens, 3);
  assertEquals(
    seen.filter((s) => s.url.pathname.startsWith("/v2/")).map((s) =>
      s.headers.get("authorization")
    ),
    ["Bearer tok_1", "Bearer tok_2", "Bearer tok_3"],
  );
  // A 401 with a fresh token is not retried again.
  const always401 = mswClient([
    http.post(
      `${BASE}/auth-broker/request-token`,
      () => HttpResponse.json({ access_token: "t", expires_in: 3599 }),
    ),
    http.get(
      `${API}/customers/:id`,
      () => HttpResponse.json({ error: true, message: "Invalid token" }, { status: 401 }),
    ),
  ], { apiKey: undefined, clientId: "id", clientSecret: "secret_xyz" });
  await assertRejects(() => always401.client.customers.retrieve("c1"), Error, "Invalid token");
  assertEquals(always401.seen.length, 4); // token, 401, token, 401
});

Deno.test("OAuth: a refused client secret is an AuthenticationError without the secret", async () => {
  const { client } = mswClient([
    http.post(
      `${BASE}/auth-broker/request-token`,
      () =>
        HttpResponse.json({ error: true, message: "bad client secret_xyz_123" }, { status: 401 }),
    ),
  ], { apiKey: undefined, clientId: "id", clientSecret: "secret_xyz_123" });
  const err = await assertRejects(() => client.customers.retrieve("c1"), Error);
  assertEquals((err as { code?: string }).code, "authentication_failed");
  assertEquals(err.message, "bad client [redacted]");
});

Deno.test("constructor refuses bad options with a clear message", () => {
  assertThrows(
    () => new RecaptureClient({ apiKey: "k", region: "us" as "au" }),
    TypeError,
    "region",
  );
  assertThrows(
    () => new RecaptureClient({ apiKey: "k", clientId: "i", clientSecret: "s" }),
    TypeError,
    "one way to authenticate",
  );
  // Exactly one explicit way to authenticate: none given (an unset variable), an empty one,
  // or two, are refused at construction, before any request goes out without a key.
  assertThrows(() => new RecaptureClient(), TypeError, "no credentials");
  assertThrows(() => new RecaptureClient({ apiKey: undefined }), TypeError, "no credentials");
  assertThrows(() => new RecaptureClient({ apiKey: "" }), TypeError, "non-empty");
  assertThrows(() => new RecaptureClient({ apiKey: " \n" }), TypeError, "non-empty");
  // A key file of two lines (or a stray NUL): refused now, and the key is not in the message.
  for (const apiKey of ["sec_first\nsec_second", "sec_a\r\nb", "sec_\0x"]) {
    const e = assertThrows(() => new RecaptureClient({ apiKey }), TypeError, "line break");
    assert(!e.message.includes("sec_"), e.message);
  }
  // Whitespace around it is fine: a header value is sent trimmed.
  new RecaptureClient({ apiKey: " sec_key_from_file\n" });
  assertThrows(() => new RecaptureClient({ clientId: "", clientSecret: "" }), TypeError, "both");
  assertThrows(
    () => new RecaptureClient({ apiKey: "k", auth: "none" }),
    TypeError,
    "one way to authenticate",
  );
  assertThrows(
    () => new RecaptureClient({ auth: "key" as "none" }),
    TypeError,
    'auth must be "none"',
  );
  assertThrows(() => new RecaptureClient({ clientId: "i" }), TypeError, "clientSecret");
  assertThrows(() => new RecaptureClient({ apiKey: "k", baseUrl: "nope" }), TypeError, "baseUrl");
  assertThrows(() => new RecaptureClient({ apiKey: "k", timeoutMs: 0 }), RangeError, "timeoutMs");
  // Timers overflow past 2^31 - 1 ms and would fire at once: such delays are refused.
  assertThrows(
    () => new RecaptureClient({ apiKey: "k", timeoutMs: 2 ** 31 - 1 }),
    RangeError,
    "timeoutMs must be at most 2000000000 ms",
  );
  const c = new RecaptureClient({ auth: "none", baseUrl: "https://example.test///" });
  assertEquals(c.baseUrl, "https://example.test");
  assert(c.region === "au");
});

Deno.test("baseUrl and tokenUrl must be https, plain http only to a loopback host", async () => {
  // The key (or the client secret, or the token) would go out in clear text.
  for (
    const url of [
      "http://api.autograb.com.au",
      "http://169.254.169.254",
      "http://10.0.0.1:8080",
      "http://localhost.example.com",
      "http://128.0.0.1",
      "http://[::ffff:7f00:1]",
      "ftp://api.autograb.com.au",
      "http://user:pw_secret@api.autograb.com.au",
    ]
  ) {
    const e = assertThrows(() => new RecaptureClient({ apiKey: "k", baseUrl: url }), TypeError);
    assertStringIncludes(e.message, "baseUrl must be https (http only to localhost");
    assertStringIncludes(e.message, "clear text");
    assert(!e.message.includes("pw_secret"), e.message);
    assertThrows(
      () => new RecaptureClient({ clientId: "i", clientSecret: "s", baseUrl: url }),
      TypeError,
      "baseUrl must be https",
    );
    assertThrows(
      () => new RecaptureClient({ clientId: "i", clientSecret: "s", tokenUrl: url }),
      TypeError,
      "tokenUrl must be https",
    );
  }
  assertThrows(
    () => new RecaptureClient({ clientId: "i", clientSecret: "s", tokenUrl: "nope" }),
    TypeError,
    "tokenUrl must be an absolute URL",
  );
  // Loopback (the local sandbox, every test) in any notation the URL parser knows, and https.
  for (
    const url of [
      "http://127.0.0.1:8787",
      "http://127.1.2.3",
      "http://0x7f000001",
      "http://localhost:8080/",
      "http://LOCALHOST",
      "http://[::1]:9000",
      "http://[0:0:0:0:0:0:0:1]",
      "https://api.autograb.co.uk",
    ]
  ) {
    new RecaptureClient({ apiKey: "k", baseUrl: url });
    new RecaptureClient({ clientId: "i", clientSecret: "s", baseUrl: url, tokenUrl: url });
  }
  // And a loopback client really talks: the sandbox on 127.0.0.1.
  const sandbox = await createSandbox();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, sandbox.fetch);
  try {
    const client = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
    });
    assertEquals((await client.customers.list()).total, 0);
  } finally {
    await server.shutdown();
    await sandbox.close();
  }
});

Deno.test("requestRaw with OAuth and a refused client secret throws the token request's AuthenticationError", async () => {
  const sandbox = await createSandbox();
  try {
    const client = new RecaptureClient({
      clientId: SANDBOX_CLIENT_ID,
      clientSecret: "wrong_secret_123",
      fetch: sandbox.fetch,
    });
    const e = await assertRejects(
      () => client.requestRaw("GET", "/v2/recapture/customers"),
      AuthenticationError,
    );
    assert(!e.message.includes("wrong_secret_123"), e.message);
  } finally {
    await sandbox.close();
  }
});

Deno.test("requestRaw adds auth and region, keeps the given query, returns any status", async () => {
  const { client, seen } = mswClient([
    http.all(
      `${API}/*`,
      () => HttpResponse.json({ error: true, message: "Invalid Customer ID" }, { status: 404 }),
    ),
  ]);
  const res = await client.requestRaw("get", "/v2/recapture/customers/abc%20d", {
    query: { region: "nz", limit: "5" },
    headers: { "x-forwarded-for": "10.0.0.1", apikey: "caller-supplied" },
  });
  assertEquals(res.status, 404);
  assertEquals(await res.json(), { error: true, message: "Invalid Customer ID" });
  assertEquals(seen[0].url.pathname, "/v2/recapture/customers/abc%20d");
  assertEquals(query(seen[0]), { region: "nz", limit: "5" });
  assertEquals(seen[0].headers.get("apikey"), KEY);
  assertEquals(seen[0].headers.get("x-forwarded-for"), "10.0.0.1");
  const post = await client.requestRaw("POST", "/v2/recapture/upload", {
    body: '{"name":"x"}',
    headers: { "content-type": "application/json" },
    region: "uk",
  });
  assertEquals(post.status, 404);
  await post.body?.cancel();
  assertEquals(seen[1].body, '{"name":"x"}');
  assertEquals(query(seen[1]), { region: "uk" });
  await assertRejects(() => client.requestRaw("GET", "v2/x"), TypeError, 'start with "/"');
});

Deno.test("OAuth: an aborted caller stops waiting, the shared refresh goes on for the others", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => release = r);
  let tokens = 0;
  const { client } = mswClient([
    http.post(`${BASE}/auth-broker/request-token`, async () => {
      tokens++;
      await gate;
      return HttpResponse.json({ access_token: "tok_shared", expires_in: 3599 });
    }),
    http.get(
      `${API}/customers/:id`,
      ({ params }) =>
        HttpResponse.json({ success: true, customer: customerJson(String(params.id)) }),
    ),
  ], { apiKey: undefined, clientId: "id", clientSecret: "secret_xyz" });
  const controller = new AbortController();
  const first = client.customers.retrieve("a", { signal: controller.signal });
  const second = client.customers.retrieve("b");
  controller.abort();
  const err = await assertRejects(() => first, Error, "aborted");
  assertEquals((err as { code?: string }).code, "aborted");
  release();
  assertEquals((await second).id, "b");
  assertEquals(tokens, 1);
});

Deno.test("lastResponse is read lazily from the response and leaves the object plain", async () => {
  const { client } = mswClient([
    http.get(`${API}/customers/:id`, () =>
      HttpResponse.json(
        { success: true, customer: customerJson("c1") },
        { headers: RATE },
      )),
  ]);
  const c = await client.customers.retrieve("c1");
  // The object is the API's JSON, nothing more: keys, spread, JSON, symbols, prototype.
  assertEquals({ ...c }, customerJson("c1"));
  assertEquals(Object.keys(c), Object.keys(customerJson("c1")));
  assertEquals(Reflect.ownKeys(c), [...Object.keys(customerJson("c1")), "lastResponse"]);
  assertEquals(Object.getOwnPropertySymbols(c), []);
  assertEquals(Object.getPrototypeOf(c), Object.prototype);
  assertEquals(JSON.parse(JSON.stringify(c)), customerJson("c1"));
  const desc = Object.getOwnPropertyDescriptor(c, "lastResponse");
  assertEquals(desc?.enumerable, false);
  assertEquals(desc?.set, undefined);
  // The meta itself is a plain object, the same one on every read.
  const meta = c.lastResponse;
  assertEquals(meta, {
    status: 200,
    requestId: "req_abc",
    rateLimit: { remaining: 99, total: 100, reset: 1767225600 },
    quota: { base: 10000, max: 12000, total: 41 },
  });
  assertEquals(Object.getPrototypeOf(meta), Object.prototype);
  assert(c.lastResponse === meta);
  // Two answers, two metas.
  const other = await client.customers.retrieve("c1");
  assert(other.lastResponse !== meta);
  // Read through a Proxy (as Vue's reactive(), Immer and MobX wrap results), the same meta.
  assert(new Proxy(c, {}).lastResponse === meta);
  assert(new Proxy(c, { get: (t, k, r) => Reflect.get(t, k, r) }).lastResponse === meta);
});

Deno.test("an answer of the wrong shape carries the request id of its response", async () => {
  const { client } = mswClient([
    http.get(
      `${API}/customers/:id`,
      () => HttpResponse.json({ success: true, customer: { id: 7 } }, { headers: RATE }),
    ),
    http.get(
      `${API}/upload/:id`,
      () => new HttpResponse("<html>oops</html>", { status: 200, headers: RATE }),
    ),
  ]);
  const err = await assertRejects(
    () => client.customers.retrieve("c1"),
    UnexpectedResponseError,
    "customer.id: expected string, got 7",
  );
  assertEquals(err.requestId, "req_abc");
  assertEquals(err.field, "customer.id");
  const html = await assertRejects(
    () => client.uploads.retrieve("u1"),
    UnexpectedResponseError,
    "an HTML page instead of JSON (HTTP 200)",
  );
  assertEquals(html.requestId, "req_abc");
  assertEquals(html.field, null);
});

Deno.test("encodePathSegment encodes every character like encodeURIComponent", () => {
  for (let c = 0; c < 0x10000; c++) {
    const id = `a${String.fromCharCode(c)}b`;
    if (!id.isWellFormed()) continue;
    assertEquals(encodePathSegment(id), encodeURIComponent(id), `U+${c.toString(16)}`);
  }
  assertEquals(encodePathSegment("cus_1"), "cus_1");
  assertEquals(encodePathSegment("a/b c"), "a%2Fb%20c");
  assertEquals(encodePathSegment("😀"), "%F0%9F%98%80");
  assertThrows(() => encodePathSegment(".."), TypeError);
  assertThrows(() => encodePathSegment("\ud800"), TypeError);
});
