// The evidence a file's date columns give of their order: the first month-first-only and
// day-first-only value per column, and which columns the order in use would read wrong.

import { assertEquals, assertStringIncludes } from "@std/assert";
import fc from "fast-check";
import { DateOrderEvidence } from "../../src/import/_date_order_evidence.ts";
import { parseDate, provenDateOrder } from "../../src/import/dates.ts";
import { readCsv } from "../../src/import/csv.ts";

Deno.test("provenDateOrder: only a value one order alone reads proves it", () => {
  assertEquals(provenDateOrder("12/25/2023"), "mdy");
  assertEquals(provenDateOrder(" 1-13-24 "), "mdy");
  assertEquals(provenDateOrder("12.25.2023 10:30"), "mdy");
  assertEquals(provenDateOrder("25/12/2023"), "dmy");
  assertEquals(provenDateOrder("13/1/24"), "dmy");
  // Either order reads it, or neither does: no proof.
  for (
    const value of [
      "02/03/2024",
      "12/12/2023",
      "2024-12-25",
      "20241225",
      "45352",
      "25 Dec 2023",
      "December 25, 2023",
      "13/13/2024",
      "02/30/2024", // no February 30: not a month-first date either
      "31/02/2024",
      "",
      "N/A",
    ]
  ) assertEquals(provenDateOrder(value), undefined, value);
});

Deno.test("provenDateOrder: a proven value reads in that order and fails in the other", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 31 }),
      fc.integer({ min: 1, max: 31 }),
      fc.integer({ min: 1950, max: 2099 }),
      (a, b, year) => {
        const value = `${a}/${b}/${year}`;
        const order = provenDateOrder(value);
        const reads = (o: "dmy" | "mdy") => {
          try {
            parseDate(value, { order: o });
            return true;
          } catch {
            return false;
          }
        };
        if (order === undefined) return !(reads("mdy") !== reads("dmy"));
        return reads(order) && !reads(order === "dmy" ? "mdy" : "dmy");
      },
    ),
  );
});

Deno.test("DateOrderEvidence: the reviewer's column is proven month-first at line 4", () => {
  const evidence = new DateOrderEvidence();
  evidence.see("Sale Date", "2024-01-05", 2);
  evidence.see("Sale Date", "02/03/2024", 3);
  evidence.see("Sale Date", "12/25/2023", 4);
  evidence.see("Sale Date", "11/30/2023", 5);
  const [conflict, ...rest] = evidence.conflicts("dmy");
  assertEquals(rest, []);
  assertEquals(conflict.column, "Sale Date");
  assertEquals(conflict.mdy, { line: 4, value: "12/25/2023" });
  assertEquals(conflict.dmy, undefined);
  assertStringIncludes(conflict.message, 'column "Sale Date" is written month first');
  assertStringIncludes(conflict.message, 'line 4 ("12/25/2023")');
  assertStringIncludes(conflict.message, 'Pass dateOrder "mdy"');
  // Month-first is what it proves: read so, nothing is wrong.
  assertEquals(evidence.conflicts("mdy"), []);
});

Deno.test("DateOrderEvidence: agreeing proof, or none, is no conflict", () => {
  const evidence = new DateOrderEvidence();
  evidence.see("Sale Date", "25/12/2023", 7);
  evidence.see("Expiry", "02/03/2024", 2);
  evidence.see("Expiry", "2024-03-02", 3);
  assertEquals(evidence.conflicts("dmy"), []);
  const proven = evidence.conflicts("mdy");
  assertEquals(proven.map((c) => [c.column, c.dmy]), [["Sale Date", {
    line: 7,
    value: "25/12/2023",
  }]]);
  assertStringIncludes(proven[0].message, 'Pass dateOrder "dmy"');
  assertEquals(new DateOrderEvidence().conflicts("dmy"), []);
});

Deno.test("DateOrderEvidence: a column holding both kinds conflicts with either order", () => {
  const evidence = new DateOrderEvidence();
  evidence.see("Sale Date", "12/25/2023", 3);
  evidence.see("Sale Date", "12/26/2023", 4);
  evidence.see("Sale Date", "25/12/2023", 9);
  evidence.see("Sale Date", "26/12/2023", 10);
  evidence.see("Expiry", "11/30/2026", 3);
  for (const order of ["dmy", "mdy"] as const) {
    const both = evidence.conflicts(order).find((c) => c.column === "Sale Date")!;
    assertEquals([both.mdy, both.dmy], [
      { line: 3, value: "12/25/2023" },
      { line: 9, value: "25/12/2023" },
    ]);
    assertStringIncludes(both.message, "mixes date orders");
    assertStringIncludes(both.message, 'dateOrder "dmy" or dateOrder "mdy"');
  }
  // Columns are judged apart: Expiry conflicts only with day-first.
  assertEquals(evidence.conflicts("dmy").map((c) => c.column), ["Sale Date", "Expiry"]);
  assertEquals(evidence.conflicts("mdy").map((c) => c.column), ["Sale Date"]);
});

Deno.test("readCsv onDateCell: the cells of the columns mapped to dates, as found, with their line", async () => {
  const file = "Rego,Sold,Expiry,Notes,Delivered\n" +
    "AB1, 12/25/2023 ,,01/02/2024,x\n" +
    "AB2,N/A,2026-01-31,,02/03/2024\n";
  const cells: [string, string, number][] = [];
  const rows = readCsv(new Blob([file]).stream(), {
    columns: { Delivered: "monitor_start_date" },
    onDateCell: (value, column, line) => cells.push([value, column, line]),
  });
  for await (const _ of rows) { /* the cells are what is looked at */ }
  assertEquals(cells, [
    [" 12/25/2023 ", "Sold", 2],
    ["x", "Delivered", 2],
    ["N/A", "Sold", 3],
    ["2026-01-31", "Expiry", 3],
    ["02/03/2024", "Delivered", 3],
  ]);
});
