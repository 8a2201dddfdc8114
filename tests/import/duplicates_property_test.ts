// The duplicate checks of the row warnings (src/import/_row_warnings.ts), kept in hash tables
// (one entry per vehicle, with its first row's JSON, and one per other row of a vehicle met more
// than once), warn exactly as the plain rule, written here with Maps of the texts themselves:
// a row whose JSON was seen is an exact duplicate of the first row with it (skipped); else a
// row whose vehicle (its VIN, else its rego and state; a VIN row also by its rego and state)
// was seen is the same vehicle as the first row of that vehicle.

import fc from "fast-check";
import { assertEquals } from "@std/assert";
import {
  fingerprint,
  RowChecker,
  type RowWarning,
  vehicleOf,
} from "../../src/import/_row_warnings.ts";
import type { CustomerInput } from "../../src/sdk/schemas.ts";
import { validateCustomers } from "../../src/sdk/validate.ts";

type First = { index: number; line?: number };

/** The plain rule: the JSON and the vehicle keys themselves, in Maps. */
class PlainDuplicates {
  #rows = new Map<string, First>();
  #vehicles = new Map<string, First>();

  check(
    customer: CustomerInput,
    first: First,
  ): { exact: boolean; first: First; fp: string } | null {
    const fp = fingerprint(customer);
    if (fp === null) return null;
    const json = JSON.stringify(customer);
    const exact = this.#rows.get(json);
    if (exact !== undefined) return { exact: true, first: exact, fp };
    this.#rows.set(json, first);
    const keys = [fp];
    if (fp.startsWith("vin:") && customer.rego !== undefined) {
      keys.push(fingerprint({ rego: customer.rego, state: customer.state })!);
    }
    let found: First | undefined;
    for (const key of keys) {
      const seen = this.#vehicles.get(key);
      if (seen === undefined) this.#vehicles.set(key, first);
      else found ??= seen;
    }
    return found === undefined ? null : { exact: false, first: found, fp };
  }
}

const duplicates = (warnings: RowWarning[]) =>
  warnings.filter((w) => w.kind === "duplicate_row" || w.kind === "same_vehicle");

Deno.test("property: the duplicate warnings agree with the plain rule", () => {
  // Few values for each field, so that rows, vehicles and VIN-and-rego pairs come back.
  const row = fc.record({
    rego: fc.constantFrom("ABC1", "abc 1", "XYZ9", "Q-1", undefined),
    state: fc.constantFrom("NSW", "vic", undefined),
    vin: fc.constantFrom("1HGCM82633A004352", "JH4KA7561PC008269", undefined, undefined),
    client_name: fc.constantFrom("Jo", "Lee", undefined),
    additional_fields: fc.constantFrom(undefined, { a: "1" }, { a: "2" }),
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(fc.array(row, { maxLength: 60 }), fc.boolean(), (rows, lines) => {
      const { valid } = validateCustomers(rows);
      const checker = new RowChecker("au");
      const plain = new PlainDuplicates();
      valid.forEach((customer, index) => {
        const line = lines ? index + 2 : undefined;
        const at: First = line === undefined ? { index } : { index, line };
        const expected = plain.check(customer, at);
        const got = duplicates(checker.check(customer, JSON.stringify(customer), index, line));
        if (expected === null) return assertEquals(got, [], `row ${index}`);
        const where = expected.first.line !== undefined
          ? `line ${expected.first.line}`
          : `index ${expected.first.index}`;
        assertEquals(got, [{
          ...at,
          kind: expected.exact ? "duplicate_row" : "same_vehicle",
          field: expected.exact ? "" : expected.fp.startsWith("vin:") ? "vin" : "rego",
          message: expected.exact
            ? `repeats ${where} exactly: skipped`
            : `the same vehicle as ${where} (${
              vehicleOf(expected.fp)
            }) with other details: sent, so it is tracked twice`,
          skipped: expected.exact,
          first: expected.first,
        }], `row ${index}`);
      });
    }),
    { numRuns: 1000 },
  );
});

Deno.test("duplicates: a rego with dashes is the vehicle the API stores without; the warning names it plainly", () => {
  assertEquals(
    fingerprint({ rego: "dup-42", state: "NSW" }),
    fingerprint({ rego: "DUP42", state: "NSW" }),
  );
  const checker = new RowChecker("au");
  checker.check({ rego: "DUP42", state: "NSW", client_name: "A" }, "{}", 0, 3);
  const [w] = checker.check({ rego: "DUP-42", state: "NSW", client_name: "B" }, "{1}", 1, 4);
  assertEquals(
    w.message,
    "the same vehicle as line 3 (rego DUP42 (NSW)) with other details: sent, so it is tracked twice",
  );
  assertEquals(vehicleOf("vin:1HGCM82633A004352"), "VIN 1HGCM82633A004352");
});
