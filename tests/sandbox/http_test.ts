/**
 * The sandbox over raw requests: auth (both key headers, OAuth tokens), regions and licences,
 * rate limits and quotas with their headers, routing, and bad input (4xx naming the problem,
 * never a 500, nothing stored).
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import fc from "fast-check";
import { call, customers, kvKeys, testSandbox } from "./_helpers.ts";
import type { Sandbox } from "../../src/sandbox/mod.ts";

const UPLOAD = "/v2/recapture/upload?region=au";

async function withSandbox(
  fn: (sb: Sandbox) => Promise<void>,
  options: Parameters<typeof testSandbox>[0] = {},
): Promise<void> {
  const sb = await testSandbox(options);
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

async function assertNothingStored(sb: Sandbox): Promise<void> {
  for (const part of ["upload", "chunk", "pending", "cust"]) {
    assertEquals(await kvKeys(sb, part), [], `nothing stored under "${part}"`);
  }
}

Deno.test("auth: a missing or unknown key is 401 Invalid API key", () =>
  withSandbox(async (sb) => {
    for (const key of [null, "sec_nope", ""]) {
      const r = await call(sb, "GET", "/v2/recapture/customers?region=au", { key });
      assertEquals(r.status, 401);
      assertEquals(r.body, { error: true, message: "Invalid API key" });
    }
  }));

Deno.test("auth: the key is accepted as `ApiKey: k` and as `Authorization: ApiKey k`", () =>
  withSandbox(async (sb) => {
    const a = await call(sb, "GET", "/v2/recapture/customers?region=au", { key: "sec_key_b2" });
    assertEquals(a.status, 200);
    const b = await call(sb, "GET", "/v2/recapture/customers?region=au", {
      key: null,
      headers: { Authorization: "ApiKey sec_key_b" },
    });
    assertEquals(b.status, 200);
    assertEquals(b.body.total, 0);
  }));

Deno.test("auth: a key without a licence for the region is 403; a bad region is 400", () =>
  withSandbox(async (sb) => {
    const r = await call(sb, "GET", "/v2/recapture/customers?region=uk", { key: "sec_key_b" });
    assertEquals(r.status, 403);
    assertEquals(r.body.message, "Your API key does not have access to Recapture in this region");
    const bad = await call(sb, "GET", "/v2/recapture/customers?region=us");
    assertEquals(bad.status, 400);
    // The documented message exactly; the sandbox's explanation goes in `detail`.
    assertEquals(bad.body.message, "Invalid region");
    assertEquals(bad.body.detail, '"us" is not one of au, nz, uk, my');
    const missing = await call(sb, "GET", "/v2/recapture/customers");
    assertEquals(missing.status, 400);
    assertEquals(missing.body.message, "Invalid region");
    assertStringIncludes(missing.body.detail!, "region query parameter is required");
  }));

Deno.test("oauth: client credentials give an expiring bearer token (both token paths)", async () => {
  let now = new Date("2026-03-01T00:00:00Z");
  await withSandbox(async (sb) => {
    for (const path of ["/auth-broker/request-token", "/request-token"]) {
      const r = await call(sb, "POST", path, {
        key: null,
        raw: "grant_type=client_credentials",
        headers: {
          Authorization: `Basic ${btoa("client_a:secret_a")}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
      });
      assertEquals(r.status, 200);
      assertEquals(r.body.token_type, "bearer");
      assertEquals(r.body.expires_in, 3599);
      assertEquals(r.headers.get("cache-control"), "no-store");
      const token = r.body.access_token!;
      const ok = await call(sb, "GET", "/v2/recapture/customers?region=nz", {
        key: null,
        headers: { Authorization: `Bearer ${token}` },
      });
      assertEquals(ok.status, 200);
      const wrongRegion = await call(sb, "GET", "/v2/recapture/customers?region=uk", {
        key: null,
        headers: { Authorization: `Bearer ${token}` },
      });
      assertEquals(wrongRegion.status, 403);
      now = new Date(now.getTime() + 3600_000);
      const expired = await call(sb, "GET", "/v2/recapture/customers?region=au", {
        key: null,
        headers: { Authorization: `Bearer ${token}` },
      });
      assertEquals(expired.status, 401);
      assertEquals(expired.body.message, "Invalid or expired access token");
    }
  }, { now: () => now });
});

Deno.test("oauth: wrong secret, unknown client, wrong grant and content type are refused", () =>
  withSandbox(async (sb) => {
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const cases: [Record<string, string>, string, number, string][] = [
      [
        { Authorization: `Basic ${btoa("client_a:nope")}`, ...form },
        "grant_type=client_credentials",
        401,
        "Invalid client credentials",
      ],
      [
        { Authorization: `Basic ${btoa("ghost:secret_a")}`, ...form },
        "grant_type=client_credentials",
        401,
        "Invalid client credentials",
      ],
      [form, "grant_type=client_credentials", 401, "Client credentials are required"],
      [
        { Authorization: `Basic ${btoa("client_a:secret_a")}`, ...form },
        "grant_type=password",
        400,
        'Unsupported grant_type "password"',
      ],
      [
        { Authorization: `Basic ${btoa("client_a:secret_a")}`, "Content-Type": "application/json" },
        "{}",
        415,
        "application/x-www-form-urlencoded",
      ],
    ];
    for (const [headers, raw, status, message] of cases) {
      const r = await call(sb, "POST", "/auth-broker/request-token", { key: null, raw, headers });
      assertEquals(r.status, status, message);
      assertStringIncludes(r.body.message!, message);
      assert(!JSON.stringify(r.body).includes("secret_a"), "the secret is never echoed");
    }
    const bogus = await call(sb, "GET", "/v2/recapture/customers?region=au", {
      key: null,
      headers: { Authorization: "Bearer sbx_at_made_up" },
    });
    assertEquals(bogus.status, 401);
  }));

Deno.test("rate limits: real headers on every answer, 429 past the limit, per key", async () => {
  const now = new Date("2026-03-01T00:00:10.500Z");
  await withSandbox(async (sb) => {
    const first = await call(sb, "GET", "/v2/recapture/customers?region=au");
    assertEquals(first.headers.get("rate-limit-total"), "3");
    assertEquals(first.headers.get("rate-limit-remaining"), "2");
    assertEquals(
      first.headers.get("rate-limit-reset"),
      String(Date.UTC(2026, 2, 1, 0, 1, 0) / 1000),
    );
    assertEquals(first.headers.get("monthly-request-total"), "1");
    assertEquals(first.headers.get("monthly-base-request-quota"), "100000");
    await call(sb, "GET", "/v2/recapture/customers?region=au");
    const third = await call(sb, "GET", "/v2/recapture/customers/cus_nope?region=au");
    assertEquals(third.status, 404);
    assertEquals(third.headers.get("rate-limit-remaining"), "0");
    const limited = await call(sb, "GET", "/v2/recapture/customers?region=au");
    assertEquals(limited.status, 429);
    assertStringIncludes(limited.body.message!, "Rate limit exceeded");
    assertEquals(limited.headers.get("retry-after"), "50");
    const other = await call(sb, "GET", "/v2/recapture/customers?region=au", { key: "sec_key_b" });
    assertEquals(other.status, 200, "another key has its own window");
  }, { rateLimit: { limit: 3, windowMs: 60_000 }, now: () => now });
});

Deno.test("quota: past the monthly maximum every request is 429 with the Monthly-* headers", () =>
  withSandbox(async (sb) => {
    assertEquals((await call(sb, "GET", "/v2/recapture/customers?region=au")).status, 200);
    const second = await call(sb, "GET", "/v2/recapture/customers?region=au");
    assertEquals(second.status, 200);
    assertEquals(second.headers.get("monthly-request-total"), "2");
    const third = await call(sb, "GET", "/v2/recapture/customers?region=au");
    assertEquals(third.status, 429);
    assertStringIncludes(third.body.message!, "Monthly request quota exceeded");
    assertEquals(third.headers.get("monthly-max-request-quota"), "2");
    assertEquals(third.headers.get("monthly-base-request-quota"), "1");
  }, { quota: { base: 1, max: 2 } }));

Deno.test("routing: unknown paths are 404 and wrong methods 405 with Allow, in the envelope", () =>
  withSandbox(async (sb) => {
    const missing = await call(sb, "GET", "/v2/recapture/nothing?region=au");
    assertEquals(missing.status, 404);
    assertEquals(missing.body.error, true);
    const method = await call(sb, "PUT", "/v2/recapture/customers/cus_x?region=au", { body: {} });
    assertEquals(method.status, 405);
    assertEquals(method.headers.get("allow"), "GET, PATCH, DELETE");
    assert(missing.headers.get("x-request-id")?.startsWith("req_"));
  }));

Deno.test("bad input: body problems are 4xx naming the problem, and nothing is stored", () =>
  withSandbox(async (sb) => {
    const json = { "Content-Type": "application/json" };
    const raw: [BodyInit, Record<string, string>, number, string][] = [
      ['{"name": "x", "customers": [', json, 400, "Malformed JSON body"],
      ["", json, 400, "Request body is empty"],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), json, 400, "not valid UTF-8"],
      [
        '{"name":"x","customers":[{"rego":"A1"}]}',
        { "Content-Type": "text/plain" },
        415,
        'Content-Type must be application/json (got "text/plain")',
      ],
      [
        '{"name":"x","customers":[{"rego":"A1"}]}',
        {},
        415,
        "Content-Type must be application/json",
      ],
      [
        JSON.stringify({ name: "x", customers: customers(200) }),
        json,
        413,
        "larger than the limit of 4096 bytes",
      ],
    ];
    for (const [body, headers, status, message] of raw) {
      const r = await call(sb, "POST", UPLOAD, { raw: body, headers });
      assertEquals(r.status, status, message);
      assertEquals(r.body.error, true);
      assertStringIncludes(r.body.message!, message);
    }
    await assertNothingStored(sb);
  }, { maxBodyBytes: 4096 }));

Deno.test("bad input: a streamed body without Content-Length is cut at the limit (413)", () =>
  withSandbox(async (sb) => {
    const big = new TextEncoder().encode(JSON.stringify({ name: "x", customers: customers(300) }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 1000) controller.enqueue(big.subarray(i, i + 1000));
        controller.close();
      },
    });
    const r = await call(sb, "POST", UPLOAD, {
      raw: stream,
      headers: { "Content-Type": "application/json" },
    });
    assertEquals(r.status, 413);
    await assertNothingStored(sb);
  }, { maxBodyBytes: 4096 }));

Deno.test("bad input: a wrong type in every field is a 400 naming the field", () =>
  withSandbox(async (sb) => {
    const ok = { rego: "ABC123", state: "NSW" };
    const cases: [unknown, string][] = [
      [[], "Request body must be a JSON object (got array)"],
      ["text", "Request body must be a JSON object (got string)"],
      [{ customers: [ok] }, "name is required"],
      [{ name: 5, customers: [ok] }, "name must be a string (got number)"],
      [
        { name: "x", enable_rego_lookups: "yes", customers: [ok] },
        "enable_rego_lookups must be a boolean (got string)",
      ],
      [
        { name: "x", monitor_start_date: 20240101, customers: [ok] },
        "monitor_start_date must be a string (got number)",
      ],
      [
        { name: "x", monitor_end_date: "01/02/2024", customers: [ok] },
        "monitor_end_date must be a date in YYYY-MM-DD format",
      ],
      [{ name: "x" }, "customers is required"],
      [{ name: "x", customers: { rego: "A" } }, "customers must be an array (got object)"],
      [{ name: "x", customers: [ok, null] }, "customers[1] must be an object (got null)"],
      [{ name: "x", customers: [ok, [1]] }, "customers[1] must be an object (got array)"],
      [{ name: "x", customers: [ok], extra: 1 }, 'Unknown field "extra"'],
      [
        { name: "x", customers: [{ ...ok, email: "a@b.c" }] },
        'customers[0] has an unknown field "email"',
      ],
      [
        { name: "x", customers: [{ ...ok, additional_fields: [1] }] },
        "customers[0].additional_fields must be an object or null (got array)",
      ],
      [
        { name: "x", customers: [{ ...ok, additional_fields: { note: "x".repeat(9000) } }] },
        `customers[0].additional_fields is ${
          JSON.stringify({ note: "x".repeat(9000) }).length
        } bytes; the limit is 8192`,
      ],
      [
        { name: "x", customers: [{ ...ok, client_name: "x".repeat(1001) }] },
        "customers[0].client_name is 1001 characters; the limit is 1000",
      ],
    ];
    for (
      const field of [
        "rego",
        "state",
        "vin",
        "external_id",
        "client_name",
        "mobile_number",
        "sale_date",
        "expiry_date",
        "monitor_start_date",
        "monitor_end_date",
      ]
    ) {
      cases.push([
        { name: "x", customers: [ok, ok, { ...ok, [field]: 42 }] },
        `customers[2].${field} must be a string or null (got number)`,
      ]);
      cases.push([
        { name: "x", customers: [{ ...ok, [field]: { v: 1 } }] },
        `customers[0].${field} must be a string or null (got object)`,
      ]);
    }
    for (const [body, message] of cases) {
      const r = await call(sb, "POST", UPLOAD, { body });
      assertEquals(r.status, 400, message);
      assertStringIncludes(r.body.message!, message);
    }
    const empty = await call(sb, "POST", UPLOAD, { body: { name: "x", customers: [] } });
    assertEquals(empty.status, 400);
    assertEquals(empty.body, {
      error: true,
      message: "You must upload at least one customer record",
    });
    await assertNothingStored(sb);
  }));

Deno.test("bad input: unknown, repeated and malformed query parameters are 400 naming them", () =>
  withSandbox(async (sb) => {
    const cases: [string, string, string][] = [
      [
        "GET",
        "/v2/recapture/customers?region=au&page=2",
        'Unknown query parameter "page"; allowed: region, offset, limit, upload_id',
      ],
      [
        "GET",
        "/v2/recapture/customers?region=au&limit=0",
        'Query parameter "limit" must be between 1 and 1000 (got 0)',
      ],
      [
        "GET",
        "/v2/recapture/customers?region=au&limit=5000",
        'Query parameter "limit" must be between 1 and 1000',
      ],
      [
        "GET",
        "/v2/recapture/customers?region=au&offset=-1",
        'Query parameter "offset" must be a whole number (got "-1")',
      ],
      [
        "GET",
        "/v2/recapture/customers?region=au&offset=abc",
        'Query parameter "offset" must be a whole number',
      ],
      [
        "GET",
        "/v2/recapture/customers?region=au&upload_id=",
        'Query parameter "upload_id" is empty',
      ],
      [
        "GET",
        "/v2/recapture/customers?region=au&region=nz",
        'Query parameter "region" is given more than once',
      ],
      [
        "GET",
        "/v2/recapture/customers/cus_x?region=au&verbose=1",
        'Unknown query parameter "verbose"; allowed: region',
      ],
      ["POST", "/v2/recapture/upload?region=au&dry_run=1", 'Unknown query parameter "dry_run"'],
    ];
    for (const [method, path, message] of cases) {
      const r = await call(
        sb,
        method,
        path,
        method === "POST" ? { body: { name: "x", customers: customers(1) } } : {},
      );
      assertEquals(r.status, 400, path);
      assertStringIncludes(r.body.message!, message);
    }
    await assertNothingStored(sb);
  }));

Deno.test("bad input: PATCH rejects read-only and unknown fields, wrong types and bad values", () =>
  withSandbox(async (sb) => {
    const up = await call(sb, "POST", UPLOAD, { body: { name: "x", customers: customers(1) } });
    await sb.idle();
    const list = await call(
      sb,
      "GET",
      `/v2/recapture/customers?region=au&upload_id=${up.body.upload!.id}`,
    );
    const id = list.body.customers![0].id;
    const before = list.body.customers![0];
    const cases: [unknown, string][] = [
      [
        { rego: "NEW1" },
        'Field "rego" cannot be updated; only client_name, mobile_number, sale_date, expiry_date can',
      ],
      [{ id: "cus_other" }, 'Field "id" cannot be updated'],
      [{ favourite_colour: "red" }, 'Field "favourite_colour" cannot be updated'],
      [{ client_name: 7 }, 'client_name must be a string ("" clears it) (got number)'],
      [{ sale_date: "2024-02-30" }, 'sale_date is not a real date (got "2024-02-30")'],
      [{ expiry_date: "tomorrow" }, "expiry_date must be a date in YYYY-MM-DD format"],
      [{ mobile_number: "call me" }, "mobile_number must be a phone number"],
      [{}, "Nothing to update"],
      [[], "Request body must be a JSON object (got array)"],
    ];
    for (const [body, message] of cases) {
      const r = await call(sb, "PATCH", `/v2/recapture/customers/${id}?region=au`, { body });
      assertEquals(r.status, 400, message);
      assertStringIncludes(r.body.message!, message);
    }
    const after = await call(sb, "GET", `/v2/recapture/customers/${id}?region=au`);
    assertEquals(after.body.customer, before, "nothing changed");
  }));

Deno.test("bad input, property: any JSON body or query string gets a 4xx or a 201, never a 5xx", async () => {
  const sb = await testSandbox({ maxBodyBytes: 64 * 1024 });
  try {
    const row = fc.record({
      rego: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      vin: fc.oneof(fc.string(), fc.boolean()),
      state: fc.string(),
      sale_date: fc.oneof(fc.string(), fc.date().map((d) => d.toString())),
      additional_fields: fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())),
    }, { requiredKeys: [] });
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({
        name: fc.oneof(fc.string(), fc.jsonValue()),
        customers: fc.array(row, { maxLength: 5 }),
      }),
      fc.record({ name: fc.string(), customers: fc.array(fc.jsonValue(), { maxLength: 5 }) }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const r = await call(sb, "POST", UPLOAD, {
          raw: JSON.stringify(value),
          headers: { "Content-Type": "application/json" },
        });
        if (r.status !== 201) {
          assert(
            r.status >= 400 && r.status < 500,
            `status ${r.status} for ${JSON.stringify(value)}`,
          );
          assertEquals(r.body.error, true);
          assert(typeof r.body.message === "string" && r.body.message.length > 0);
        }
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.jsonValue(), async (query, patch) => {
        const list = await call(sb, "GET", `/v2/recapture/customers?region=au&${encodeURI(query)}`);
        assert(list.status < 500, `status ${list.status} for query ${query}`);
        const p = await call(
          sb,
          "PATCH",
          `/v2/recapture/customers/${encodeURIComponent(query)}?region=au`,
          { body: patch },
        );
        assert(p.status >= 400 && p.status < 500, `status ${p.status} for PATCH ${query}`);
      }),
      { numRuns: 200 },
    );
    await sb.idle();
  } finally {
    await sb.close();
  }
});

Deno.test("bad input: additional_fields is limited to 8192 bytes of UTF-8 JSON, exactly", () =>
  withSandbox(async (sb) => {
    const row = (note: unknown) => ({ rego: "ABC123", state: "NSW", additional_fields: { note } });
    // {"note":"é…"}: 11 bytes of JSON around 2 bytes per "é".
    const fits = await call(sb, "POST", UPLOAD, {
      body: { name: "x", customers: [row("é".repeat(4090)), row({ deep: [1, { a: "b" }] })] },
    });
    assertEquals(fits.status, 201, "8191 bytes, and a small nested value");
    const over = await call(sb, "POST", UPLOAD, {
      body: { name: "x", customers: [row("é".repeat(4091))] },
    });
    assertEquals(over.status, 400);
    assertStringIncludes(over.body.message!, "additional_fields is 8193 bytes; the limit is 8192");
  }));

Deno.test("bad input: additional_fields nests at most 2,000 levels; deeper is a 400 naming the row", () =>
  withSandbox(async (sb) => {
    // `{ n: nested(levels) }` nests `levels` levels: `additional_fields` itself is level 1.
    const nested = (levels: number) => {
      let value: unknown = "leaf";
      for (let i = 1; i < levels; i++) value = i % 2 ? [value] : { v: value };
      return value as Record<string, unknown>;
    };
    const fits = await call(sb, "POST", UPLOAD, {
      body: {
        name: "x",
        customers: [{ rego: "ABC123", state: "NSW", additional_fields: { n: nested(2000) } }],
      },
    });
    assertEquals(fits.status, 201, "2,000 levels");
    await sb.idle();
    const done = await call(sb, "GET", `/v2/recapture/upload/${fits.body.upload!.id}?region=au`);
    assertEquals(done.body.upload!.status, "completed");
    assertEquals(done.body.upload!.total_errors, 0);
    const list = await call(sb, "GET", `/v2/recapture/customers?region=au`);
    assertEquals(
      JSON.stringify(list.body.customers![0].additional_fields),
      JSON.stringify({ n: nested(2000) }),
    );

    // Up to 8,000 levels of arrays fit in 8192 bytes; Deno KV cannot store more than about
    // 3,500, so such an upload used to be accepted and its chunk then failed forever.
    for (const levels of [2001, 8000]) {
      const rows = [
        { rego: "ABC124", state: "NSW" },
        { rego: "ABC125", state: "NSW", additional_fields: { n: nested(levels) } },
      ];
      const r = await call(sb, "POST", UPLOAD, { body: { name: "deep", customers: rows } });
      assertEquals(r.status, 400, `${levels} levels`);
      assertEquals(
        r.body.message,
        "customers[1].additional_fields nests objects or arrays more than 2000 levels deep",
      );
    }
    const uploads = await kvKeys(sb, "upload");
    assertEquals(uploads.length, 1, "only the first upload is stored");
  }));
