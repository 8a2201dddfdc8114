import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { NdjsonError, readNdjson, type SourceRow } from "../../src/import/csv.ts";

const enc = new TextEncoder();

async function read(text: string, cut = 0): Promise<SourceRow[]> {
  const all = enc.encode(text);
  const pieces = cut > 0 ? [all.slice(0, cut), all.slice(cut)] : [all];
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = pieces.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  const out: SourceRow[] = [];
  for await (const row of readNdjson(stream)) out.push(row);
  return out;
}

const FILE = '{"rego":"ABC123","state":"nsw","sale_date":"01/03/2024","colour":"red"}\r\n' +
  "\n" +
  '{"Rego":"X1","Customer Name":"Zoë","Mobile":412345678,"Sale Date":45352,' +
  '"additional_fields":{"stock":"S1"},"vin":null}\n' +
  '{"VIN":"1HGCM82633A004352","First Name":"Jo","Surname":"Ng","expiry_date":"2030-01-01"}';

Deno.test("NDJSON: fields, mapped names, additional fields, numbers, blank lines, no final newline", async () => {
  const want = [
    {
      line: 1,
      customer: {
        rego: "ABC123",
        state: "nsw",
        sale_date: "2024-03-01",
        additional_fields: { colour: "red" },
      },
      issues: [],
    },
    {
      line: 3,
      customer: {
        rego: "X1",
        client_name: "Zoë",
        mobile_number: "412345678",
        sale_date: "2024-03-01",
        additional_fields: { stock: "S1" },
      },
      issues: [],
    },
    {
      line: 4,
      customer: { vin: "1HGCM82633A004352", client_name: "Jo Ng", expiry_date: "2030-01-01" },
      issues: [],
    },
  ];
  assertEquals(await read(FILE), want);
  const size = enc.encode(FILE).length;
  for (let cut = 1; cut < size; cut++) assertEquals(await read(FILE, cut), want, `cut ${cut}`);
});

Deno.test("NDJSON: unreadable values become row issues naming line and column", async () => {
  const rows = await read('{"rego":"A1","sale_date":"31/02/2024","state":["NSW"]}\n');
  assertEquals(rows[0].customer, { rego: "A1" });
  assertEquals(rows[0].issues.map((i) => [i.field, i.column]), [
    ["sale_date", "sale_date"],
    ["state", "state"],
  ]);
  assertStringIncludes(rows[0].issues[0].reason, 'on line 1, column "sale_date"');
  assertStringIncludes(rows[0].issues[1].reason, "expected text, found an array");
});

Deno.test("NDJSON: malformed lines fail naming the line", async () => {
  let e = await assertRejects(() => read('{"rego":"A1"}\n{"rego": oops}\n'), NdjsonError);
  assertEquals(e.line, 2);
  assertStringIncludes(e.message, "Line 2: not valid JSON");
  e = await assertRejects(() => read('{"rego":"A1"}\n\n["A2"]\n'), NdjsonError);
  assertEquals([e.line, e.code], [3, "invalid_ndjson"]);
  assertStringIncludes(e.message, "expected a JSON object (one customer per line), found an array");
  e = await assertRejects(() => read("42\n"), NdjsonError);
  assertStringIncludes(e.message, "found number");
  e = await assertRejects(() => read('{"rego":"A1"}\n{"re\0go"\n'), NdjsonError);
  assertStringIncludes(e.message, "Line 2: binary data");
});
