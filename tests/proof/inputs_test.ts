/**
 * Proof, hostile input to the SDK and the MCP tools: `validateCustomers`, every client method and
 * every MCP tool (through a real MCP `Client` over `InMemoryTransport`) take random and hostile
 * arguments. Each yields a result or a typed error (`RecaptureError`, or the MCP tool error
 * result); never an unexpected exception, and a rejected call writes nothing.
 */
import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient, RecaptureError, REGIONS, validateCustomers } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { connect } from "../mcp/_fixture.ts";
import {
  diff,
  hostileRow,
  hostileString,
  hostileValue,
  rows,
  SCALE,
  snapshot,
} from "./_helpers.ts";

/** TypeErrors thrown by the engine (a bug), not by our own argument checks. */
const ENGINE_MESSAGE =
  /Cannot read|Cannot convert|is not a function|is not iterable|Cannot destructure|call stack/;

Deno.test("proof: validateCustomers on hostile rows reports every problem, never throws", () => {
  let cases = 0;
  let issues = 0;
  fc.assert(
    fc.property(
      fc.array(hostileRow, { maxLength: 30 }),
      fc.constantFrom(...REGIONS),
      (input, region) => {
        cases++;
        const before = JSON.stringify(input);
        const result = validateCustomers(input, { region });
        // Every row is either valid or has at least one issue naming its index and a reason.
        const bad = new Set(result.issues.map((i) => i.index));
        assertEquals(result.valid.length + bad.size, input.length);
        for (const i of result.issues) {
          assert(Number.isInteger(i.index) && i.index >= 0 && i.index < input.length);
          assert(typeof i.field === "string" && typeof i.reason === "string" && i.reason !== "");
        }
        for (const row of result.valid) assert(row.rego || row.vin, "a valid row has rego or vin");
        assertEquals(JSON.stringify(input), before, "the input must not be mutated");
        issues += result.issues.length;
      },
    ),
    { numRuns: 500 * SCALE },
  );
  // Not arrays / unknown regions: a TypeError saying what is wrong (a programming error).
  for (const bad of [null, undefined, "rows", 7, { length: 2 }]) {
    try {
      validateCustomers(bad as unknown as unknown[]);
      throw new Error("accepted a non-array");
    } catch (e) {
      assert(e instanceof TypeError && /array/.test(e.message), String(e));
    }
  }
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  console.log(`proof validateCustomers: ${cases} cases, ${issues} row issues reported, 0 throws`);
});

Deno.test("proof: every SDK method on hostile arguments gives a result or a RecaptureError", async () => {
  const sandbox = await createSandbox({ rateLimit: false });
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    fetch: (r) => sandbox.fetch(r),
    maxRetries: 0,
  });
  let cases = 0;
  let typed = 0;
  let argumentErrors = 0;
  try {
    const seeded = await client.uploads.create({ name: "seed", customers: rows(5, "Q") });
    await sandbox.idle();
    const ids = (await client.customers.list({ upload_id: seeded.id })).customers.map((c) => c.id);
    const id = fc.oneof(hostileString, fc.constantFrom(...ids, seeded.id));
    const call = fc.oneof(
      fc.record({
        op: fc.constant("create" as const),
        params: fc.oneof(
          fc.record({
            name: fc.oneof(fc.string(), hostileValue),
            customers: fc.oneof(fc.array(hostileRow, { maxLength: 6 }), hostileValue),
            enable_rego_lookups: hostileValue,
            monitor_start_date: hostileValue,
          }, { requiredKeys: [] }),
          hostileValue,
        ),
        validate: fc.boolean(),
        dropInvalid: fc.boolean(),
      }),
      fc.record({ op: fc.constantFrom("retrieve" as const, "cancel" as const), id }),
      fc.record({
        op: fc.constantFrom("get" as const, "delete" as const),
        id,
      }),
      fc.record({
        op: fc.constant("update" as const),
        id,
        params: fc.oneof(
          fc.record({
            client_name: hostileValue,
            sale_date: hostileValue,
            rego: hostileValue,
          }, { requiredKeys: [] }),
          hostileValue,
        ),
      }),
      fc.record({
        op: fc.constant("list" as const),
        params: fc.record({
          offset: fc.oneof(fc.integer(), hostileValue),
          limit: fc.oneof(fc.integer({ min: -5, max: 2000 }), hostileValue),
          upload_id: fc.oneof(hostileString, fc.constant(seeded.id)),
        }, { requiredKeys: [] }),
      }),
      fc.record({
        op: fc.constant("region" as const),
        region: hostileValue,
        id,
      }),
    );
    await fc.assert(
      fc.asyncProperty(call, async (c) => {
        cases++;
        const before = await snapshot(sandbox.kv);
        let failed = false;
        try {
          // Hostile arguments deliberately break the declared types.
          // deno-lint-ignore no-explicit-any
          const loose = client as any;
          switch (c.op) {
            case "create":
              await loose.uploads.create(c.params, {
                validate: c.validate,
                dropInvalid: c.dropInvalid,
              });
              break;
            case "retrieve":
              await client.uploads.retrieve(c.id);
              break;
            case "cancel":
              await client.uploads.cancel(c.id);
              break;
            case "get":
              await client.customers.retrieve(c.id);
              break;
            case "delete":
              await client.customers.delete(c.id);
              break;
            case "update":
              await loose.customers.update(c.id, c.params);
              break;
            case "list":
              await loose.customers.list(c.params);
              break;
            case "region":
              await loose.customers.retrieve(c.id, { region: c.region });
              break;
          }
        } catch (e) {
          failed = true;
          if (e instanceof RecaptureError) {
            assert(e.code && e.message, "a typed error has a code and a message");
            typed++;
          } else if (
            (e instanceof TypeError || e instanceof RangeError) && !ENGINE_MESSAGE.test(e.message)
          ) {
            // A wrong option type is a programming error: the SDK's own TypeError names it.
            argumentErrors++;
          } else {
            throw new Error(`${c.op}: untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
          }
        }
        if (failed) {
          const changes = diff(before, await snapshot(sandbox.kv));
          assertEquals(changes, [], `${c.op} failed but changed the store`);
        } else await sandbox.idle();
      }),
      { numRuns: 400 * SCALE, endOnFailure: true },
    );
  } finally {
    await sandbox.idle();
    await sandbox.close();
  }
  console.log(
    `proof SDK methods: ${cases} cases, ${typed} RecaptureErrors, ${argumentErrors} TypeErrors ` +
      `/RangeErrors naming a bad argument, 0 untyped exceptions`,
  );
});

Deno.test("proof: every MCP tool on hostile arguments answers a result or an error result", async () => {
  const h = await connect({ server: { pollIntervalMs: 10 } });
  let cases = 0;
  let errors = 0;
  try {
    // Every tool the server lists (a tool added later is covered without naming it here).
    const tools = (await h.client.listTools()).tools.map((t) => t.name);
    assert(tools.includes("recapture_delete_customer"), `tools: ${tools}`);
    const created = await h.sdk.uploads.create({ name: "seed", customers: rows(5, "M") });
    await h.sandbox.idle();
    const ids = (await h.sdk.customers.list({ upload_id: created.id })).customers.map((c) => c.id);
    const idValue = fc.oneof(hostileString, fc.constantFrom(...ids, created.id), hostileValue);
    const args = fc.oneof(
      fc.record({
        upload_id: idValue,
        customer_id: idValue,
        region: fc.oneof(fc.constantFrom(...REGIONS), hostileValue),
        name: hostileValue,
        customers: fc.oneof(fc.array(hostileRow, { maxLength: 5 }), hostileValue),
        csv: fc.oneof(
          fc.constant("rego,state\nABC1,NSW\n"),
          fc.constant('rego,"state\n'),
          fc.string({ maxLength: 60 }),
          hostileValue,
        ),
        dry_run: hostileValue,
        client_name: hostileValue,
        sale_date: hostileValue,
        offset: hostileValue,
        limit: hostileValue,
        confirm: hostileValue,
        confirmation_token: hostileValue,
        timeout_seconds: fc.oneof(fc.constantFrom(0, 0.01, -1, 1e9), hostileValue),
        __proto__: hostileValue,
      }, { requiredKeys: [] }),
      fc.dictionary(hostileString, hostileValue, { maxKeys: 5 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...tools), args, async (tool, a) => {
        cases++;
        const before = await snapshot(h.sandbox.kv);
        const result = await h.call(tool, a as Record<string, unknown>);
        assert(Array.isArray(result.content), `${tool}: no content`);
        const first = result.content[0];
        assert(first?.type === "text" && first.text.length > 0, `${tool}: no text`);
        if (result.isError) {
          errors++;
          assertEquals(diff(before, await snapshot(h.sandbox.kv)), [], `${tool} failed but wrote`);
          assert(
            !/Internal|\[object Object\]|Cannot read|is not a function/.test(first.text),
            `${tool}: ${first.text}`,
          );
        }
        await h.sandbox.idle();
      }),
      { numRuns: 300 * SCALE, endOnFailure: true },
    );
  } finally {
    await h.close();
  }
  console.log(`proof MCP tools: ${cases} calls, ${errors} error results, 0 protocol failures`);
});

Deno.test("proof: regressions found by the properties (lone surrogate id, null-prototype option)", async () => {
  const client = new RecaptureClient({
    apiKey: "sec_x",
    fetch: () => Promise.reject(new Error("must not be sent")),
    maxRetries: 0,
  });
  // Was an untyped URIError from encodeURIComponent.
  const e1 = await client.customers.retrieve("cus_\ud800").catch((e) => e);
  assert(e1 instanceof TypeError && /well-formed Unicode/.test(e1.message), String(e1));
  // Was "Cannot convert object to primitive value" while building the message.
  const region = Object.create(null) as unknown as "au";
  const e2 = await client.customers.list({}, { region }).catch((e) => e);
  assert(e2 instanceof TypeError && /region must be one of/.test(e2.message), String(e2));
  const limit = Object.create(null) as unknown as number;
  const e3 = await client.customers.list({ limit }).catch((e) => e);
  assert(e3 instanceof RangeError && /limit must be/.test(e3.message), String(e3));
});
