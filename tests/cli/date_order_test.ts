// A date column's order is proven by the column (a subprocess on a sandbox KV file): without
// --date-order, a column that proves month-first, or holds both kinds, refuses upload and
// validate before anything is sent; --date-order given, or no proof against it, changes nothing.

import { assertEquals, assertStringIncludes } from "@std/assert";
import { type Run, runCli } from "./_run.ts";

const cli = (dir: string, ...args: string[]): Promise<Run> => runCli(dir, args, { kv: "sb.kv" });

const HEADER = "Rego,State,Customer Name,Sale Date\n";
/** The reviewer's file: line 3 reads either way, line 4 only month first. */
const REVIEWED = HEADER + "AAA111,NSW,Bo,2024-01-05\n" + "ABC123,NSW,Jo,02/03/2024\n" +
  "XYZ789,VIC,Al,12/25/2023\n";

async function withFile(text: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "recapture_dateorder_" });
  try {
    await Deno.writeTextFile(`${dir}/sales.csv`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function parsed(run: Run): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

async function saleDates(dir: string): Promise<Record<string, string>> {
  const list = parsed(await cli(dir, "customers", "list", "--json"));
  const out: Record<string, string> = {};
  for (const c of list.customers as { rego: string; sale_date: string }[]) {
    out[c.rego] = c.sale_date;
  }
  return out;
}

Deno.test("cli date order: a column proven month-first is refused under the default, nothing sent", () =>
  withFile(REVIEWED, async (dir) => {
    const upload = await cli(dir, "upload", "sales.csv");
    assertEquals(upload.code, 2, upload.stderr);
    assertStringIncludes(
      upload.stderr,
      'column "Sale Date" is written month first: line 4 ("12/25/2023") can only be read ' +
        "month first, but dates are read day first",
    );
    assertStringIncludes(upload.stderr, "Pass --date-order mdy. Nothing was sent");
    assertEquals(await saleDates(dir), {});
    // No manifest: nothing was sent.
    assertEquals(await Deno.stat(`${dir}/sales.csv.recapture.json`).catch(() => null), null);
    // validate says the same.
    const validate = await cli(dir, "validate", "sales.csv", "--json");
    assertEquals(validate.code, 2, validate.stderr);
    const error = parsed(validate).error as { code: string; message: string };
    assertEquals(error.code, "usage");
    assertStringIncludes(error.message, 'line 4 ("12/25/2023")');
    assertStringIncludes(error.message, "--date-order mdy");
  }));

Deno.test("cli date order: --date-order mdy given, no refusal and 02/03/2024 is February 3", () =>
  withFile(REVIEWED, async (dir) => {
    const upload = await cli(dir, "upload", "sales.csv", "--date-order", "mdy");
    assertEquals(upload.code, 0, upload.stderr);
    assertEquals(await saleDates(dir), {
      AAA111: "2024-01-05",
      ABC123: "2024-02-03",
      XYZ789: "2023-12-25",
    });
  }));

Deno.test("cli date order: --date-order dmy given, no pre-pass: the month-first value is a bad row", () =>
  withFile(REVIEWED, async (dir) => {
    const run = await cli(dir, "validate", "sales.csv", "--date-order", "dmy", "--json");
    assertEquals(run.code, 4, run.stderr);
    const r = parsed(run);
    assertEquals([r.rows, r.valid, r.bad], [3, 2, 1]);
    assertEquals((r.bad_rows as { line: number }[]).map((b) => b.line), [4]);
  }));

Deno.test("cli date order: a day-first proof agrees with the default: sent as before", () =>
  withFile(
    HEADER + "ABC123,NSW,Jo,02/03/2024\n" + "XYZ789,VIC,Al,25/12/2023\n",
    async (dir) => {
      const validate = await cli(dir, "validate", "sales.csv");
      assertEquals(validate.code, 0, validate.stderr);
      const upload = await cli(dir, "upload", "sales.csv");
      assertEquals(upload.code, 0, upload.stderr);
      assertEquals(await saleDates(dir), { ABC123: "2024-03-02", XYZ789: "2023-12-25" });
    },
  ));

Deno.test("cli date order: a column holding both kinds is refused, naming both lines", () =>
  withFile(
    HEADER + "ABC123,NSW,Jo,12/25/2023\n" + "XYZ789,VIC,Al,02/03/2024\n" +
      "DEF456,QLD,Mo,25/12/2023\n",
    async (dir) => {
      for (const command of ["validate", "upload"]) {
        const run = await cli(dir, command, "sales.csv");
        assertEquals(run.code, 2, run.stderr);
        assertStringIncludes(
          run.stderr,
          'column "Sale Date" mixes date orders: line 2 ("12/25/2023") can only be month first ' +
            'and line 4 ("25/12/2023") only day first',
        );
        assertStringIncludes(run.stderr, "--date-order dmy or --date-order mdy");
      }
      assertEquals(await saleDates(dir), {});
    },
  ));

Deno.test("cli date order: only ambiguous dates: read day first, as before", () =>
  withFile(
    HEADER + "ABC123,NSW,Jo,02/03/2024\n" + "XYZ789,VIC,Al,11/12/2023\n",
    async (dir) => {
      const upload = await cli(dir, "upload", "sales.csv");
      assertEquals(upload.code, 0, upload.stderr);
      assertEquals(await saleDates(dir), { ABC123: "2024-03-02", XYZ789: "2023-12-11" });
    },
  ));

Deno.test("cli date order: a column mapped by --map is judged; one left unmapped is not", () =>
  withFile(
    "Rego,State,Handover\nABC123,NSW,02/03/2024\nXYZ789,VIC,12/25/2023\n",
    async (dir) => {
      // Unmapped, Handover goes to additional_fields as written: no date, no proof.
      assertEquals((await cli(dir, "validate", "sales.csv")).code, 0);
      const mapped = await cli(dir, "validate", "sales.csv", "--map", "Handover=sale_date");
      assertEquals(mapped.code, 2, mapped.stderr);
      assertStringIncludes(mapped.stderr, 'column "Handover" is written month first: line 3');
    },
  ));
