// Exports in the shapes of real dealer systems (tests/fixtures/dealer_exports/*.csv), each with
// its mapping report, bad rows, warnings and stored customers written out by hand beside it
// (*.expected.json). Read with readCsv, sent with bulkUpload to an in-memory sandbox, and the
// customers each upload really created listed back by upload_id.

import { assert, assertEquals } from "@std/assert";
import { type BadRow, bulkUpload, type RowWarning } from "../../src/import/bulk.ts";
import { RecaptureClient } from "../../src/sdk/client.ts";
import {
  type ColumnReport,
  columnReport,
  type CsvReadOptions,
  readCsv,
} from "../../src/import/csv.ts";
import type { Customer } from "../../src/sdk/schemas.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

const DIR = new URL("../fixtures/dealer_exports/", import.meta.url);

interface Expected {
  about: string;
  options: Pick<CsvReadOptions, "skipMalformed">;
  columns: {
    mapped: { header: string; field: string; by: string; caution?: boolean }[];
    additional: string[];
    ignored: string[];
    nearMisses: [string, string][];
  };
  bad: { line: number; fields: string[] }[];
  warnings: { line: number; kind: string; skipped: boolean; first_line?: number }[];
  stored: Record<string, unknown>[];
  /** Rows sent that the API refused while processing (counted in its total_errors). */
  processing_errors?: number;
}

const FIELDS = [
  "rego",
  "state",
  "vin",
  "client_name",
  "mobile_number",
  "sale_date",
  "expiry_date",
  "additional_fields",
] as const;

/** The fields a fixture states, of a stored customer (nulls left out). */
function stated(c: Customer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const value = c[f];
    if (value === null || value === undefined) continue;
    if (typeof value === "object" && Object.keys(value).length === 0) continue;
    out[f] = value;
  }
  return out;
}

const FIXTURES = [
  "dms_stockbook",
  "semicolon_dms",
  "crm_pipe",
  "multiline_names",
  "excel_trailing",
  "ragged_lines",
];

for (const name of FIXTURES) {
  Deno.test(`dealer export ${name}: mapping report, bad rows, warnings and stored customers`, async () => {
    const expected: Expected = JSON.parse(
      await Deno.readTextFile(new URL(`${name}.expected.json`, DIR)),
    );
    const sandbox = await createSandbox();
    try {
      const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
      const file = await Deno.open(new URL(`${name}.csv`, DIR));
      let report: ColumnReport | undefined;
      const bad: BadRow[] = [];
      const warnings: RowWarning[] = [];
      const result = await bulkUpload(
        client,
        readCsv(file.readable, { ...expected.options, onColumns: (p) => report = columnReport(p) }),
        {
          name,
          waitForProcessing: true,
          pollIntervalMs: 5,
          onBadRow: (b) => bad.push(b),
          onWarning: (w) => warnings.push(w),
        },
      );
      // The mapping report.
      assert(report !== undefined);
      assertEquals(
        report.mapped.map((m) => ({
          header: m.header,
          field: m.field,
          by: m.by,
          ...(m.caution ? { caution: true } : {}),
        })),
        expected.columns.mapped,
      );
      assertEquals(report.additional.map((a) => a.header), expected.columns.additional);
      assertEquals(report.ignored, expected.columns.ignored);
      assertEquals(
        report.nearMisses.map((n) => [n.header, n.field]),
        expected.columns.nearMisses,
      );
      // Bad rows and warnings, by physical line.
      assertEquals(
        bad.sort((a, b) => a.index - b.index).map((b) => ({
          line: b.line!,
          fields: b.issues.map((i) => i.field),
        })),
        expected.bad,
      );
      assertEquals(
        warnings.sort((a, b) => a.index - b.index).map((w) => ({
          line: w.line!,
          kind: w.kind,
          skipped: w.skipped,
          ...(w.first?.line !== undefined ? { first_line: w.first.line } : {}),
        })),
        expected.warnings,
      );
      // What the uploads really created, listed by upload_id, in creation order.
      const stored: Record<string, unknown>[] = [];
      for (const entry of result.manifest.uploads) {
        if (entry.upload_id === null) continue;
        for await (const c of client.customers.iterate({ upload_id: entry.upload_id })) {
          stored.push(stated(c));
        }
      }
      assertEquals(stored, expected.stored);
      // Every data row is accounted for exactly once.
      const errors = expected.processing_errors ?? 0;
      const skipped = warnings.filter((w) => w.skipped).length;
      assertEquals(result.progress.rowsRead, stored.length + bad.length + skipped + errors);
      assertEquals(result.progress.processed, stored.length + errors);
      assertEquals(result.progress.errors, errors);
    } finally {
      await sandbox.idle();
      await sandbox.close();
    }
  });
}

Deno.test("dealer export: --map fixes every near-miss the report names", async () => {
  const headers = ["Stock No", "Rego", "St", "VIN", "Customer", "Mobile Ph", "Delivery"];
  const { mapColumns } = await import("../../src/import/csv.ts");
  const before = columnReport(mapColumns(headers));
  const columns = Object.fromEntries(before.nearMisses.map((n) => [n.header, n.field]));
  const after = columnReport(mapColumns(headers, { columns }));
  assertEquals(after.nearMisses, []);
  assertEquals(
    after.mapped.filter((m) => m.by === "option").map((m) => [m.header, m.field]),
    [["St", "state"], ["Mobile Ph", "mobile_number"], ["Delivery", "sale_date"]],
  );
});

Deno.test("column report: a second column naming a field already fed is said to repeat it", async () => {
  const { mapColumns } = await import("../../src/import/csv.ts");
  // Found in review: a repeated `Rego` went quietly to additional_fields as "Rego (2)".
  const report = columnReport(mapColumns(["Rego", "State", "Rego", "Registration"]));
  assertEquals(report.mapped.map((m) => [m.header, m.field]), [["Rego", "rego"], [
    "State",
    "state",
  ]]);
  assertEquals(report.additional, [
    { header: "Rego", key: "Rego (2)", repeats: { field: "rego", by: "Rego" } },
    { header: "Registration", key: "Registration", repeats: { field: "rego", by: "Rego" } },
  ]);
  // A column with no field of its own is not said to repeat anything.
  const plain = columnReport(mapColumns(["Rego", "Colour"]));
  assertEquals(plain.additional, [{ header: "Colour", key: "Colour" }]);
});
