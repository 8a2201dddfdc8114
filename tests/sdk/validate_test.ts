import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { expiresImmediately, isValidDate, validateCustomers, ValidationError } from "../../mod.ts";
import { CustomerInputSchema } from "../../src/sdk/schemas.ts";
import { issueOf } from "../../src/sdk/_shape.ts";

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

// Property: the hand-written validator and the input schema (the wire truth) agree.
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

Deno.test("property: every row the validator accepts satisfies the input schema", () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
      const { valid, issues } = validateCustomers(rows);
      const bad = new Set(issues.map((i) => i.index));
      assertEquals(valid.length + bad.size, rows.length);
      for (const c of valid) {
        const issue = issueOf(CustomerInputSchema, c);
        assert(issue === undefined, JSON.stringify({ c, issue }));
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
      for (const r of rows) assertEquals(issueOf(CustomerInputSchema, r), undefined);
      assertEquals(validateCustomers(rows), { valid: rows, issues: [] });
    }),
    { numRuns: 200 },
  );
});

/**
 * The validator's rules written plainly (trim, regular expressions, upper-casing every value),
 * as a reference for the fast paths of `validateCustomers`: same valid rows, same issues.
 */
function referenceValidate(rows: unknown[], region = "au"): unknown {
  const valid: Record<string, unknown>[] = [];
  const issues: { index: number; field: string; reason: string }[] = [];
  const type = (x: unknown) => x === null ? "null" : Array.isArray(x) ? "array" : typeof x;
  const plain = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(x));
  const absent = (x: unknown) =>
    x === undefined || x === null || (typeof x === "string" && x.trim() === "");
  const states = ["NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"];
  const known = [
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
    "additional_fields",
  ];
  rows.forEach((raw, index) => {
    if (!plain(raw)) {
      issues.push({ index, field: "", reason: `must be an object, got ${type(raw)}` });
      return;
    }
    const before = issues.length;
    const out: Record<string, unknown> = {};
    const bad = (field: string, reason: string) => issues.push({ index, field, reason });
    for (const key in raw) {
      if (!known.includes(key) && raw[key] !== undefined) {
        bad(key, "unknown field (put extra data in additional_fields)");
      }
    }
    const { rego, state, vin } = raw;
    if (!absent(rego)) {
      if (typeof rego !== "string") bad("rego", `must be a string, got ${type(rego)}`);
      else if (!/^[A-Z0-9]{1,10}$/.test(rego.replace(/[\s-]+/g, "").toUpperCase())) {
        bad("rego", "must be 1 to 10 letters and digits (spaces and dashes aside)");
      } else out.rego = rego.replace(/\s+/g, "").toUpperCase();
    }
    if (!absent(state)) {
      if (typeof state !== "string") bad("state", `must be a string, got ${type(state)}`);
      else if (region === "au" && !states.includes(state.trim().toUpperCase())) {
        bad("state", `must be one of ${states.join(", ")} in region au`);
      } else out.state = state.trim().toUpperCase();
    }
    if (!absent(vin)) {
      if (typeof vin !== "string") bad("vin", `must be a string, got ${type(vin)}`);
      else {
        const v = vin.trim().toUpperCase();
        if (v.length !== 17) bad("vin", `must be 17 characters, got ${v.length}`);
        else if (!/^[A-HJ-NPR-Z0-9]{17}$/.test(v)) {
          bad("vin", "must contain only letters and digits, without I, O or Q");
        } else out.vin = v;
      }
    }
    if (absent(rego) && absent(vin)) bad("rego|vin", "a customer needs a rego or a vin");
    for (const f of ["external_id", "client_name", "mobile_number"]) {
      if (absent(raw[f])) continue;
      const x = typeof raw[f] === "string" ? (raw[f] as string).trim() : "";
      const digits = x.replace(/[^0-9]/g, "").length;
      if (typeof raw[f] !== "string") bad(f, `must be a string, got ${type(raw[f])}`);
      else if (f === "client_name" && x.length > 200) {
        bad(f, `must be at most 200 characters, got ${x.length}`);
      } else if (
        f === "mobile_number" && !(/^\+?[0-9 ()-]+$/.test(x) && digits >= 6 && digits <= 15)
      ) bad(f, "must be a phone number of 6 to 15 digits");
      else out[f] = x;
    }
    for (const f of ["sale_date", "expiry_date", "monitor_start_date", "monitor_end_date"]) {
      const x = raw[f];
      if (absent(x)) continue;
      if (typeof x !== "string") bad(f, `must be a date YYYY-MM-DD, got ${type(x)}`);
      else if (!isValidDate(x.trim())) bad(f, "must be a real date written YYYY-MM-DD");
      else out[f] = x.trim();
    }
    const start = out.monitor_start_date as string | undefined;
    const end = out.monitor_end_date as string | undefined;
    if (start !== undefined && end !== undefined && start > end) {
      bad("monitor_end_date", "must not be before monitor_start_date");
    }
    const extra = raw.additional_fields;
    if (extra !== undefined && extra !== null) {
      if (!plain(extra)) bad("additional_fields", `must be an object, got ${type(extra)}`);
      else out.additional_fields = extra;
    }
    if (issues.length === before) valid.push(out);
  });
  return { valid, issues };
}

Deno.test("property: validateCustomers agrees with the plainly written rules", () => {
  // Text made of the characters that matter: ASCII letters either case, digits, I O Q, spaces,
  // tabs, no-break and other Unicode spaces, a letter that upper-cases to two (ß), punctuation.
  const text = fc.array(
    fc.constantFrom(
      ..."aAbBzZ019IOQioq -/.,'".split(""),
      "\t",
      "\u00a0",
      "\u2003",
      "\ufeff",
      "ß",
      "é",
    ),
    { maxLength: 20 },
  ).map((chars) => chars.join(""));
  const around = (inner: fc.Arbitrary<string>) =>
    fc.tuple(fc.constantFrom("", " ", "\t", "\u00a0"), inner, fc.constantFrom("", " ", "\u2003"))
      .map((parts) => parts.join(""));
  const value = fc.oneof(text, fc.constant(undefined), fc.constant(null), fc.integer());
  const row = fc.record({
    rego: fc.oneof(value, around(fc.stringMatching(/^[a-zA-Z0-9]{1,18}$/))),
    state: fc.oneof(
      value,
      around(fc.constantFrom("NSW", "nsw", "Vic", "ACT", "QLD ", "XX", "Auckland")),
    ),
    vin: fc.oneof(
      value,
      around(fc.stringMatching(/^[A-Za-z0-9]{16,18}$/)),
      fc.stringMatching(/^[A-HJ-NPR-Z0-9]{17}$/),
    ),
    client_name: value,
    mobile_number: value,
    external_id: value,
    sale_date: fc.oneof(value, around(fc.constantFrom("2024-02-29", "2023-02-29", "2024-13-01"))),
    monitor_start_date: fc.oneof(value, fc.constantFrom("2025-01-01", "2025-06-30")),
    monitor_end_date: fc.oneof(value, fc.constantFrom("2025-01-01", "2025-06-30")),
    additional_fields: fc.oneof(fc.constant(undefined), fc.constant([1]), fc.constant({ a: 1 })),
    colour: fc.oneof(fc.constant(undefined), text),
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(
      fc.array(fc.oneof(row, fc.constant(null), fc.constant("ABC123")), { maxLength: 10 }),
      fc.constantFrom("au" as const, "nz" as const),
      (rows, region) => {
        assertEquals(validateCustomers(rows, { region }), referenceValidate(rows, region));
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("additional_fields that JSON cannot carry unchanged are reported with where in them", () => {
  const cycle: Record<string, unknown> = { name: "loop" };
  cycle.self = { again: cycle };
  const shared = { id: 1 };
  let deep: unknown = 1;
  for (let i = 0; i < 2001; i++) deep = [deep];
  const { valid, issues } = validateCustomers([
    { rego: "A1", additional_fields: { crm: { ids: [1, 2n] } } },
    { rego: "A2", additional_fields: cycle },
    { rego: "A3", additional_fields: { score: NaN } },
    { rego: "A4", additional_fields: { list: [1, -Infinity] } },
    { rego: "A5", additional_fields: { callback: () => 1 } },
    { rego: "A6", additional_fields: { tag: Symbol("x") } },
    { rego: "A7", additional_fields: { seen: new Map([["a", 1]]) } },
    { rego: "A8", additional_fields: { set: new Set([1]) } },
    { rego: "A9", additional_fields: { deep } },
    // Carried as they are: a Date (toJSON), undefined (left out, as absent), the same object
    // twice (not a cycle), a little nesting.
    {
      rego: "B1",
      additional_fields: { at: new Date(0), gone: undefined, a: shared, b: [shared], n: -0 },
    },
  ]);
  assertEquals(valid.map((r) => r.rego), ["B1"]);
  const field = "additional_fields";
  assertEquals(issues, [
    {
      index: 0,
      field,
      reason:
        "additional_fields.crm.ids[1] is a bigint, which JSON cannot carry (convert it to a string or number)",
    },
    {
      index: 1,
      field,
      reason: "additional_fields.self.again refers back to an object that contains it",
    },
    { index: 2, field, reason: "additional_fields.score is NaN, which JSON would send as null" },
    {
      index: 3,
      field,
      reason: "additional_fields.list[1] is -Infinity, which JSON would send as null",
    },
    {
      index: 4,
      field,
      reason: "additional_fields.callback is a function, which JSON would leave out",
    },
    { index: 5, field, reason: "additional_fields.tag is a symbol, which JSON would leave out" },
    { index: 6, field, reason: "additional_fields.seen is a Map, which JSON would send as {}" },
    { index: 7, field, reason: "additional_fields.set is a Set, which JSON would send as {}" },
    {
      index: 8,
      field,
      reason: "additional_fields.deep[0][0][0][0][0][0][0]… nests more than 2000 levels deep",
    },
  ]);
});

Deno.test("property: additional_fields made of JSON values pass; whatever passes can be serialised", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (extra) => {
      const { valid, issues } = validateCustomers([{ rego: "A", additional_fields: extra }]);
      assertEquals(issues, []);
      assertEquals(valid[0].additional_fields, extra);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string(),
        fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true }),
      ),
      (extra) => {
        const { valid } = validateCustomers([{ rego: "A", additional_fields: extra }]);
        if (valid.length === 1) JSON.stringify(valid[0]); // throws on what JSON cannot carry
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("additional_fields: what JSON would change is refused, class instances and array holes too", () => {
  class Point {
    constructor(readonly x: number, readonly y: number) {}
  }
  const holes = [1, , 3];
  const { valid, issues } = validateCustomers([
    { rego: "C1", additional_fields: { re: /x/ } },
    { rego: "C2", additional_fields: { err: new Error("boom") } },
    { rego: "C3", additional_fields: { bytes: new Uint8Array([7, 8]) } },
    { rego: "C4", additional_fields: { when: new Date("garbage") } },
    { rego: "C5", additional_fields: { at: new Point(1, 2) } },
    { rego: "C6", additional_fields: { list: [1, undefined] } },
    { rego: "C7", additional_fields: { list: holes } },
    { rego: "C8", additional_fields: { name: new String("boxed") } },
    // Carried as they are: a valid Date and anything with its own toJSON; a null-prototype object.
    {
      rego: "D1",
      additional_fields: {
        at: new Date(0),
        money: { toJSON: () => "12.50" },
        bare: Object.assign(Object.create(null), { a: 1 }),
      },
    },
  ]);
  assertEquals(valid.map((r) => r.rego), ["D1"]);
  assertEquals(issues.map((i) => [i.index, i.reason]), [
    [0, "additional_fields.re is an instance of RegExp, which JSON would not carry as it is"],
    [1, "additional_fields.err is an instance of Error, which JSON would not carry as it is"],
    [
      2,
      "additional_fields.bytes is an instance of Uint8Array, which JSON would not carry as it is",
    ],
    [3, "additional_fields.when is an invalid Date, which JSON would send as null"],
    [4, "additional_fields.at is an instance of Point, which JSON would not carry as it is"],
    [5, "additional_fields.list[1] is undefined (or a hole), which JSON would send as null"],
    [6, "additional_fields.list[1] is undefined (or a hole), which JSON would send as null"],
    [7, "additional_fields.name is an instance of String, which JSON would not carry as it is"],
  ]);
  assert(issues.every((i) => i.field === "additional_fields"));
});

/** Whether `sent` (a JSON round trip of `given`) carries the same data: an absent key and one set to `undefined` are the same. */
function sameData(given: unknown, sent: unknown): boolean {
  if (given === null || typeof given !== "object") return given === sent;
  if (sent === null || typeof sent !== "object") return false;
  if (Array.isArray(given)) {
    if (!Array.isArray(sent) || sent.length !== given.length) return false;
    for (let i = 0; i < given.length; i++) {
      if (!(i in given) || !sameData(given[i], sent[i])) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(given);
  if (proto !== Object.prototype && proto !== null) return false;
  const g = given as Record<string, unknown>, s = sent as Record<string, unknown>;
  const keys = Object.keys(g).filter((k) => g[k] !== undefined);
  return keys.length === Object.keys(s).length &&
    keys.every((k) => Object.hasOwn(s, k) && sameData(g[k], s[k]));
}

Deno.test("property: additional_fields that pass reach the API unchanged (a JSON round trip keeps every value)", () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string(),
        fc.anything({
          withBoxedValues: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withSparseArray: true,
          withTypedArray: true,
          withObjectString: true,
        }),
      ),
      (extra) => {
        const { valid } = validateCustomers([{ rego: "A", additional_fields: extra }]);
        if (valid.length === 0) return;
        const sent = JSON.parse(JSON.stringify(valid[0].additional_fields));
        assert(sameData(extra, sent), JSON.stringify(sent));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("a row that is a class instance is told apart from other objects", () => {
  class Row {
    rego = "ABC123";
  }
  const { issues } = validateCustomers([new Row(), new Date(0)]);
  assertEquals(issues, [
    { index: 0, field: "", reason: "must be a plain object, got an instance of Row" },
    { index: 1, field: "", reason: "must be a plain object, got an instance of Date" },
  ]);
});

Deno.test("expiresImmediately: on or before today in UTC+14, the earliest today anywhere", () => {
  const now = new Date("2026-03-01T09:59:59Z"); // 23:59:59 on 1 March in UTC+14
  assertEquals(expiresImmediately("2026-03-01", { now }), true);
  assertEquals(expiresImmediately("2026-02-28", { now }), true);
  assertEquals(expiresImmediately("2026-03-02", { now }), false);
  const later = new Date("2026-03-01T10:00:00Z"); // already 2 March in UTC+14
  assertEquals(expiresImmediately("2026-03-02", { now: later }), true);
  assertEquals(expiresImmediately("2026-03-03", { now: later }), false);
  assertEquals(expiresImmediately("", { now }), false);
  // Judged as stored: trimmed (a padded date slipped past MCP code mode's confirmation).
  assertEquals(expiresImmediately(" 2026-03-01 ", { now }), true);
  assertEquals(expiresImmediately("\t2026-02-28\n", { now }), true);
  assertEquals(expiresImmediately("  ", { now }), false);
  assertEquals(expiresImmediately("01/03/2026", { now }), false);
});
