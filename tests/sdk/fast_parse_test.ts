import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import * as v from "valibot";
import { compileCheck, fastSafeParse, HAND_WRITTEN } from "../../src/sdk/_fast_parse.ts";
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
        const fast = fastSafeParse(schema, input);
        const slow = v.safeParse(schema, input);
        assertEquals(fast.success, slow.success);
        if (fast.success && slow.success) assertEquals(fast.output, slow.output);
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

// ---------------------------------------------------------------------------------------------
// The hand-written predicates, field by field: every entry of every hot schema, every kind of
// value, alone and inside its envelope. A field added to a schema but not to its predicate (or
// checked with the wrong type) fails here.

const SIGHTING = { at: "2025-01-02T00:00:00Z", lead_id: "l1", listing_price: 21990 };
const PROBES: [string, unknown][] = [
  ["a string", "x"],
  ["an empty string", ""],
  ["an integer", 7],
  ["a fraction", 0.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["true", true],
  ["false", false],
  ["null", null],
  ["undefined", undefined],
  ["an empty object", {}],
  ["an object", { crm_id: 7, nested: { a: [1] } }],
  ["an empty array", []],
  ["an array of strings", ["a"]],
  ["an array of sightings", [SIGHTING, { listing_price: null }]],
  ["an array with a bad sighting", [SIGHTING, { listing_price: "12,000" }]],
  ["an array with a non-object", [SIGHTING, 3]],
  ["an object with a __proto__ key", JSON.parse('{"__proto__": {"a": 1}, "b": 2}')],
  ["an object with a constructor key", { constructor: "x" }],
];

function entriesOf(schema: v.GenericSchema): string[] {
  return Object.keys((schema as unknown as { entries: Record<string, unknown> }).entries);
}

function agree(schema: v.GenericSchema, input: unknown, label: string): void {
  const check = HAND_WRITTEN.get(schema);
  assert(check !== undefined, `${label}: no hand-written predicate`);
  const slow = v.safeParse(schema, input);
  // The predicate may refuse what valibot accepts only when valibot would change the value.
  if (check(input)) {
    assert(slow.success, `${label}: the predicate accepts what valibot refuses`);
    assertEquals(slow.output, input, `${label}: valibot would return another value`);
  } else if (slow.success) {
    assert(
      JSON.stringify(slow.output) !== JSON.stringify(input) || Array.isArray(input),
      `${label}: the predicate refuses what valibot accepts unchanged`,
    );
  }
  const fast = fastSafeParse(schema, input);
  assertEquals(fast.success, slow.success, label);
  if (fast.success && slow.success) assertEquals(fast.output, slow.output, label);
}

const HOT: [string, v.GenericSchema, () => Record<string, unknown>, string | null][] = [
  ["sighting", SightingSchema, () => ({ ...SIGHTING }), null],
  ["customer", CustomerSchema, () => ({ ...customerJson("c1"), sightings: [SIGHTING] }), null],
  ["upload", UploadSchema, () => ({ ...uploadJson("u1") }), null],
  ["customer envelope", CustomerEnvelopeSchema, () => customerJson("c1") as never, "customer"],
  ["upload envelope", UploadEnvelopeSchema, () => uploadJson("u1") as never, "upload"],
];

Deno.test("the hand-written predicates cover the hot schemas", () => {
  const hot = [
    SightingSchema,
    CustomerSchema,
    UploadSchema,
    CustomerEnvelopeSchema,
    UploadEnvelopeSchema,
    CustomerPageSchema,
  ];
  assertEquals(HAND_WRITTEN.size, hot.length);
  for (const schema of hot) assert(HAND_WRITTEN.has(schema as v.GenericSchema));
});

for (const [name, schema, sample, wrap] of HOT) {
  Deno.test(`hand-written predicate agrees with valibot on every field (${name})`, () => {
    const inner = wrap === null ? schema : (schema as unknown as {
      entries: Record<string, v.GenericSchema>;
    }).entries[wrap];
    const outer = (obj: Record<string, unknown>) =>
      wrap === null ? obj : { success: true, [wrap]: obj };
    agree(schema, outer(sample()), `${name}: the sample`);
    for (const field of entriesOf(inner)) {
      const without = sample();
      delete without[field];
      agree(schema, outer(without), `${name}: without ${field}`);
      for (const [what, value] of PROBES) {
        agree(schema, outer({ ...sample(), [field]: value }), `${name}: ${field} = ${what}`);
      }
    }
    agree(schema, outer({ ...sample(), unknown_field: { kept: true } }), `${name}: extra field`);
    for (const [what, value] of PROBES) agree(schema, value, `${name}: the body is ${what}`);
    if (wrap !== null) {
      for (const [what, value] of PROBES) {
        agree(schema, { success: true, [wrap]: value }, `${name}: ${wrap} = ${what}`);
      }
    }
  });
}

Deno.test("hand-written predicate agrees with valibot on pages", () => {
  const page = (customers: unknown, extra?: Record<string, unknown>) => ({
    success: true,
    customers,
    total: 2,
    offset: 0,
    limit: 50,
    ...extra,
  });
  agree(CustomerPageSchema, page([customerJson("a"), customerJson("b")]), "page");
  agree(CustomerPageSchema, page([]), "empty page");
  for (const [what, value] of PROBES) {
    agree(CustomerPageSchema, page(value), `customers = ${what}`);
    agree(CustomerPageSchema, page([customerJson("a"), value]), `a customer = ${what}`);
    for (const field of ["total", "offset", "limit"]) {
      agree(
        CustomerPageSchema,
        page([customerJson("a")], { [field]: value }),
        `${field} = ${what}`,
      );
    }
  }
});
