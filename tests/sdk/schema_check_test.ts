// The compiled response check (src/sdk/_schema_check.ts) agrees with valibot: whatever it accepts,
// valibot accepts with an equal output, so parseBody may answer with the JSON itself.
import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import * as v from "valibot";
import { compileCheck, passes } from "../../src/sdk/_schema_check.ts";
import {
  CustomerEnvelopeSchema,
  CustomerInputSchema,
  CustomerPageSchema,
  CustomerSchema,
  SightingSchema,
  TokenSchema,
  UploadEnvelopeSchema,
  UploadSchema,
} from "../../src/sdk/schemas.ts";
import { customerJson, uploadJson } from "../_msw.ts";

// Values that are valid somewhere in the schemas, and values that are not.
const leaf = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant([]),
  fc.constant({}),
  fc.constant([{ at: "x", listing_price: 1 }]),
  fc.constant([{ listing_price: "1" }]),
);

/** A valid payload with one field (maybe nested) replaced, added or removed. */
function mutated(base: Record<string, unknown>, inner: string) {
  const obj = base[inner] as Record<string, unknown>;
  const keys = [...Object.keys(obj), "extra_field", "__proto__", "constructor", "prototype"];
  return fc.record({
    key: fc.constantFrom(...keys),
    value: leaf,
    drop: fc.boolean(),
  }).map(({ key, value, drop }) => {
    const copy = structuredClone(obj);
    if (drop) delete copy[key];
    else Object.defineProperty(copy, key, { value, enumerable: true, writable: true });
    return { ...base, [inner]: copy };
  });
}

const CASES: [string, v.GenericSchema, fc.Arbitrary<unknown>][] = [
  [
    "customer",
    CustomerEnvelopeSchema,
    mutated({ success: true, customer: customerJson("c1") as Record<string, unknown> }, "customer"),
  ],
  [
    "upload",
    UploadEnvelopeSchema,
    mutated({ success: true, upload: uploadJson("u1") as Record<string, unknown> }, "upload"),
  ],
  [
    "page",
    CustomerPageSchema,
    fc.record({
      customers: fc.oneof(fc.constant([customerJson("a")]), fc.array(leaf, { maxLength: 2 })),
      total: leaf,
      offset: fc.integer(),
      limit: fc.integer(),
    }, { noNullPrototype: true }),
  ],
  ["anything", CustomerEnvelopeSchema, fc.anything()],
];

for (const [name, schema, arb] of CASES) {
  Deno.test(`property: the fast path agrees with valibot (${name})`, () => {
    fc.assert(
      fc.property(arb, (input) => {
        // The compiled check never accepts what valibot refuses, and what it accepts is equal to
        // valibot's own output.
        const slow = v.safeParse(schema, input);
        if (passes(schema, input)) {
          assert(slow.success);
          assertEquals(input, slow.output);
        }
      }),
      { numRuns: 400 },
    );
  });
}

Deno.test("schemas with pipes are not compiled: valibot always runs", () => {
  assertEquals(compileCheck(TokenSchema as never), null);
  assertEquals(compileCheck(CustomerInputSchema as never), null);
  assert(compileCheck(CustomerEnvelopeSchema as never) !== null);
});

Deno.test("the answers the API sends take the compiled path (the guard of bench/client.ts needs it)", () => {
  assert(passes(CustomerEnvelopeSchema, { success: true, customer: customerJson("c1") }));
  assert(passes(UploadEnvelopeSchema, { success: true, upload: uploadJson("u1") }));
  assert(
    passes(CustomerPageSchema, { customers: [customerJson("a")], total: 1, offset: 0, limit: 50 }),
  );
  assert(passes(CustomerSchema, customerJson("c1")));
  assert(passes(UploadSchema, uploadJson("u1")));
  assert(passes(SightingSchema, { at: "2025-01-02T00:00:00Z", lead_id: "l1", listing_price: 1 }));
});
