import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import * as v from "valibot";
import { isValidDate, validateCustomers, ValidationError } from "../mod.ts";
import { CustomerInputSchema } from "../src/schemas.ts";

Deno.test("valid rows are normalised: rego upper-cased without spaces, vin and state upper", () => {
  const { valid, issues } = validateCustomers([
    { rego: " ab c\t12 3 ", state: " nsw ", client_name: " Jo " },
    { vin: "1hgcm82633a004352", sale_date: "2024-02-29", additional_fields: { a: [1] } },
    { rego: "XYZ", state: null, vin: "", mobile_number: undefined },
  ]);
  assertEquals(issues, []);
  assertEquals(valid, [
    { rego: "ABC123", state: "NSW", client_name: "Jo" },
    { vin: "1HGCM82633A004352", sale_date: "2024-02-29", additional_fields: { a: [1] } },
    { rego: "XYZ" },
  ]);
});

Deno.test("every bad row is reported with its index, field and reason", () => {
  const rows: unknown[] = [
    { rego: "OK1", state: "NSW" },
    { client_name: "nobody" },
    { vin: "1HGCM82633A00435" },
    { vin: "1HGCM82633A00435O" },
    { rego: "A", state: "QUEENSLAND" },
    { rego: "A", sale_date: "31/01/2024", expiry_date: "2025-02-30" },
    { rego: 123, client_name: 5, additional_fields: [1] },
    null,
    "ABC123",
    { rego: "A", colour: "red" },
    { rego: "A", monitor_start_date: "2025-06-01", monitor_end_date: "2025-01-01" },
  ];
  const { valid, issues } = validateCustomers(rows);
  assertEquals(valid, [{ rego: "OK1", state: "NSW" }]);
  assertEquals(issues, [
    { index: 1, field: "rego|vin", reason: "a customer needs a rego or a vin" },
    { index: 2, field: "vin", reason: "must be 17 characters, got 16" },
    {
      index: 3,
      field: "vin",
      reason: "must contain only letters and digits, without I, O or Q",
    },
    {
      index: 4,
      field: "state",
      reason: "must be one of NSW, VIC, QLD, SA, WA, TAS, NT, ACT in region au",
    },
    { index: 5, field: "sale_date", reason: "must be a real date written YYYY-MM-DD" },
    { index: 5, field: "expiry_date", reason: "must be a real date written YYYY-MM-DD" },
    { index: 6, field: "rego", reason: "must be a string, got number" },
    { index: 6, field: "client_name", reason: "must be a string, got number" },
    { index: 6, field: "additional_fields", reason: "must be an object, got array" },
    { index: 7, field: "", reason: "must be an object, got null" },
    { index: 8, field: "", reason: "must be an object, got string" },
    {
      index: 9,
      field: "colour",
      reason: "unknown field (put extra data in additional_fields)",
    },
    { index: 10, field: "monitor_end_date", reason: "must not be before monitor_start_date" },
  ]);
  const err = new ValidationError(issues);
  assertEquals(err.code, "validation_failed");
  assert(err.message.startsWith("13 invalid inputs: row 1 rego|vin: a customer needs"));
  assert(err.message.endsWith("; and 8 more"));
});

Deno.test("states are checked only in region au", () => {
  assertEquals(validateCustomers([{ rego: "A", state: "Auckland" }], { region: "nz" }), {
    valid: [{ rego: "A", state: "AUCKLAND" }],
    issues: [],
  });
  assertThrows(() => validateCustomers([], { region: "us" as "au" }), TypeError, "region");
});

Deno.test("isValidDate knows the calendar", () => {
  assertEquals(
    ["2024-02-29", "2023-02-29", "2100-02-29", "2000-02-29", "2025-04-31", "2025-12-31"].map(
      isValidDate,
    ),
    [true, false, false, true, false, true],
  );
  assertEquals(["2025-1-01", "2025-00-10", "2025-13-01", " 2025-01-01"].map(isValidDate), [
    false,
    false,
    false,
    false,
  ]);
});

// Property: the hand-written validator and the valibot schema (the wire truth) agree.
const field = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(""),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.boolean(),
);
const vinish = fc.oneof(
  fc.stringMatching(/^[A-HJ-NPR-Z0-9a-hj-npr-z]{17}$/),
  fc.stringMatching(/^[A-Z0-9]{15,18}$/),
  field,
);
const dateish = fc.oneof(
  fc.date({ min: new Date("1990-01-01"), max: new Date("2100-12-31"), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
  field,
);
const row = fc.record({
  rego: fc.oneof(fc.stringMatching(/^[a-zA-Z0-9 ]{1,10}$/), field),
  state: fc.oneof(fc.constantFrom("NSW", "vic", "Qld", "XX"), field),
  vin: vinish,
  client_name: field,
  sale_date: dateish,
  monitor_start_date: dateish,
  monitor_end_date: dateish,
  additional_fields: fc.oneof(fc.constant(undefined), fc.dictionary(fc.string(), fc.integer())),
}, { requiredKeys: [] });

Deno.test("property: every row the validator accepts satisfies the valibot schema", () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
      const { valid, issues } = validateCustomers(rows);
      const bad = new Set(issues.map((i) => i.index));
      assertEquals(valid.length + bad.size, rows.length);
      for (const c of valid) {
        const parsed = v.safeParse(CustomerInputSchema, c);
        assert(parsed.success, JSON.stringify({ c, issues: parsed.issues }));
        assert(c.rego !== undefined || c.vin !== undefined);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: normalised schema-valid rows pass unchanged", () => {
  const good = fc.record({
    rego: fc.stringMatching(/^[A-Z0-9]{1,8}$/),
    state: fc.constantFrom("NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"),
    vin: fc.stringMatching(/^[A-HJ-NPR-Z0-9]{17}$/),
    sale_date: fc.date({
      min: new Date("2000-01-01"),
      max: new Date("2099-12-31"),
      noInvalidDate: true,
    }).map((d) => d.toISOString().slice(0, 10)),
  }, { requiredKeys: ["rego"], noNullPrototype: true });
  fc.assert(
    fc.property(fc.array(good, { minLength: 1, maxLength: 20 }), (rows) => {
      for (const r of rows) assert(v.safeParse(CustomerInputSchema, r).success);
      assertEquals(validateCustomers(rows), { valid: rows, issues: [] });
    }),
    { numRuns: 200 },
  );
});
