/**
 * The SDK against the sandbox, in process (`fetch: sandbox.fetch`) and over real HTTP on
 * 127.0.0.1: every operation and documented error, cross-account and cross-region access, PATCH
 * semantics, pagination over a list being changed, expiry, OAuth.
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  AuthenticationError,
  type Customer,
  EmptyUploadError,
  IncorrectRegionError,
  NotFoundError,
  NotLicensedError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  RecaptureClient,
  type Upload,
} from "../../mod.ts";
import type { Sandbox, SandboxOptions } from "../../src/sandbox/mod.ts";
import { customers, testSandbox } from "./_helpers.ts";

interface Env {
  sandbox: Sandbox;
  client(
    key?: string,
    extra?: Partial<ConstructorParameters<typeof RecaptureClient>[0]>,
  ): RecaptureClient;
}

type Mode = "in-process" | "http";

async function withEnv(
  mode: Mode,
  fn: (env: Env) => Promise<void>,
  options: SandboxOptions = {},
): Promise<void> {
  const sandbox = await testSandbox(options);
  let server: Deno.HttpServer | undefined;
  let baseUrl = "https://sandbox.test";
  if (mode === "http") {
    const ready = Promise.withResolvers<Deno.NetAddr>();
    server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a as Deno.NetAddr) },
      sandbox.fetch,
    );
    baseUrl = `http://127.0.0.1:${(await ready.promise).port}`;
  }
  const env: Env = {
    sandbox,
    client: (key = "sec_key_a", extra = {}) =>
      new RecaptureClient({
        apiKey: key,
        baseUrl,
        ...(mode === "in-process" ? { fetch: sandbox.fetch } : {}),
        maxRetries: 0,
        ...extra,
      }),
  };
  try {
    await fn(env);
  } finally {
    await server?.shutdown();
    await sandbox.close();
  }
}

for (const mode of ["in-process", "http"] as const) {
  Deno.test(`sdk/${mode}: every operation, end to end`, () =>
    withEnv(mode, async ({ client, sandbox }) => {
      const c = client();
      const created = await c.uploads.create({
        name: "March sales",
        enable_rego_lookups: true,
        customers: [...customers(120), { rego: "LOOK1", state: "VIC" }],
      });
      assertEquals(created.total_uploaded_customers, 121);
      assertEquals(created.rejected, []);
      assertEquals(created.lastResponse.status, 201);
      assertExists(created.lastResponse.rateLimit);
      assertExists(created.lastResponse.requestId);
      const seen: Upload[] = [];
      const done = await c.uploads.wait(created.id, {
        intervalMs: 5,
        onProgress: (u) => seen.push(u),
      });
      assertEquals(done.status, "completed");
      assertEquals([done.total_processed_customers, done.total_errors], [121, 0]);
      assert(seen.length >= 1);
      assertEquals((await c.uploads.retrieve(created.id)).total_processed_customers, 121);

      const page = await c.customers.list({ upload_id: created.id, offset: 100, limit: 50 });
      assertEquals([page.total, page.offset, page.limit, page.customers.length], [
        121,
        100,
        50,
        21,
      ]);
      const all: Customer[] = [];
      for await (const customer of c.customers.iterate({ upload_id: created.id, pageSize: 40 })) {
        all.push(customer);
      }
      assertEquals(all.length, 121);
      assertEquals(all.map((x) => x.id), [...all.map((x) => x.id)].sort(), "stable creation order");
      const looked = all[120];
      assertEquals(looked.vin_source, "rego_lookup");

      const one = await c.customers.retrieve(all[0].id);
      assertEquals(one.client_name, "Customer 0");
      const updated = await c.customers.update(all[0].id, { mobile_number: "0412 345 678" });
      assertEquals(updated.mobile_number, "0412 345 678");
      const deleted = await c.customers.delete(all[0].id);
      assertEquals(deleted.id, all[0].id);
      await assertRejects(() => c.customers.retrieve(all[0].id), NotFoundError);
      assertEquals((await c.customers.list()).total, 120);

      const second = await c.uploads.create({ name: "to cancel", customers: customers(5) });
      const cancelled = await c.uploads.cancel(second.id);
      assert(["cancelled", "completed"].includes(cancelled.status!));
      await sandbox.idle();
    }));

  Deno.test(`sdk/${mode}: documented errors become their typed errors`, () =>
    withEnv(mode, async ({ client, sandbox }) => {
      const a = client();
      const up = await a.uploads.create({ name: "a", customers: customers(2) });
      await sandbox.idle();
      const [first] = (await a.customers.list()).customers;

      const empty = await assertRejects(
        () => a.uploads.create({ name: "empty", customers: [] }, { validate: false }),
        EmptyUploadError,
      );
      assertEquals(empty.message, "You must upload at least one customer record");
      assertEquals(empty.status, 400);

      const missing = await assertRejects(() => a.customers.retrieve("cus_missing"), NotFoundError);
      assertEquals([missing.message, missing.code], ["Invalid Customer ID", "invalid_customer_id"]);
      const noUpload = await assertRejects(() => a.uploads.retrieve("upl_missing"), NotFoundError);
      assertEquals(noUpload.code, "invalid_upload_id");

      // Cross-account: B sees A's ids but may not touch them.
      const b = client("sec_key_b");
      for (
        const attempt of [
          () => b.customers.retrieve(first.id),
          () => b.customers.update(first.id, { client_name: "Mallory" }),
          () => b.customers.delete(first.id),
          () => b.uploads.retrieve(up.id),
          () => b.uploads.cancel(up.id),
        ]
      ) {
        const e = await assertRejects(attempt, PermissionDeniedError);
        assertEquals(e.status, 403);
      }
      assertEquals((await a.customers.retrieve(first.id)).client_name, "Customer 0");

      // Cross-region: the same account, another licensed region.
      const wrong = await assertRejects(
        () => a.customers.retrieve(first.id, { region: "nz" }),
        IncorrectRegionError,
      );
      assertEquals(wrong.message, "Incorrect Region");
      await assertRejects(() => a.uploads.retrieve(up.id, { region: "nz" }), IncorrectRegionError);

      const unlicensed = await assertRejects(
        () => a.customers.list({}, { region: "uk" }),
        NotLicensedError,
      );
      assertStringIncludes(unlicensed.message, "does not have access to Recapture");
      const badKey = await assertRejects(
        () => client("sec_wrong").customers.list(),
        AuthenticationError,
      );
      assertEquals(badKey.message, "Invalid API key");
      assert(!badKey.message.includes("sec_wrong"));

      const raw = await a.requestRaw("PATCH", `/v2/recapture/customers/${first.id}`, {
        body: JSON.stringify({ rego: "NEW1" }),
        headers: { "Content-Type": "application/json" },
      });
      assertEquals(raw.status, 400);
      assertStringIncludes((await raw.json()).message, 'Field "rego" cannot be updated');
    }));

  Deno.test(`sdk/${mode}: rate limits and quota reach the client as typed errors with headers`, () =>
    withEnv(mode, async ({ client }) => {
      const c = client("sec_key_a");
      await c.customers.list();
      const limited = await assertRejects(() => c.customers.list(), RateLimitError);
      assertEquals(limited.status, 429);
      assertEquals(limited.rateLimit?.total, 1);
      assertEquals(limited.rateLimit?.remaining, 0);
      assert((limited.retryAfterMs ?? 0) > 0);
    }, { rateLimit: { limit: 1, windowMs: 60_000 } }));

  Deno.test(`sdk/${mode}: an exhausted monthly quota is QuotaExceededError`, () =>
    withEnv(mode, async ({ client }) => {
      const c = client("sec_key_b");
      await c.customers.list();
      const e = await assertRejects(() => c.customers.list(), QuotaExceededError);
      assertEquals(e.quota?.max, 1);
    }, { quota: { base: 1, max: 1 } }));

  Deno.test(`sdk/${mode}: PATCH changes only the given fields; "" sets null`, () =>
    withEnv(mode, async ({ client, sandbox }) => {
      const c = client();
      await c.uploads.create({
        name: "p",
        customers: [{
          rego: "PAT1",
          state: "SA",
          client_name: "Ann Lee",
          mobile_number: "0400 000 001",
          sale_date: "2024-01-15",
          additional_fields: { salesperson: "Kim" },
        }],
      });
      await sandbox.idle();
      const [before] = (await c.customers.list()).customers;
      const after = await c.customers.update(before.id, {
        client_name: "Ann Li",
        mobile_number: "",
      });
      assertEquals(after.client_name, "Ann Li");
      assertEquals(after.mobile_number, null);
      assertEquals(after.sale_date, "2024-01-15");
      assertEquals(after.additional_fields, { salesperson: "Kim" });
      assertEquals([after.rego, after.state, after.upload_id], [
        before.rego,
        before.state,
        before.upload_id,
      ]);
      assert(after.last_updated! >= before.last_updated!);
      const again = await c.customers.retrieve(before.id);
      assertEquals(again, after);
      const dated = await c.customers.update(before.id, {
        sale_date: "2024-02-01",
        expiry_date: "2099-01-01",
      });
      assertEquals([dated.sale_date, dated.expiry_date, dated.client_name], [
        "2024-02-01",
        "2099-01-01",
        "Ann Li",
      ]);
      const cleared = await c.customers.update(before.id, { expiry_date: "" });
      assertEquals(cleared.expiry_date, null);
    }));

  Deno.test(`sdk/${mode}: pagination over a list being changed sees each remaining customer once`, () =>
    withEnv(mode, async ({ client, sandbox }) => {
      const c = client();
      await c.uploads.create({ name: "base", customers: customers(230) });
      await sandbox.idle();
      const ids = (await c.customers.list({ limit: 1000 })).customers.map((x) => x.id);
      // Deleted after 30 are seen, beyond the two pages fetched by then (offsets 0 and 25).
      const deletedAhead = new Set(ids.filter((_, i) => i >= 50 && i % 37 === 36));
      const seen: string[] = [];
      let added = false;
      for await (const customer of c.customers.iterate({ pageSize: 25 })) {
        seen.push(customer.id);
        if (seen.length === 30 && !added) {
          added = true;
          for (const id of deletedAhead) await c.customers.delete(id);
          await c.uploads.create({ name: "more", customers: customers(40, 1000) });
          await sandbox.idle();
        }
      }
      assertEquals(new Set(seen).size, seen.length, "no customer twice");
      const expected = ids.filter((id) => !deletedAhead.has(id));
      assertEquals(seen.slice(0, expected.length), expected, "every remaining original, in order");
      assertEquals(
        seen.length,
        expected.length + 40,
        "and the customers added meanwhile, at the end",
      );
    }));

  Deno.test(`sdk/${mode}: OAuth client credentials`, () =>
    withEnv(mode, async ({ client }) => {
      const c = client(undefined, {
        apiKey: undefined,
        clientId: "client_a",
        clientSecret: "secret_a",
      });
      const page = await c.customers.list({}, { region: "nz" });
      assertEquals(page.total, 0);
      const bad = client(undefined, {
        apiKey: undefined,
        clientId: "client_a",
        clientSecret: "wrong",
      });
      const e = await assertRejects(() => bad.customers.list());
      assertInstanceOf(e, AuthenticationError);
      assert(!e.message.includes("wrong"));
    }));
}

Deno.test("sdk/in-process: expiry removes the customer from every endpoint", async () => {
  let now = new Date("2026-05-01T09:00:00Z");
  await withEnv("in-process", async ({ client, sandbox }) => {
    const c = client();
    const up = await c.uploads.create({
      name: "exp",
      customers: [{ rego: "EXP1", expiry_date: "2026-05-02" }, { rego: "KEEP1" }],
    }, { allowPastExpiry: true }); // the sandbox's clock is not the SDK's
    await sandbox.idle();
    const [exp] = (await c.customers.list({ upload_id: up.id })).customers;
    assertEquals((await c.customers.retrieve(exp.id)).rego, "EXP1");
    now = new Date("2026-05-02T00:00:01Z");
    await assertRejects(() => c.customers.retrieve(exp.id), NotFoundError);
    await assertRejects(() => c.customers.update(exp.id, { client_name: "x" }), NotFoundError);
    await assertRejects(() => c.customers.delete(exp.id), NotFoundError);
    const page = await c.customers.list({ upload_id: up.id });
    assertEquals(page.customers.map((x) => x.rego), ["KEEP1"]);
    assertEquals(page.total, 1);
  }, { now: () => now });
});

Deno.test("sdk/in-process: client-side validation is bypassed with validate:false and the sandbox counts the bad rows", () =>
  withEnv("in-process", async ({ client, sandbox }) => {
    const c = client();
    const up = await c.uploads.create(
      { name: "raw", customers: [{ rego: "OK1" }, { client_name: "nothing to track" }] },
      { validate: false },
    );
    await sandbox.idle();
    const done = await c.uploads.retrieve(up.id);
    assertEquals([done.total_processed_customers, done.total_errors], [2, 1]);
  }));
