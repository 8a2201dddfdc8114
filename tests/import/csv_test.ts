import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import fc from "fast-check";
import {
  CsvError,
  type CsvReadOptions,
  mapColumns,
  readCsv,
  type SourceRow,
} from "../../src/import/csv.ts";
import { RecaptureError } from "../../src/sdk/errors.ts";

const enc = new TextEncoder();

/** A byte stream of `text` cut at the given byte offsets (or in one piece). */
function bytes(text: string | Uint8Array, cuts: number[] = []): ReadableStream<Uint8Array> {
  const all = typeof text === "string" ? enc.encode(text) : text;
  const points = [...new Set(cuts.filter((c) => c > 0 && c < all.length))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, all.length]) {
    pieces.push(all.slice(at, p));
    at = p;
  }
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function read(
  text: string | Uint8Array | ReadableStream<Uint8Array> | ReadableStream<string>,
  options?: CsvReadOptions,
): Promise<SourceRow[]> {
  const stream = text instanceof ReadableStream ? text : bytes(text);
  const out: SourceRow[] = [];
  for await (const row of readCsv(stream, options)) out.push(row);
  return out;
}

async function csvError(text: string | Uint8Array, options?: CsvReadOptions): Promise<CsvError> {
  const e = await assertRejects(() => read(text, options), CsvError);
  assertInstanceOf(e, RecaptureError);
  assertEquals(e.code, "invalid_csv");
  return e;
}

const TRICKY = "\ufeffRego,State,Customer Name,Mobile,Sale Date,Notes\r\n" +
  'ABC123,nsw,"Smith, Jo",0412 345 678,01/03/2024,"said ""hi""\r\nthen left"\r\n' +
  "\r\n" +
  'XYZ9,VIC,Lee,,2024-02-29,"multi\nline\nnote"\r\n' +
  "  DEF1 , QLD ,  Ng  ,,45352,\r\n";

Deno.test("CSV: quoted fields, escaped quotes, embedded newlines and commas, BOM, CRLF", async () => {
  const rows = await read(TRICKY);
  assertEquals(rows.map((r) => r.customer), [
    {
      rego: "ABC123",
      state: "nsw",
      client_name: "Smith, Jo",
      mobile_number: "0412 345 678",
      sale_date: "2024-03-01",
      additional_fields: { Notes: 'said "hi"\r\nthen left' },
    },
    {
      rego: "XYZ9",
      state: "VIC",
      client_name: "Lee",
      sale_date: "2024-02-29",
      additional_fields: { Notes: "multi\nline\nnote" },
    },
    { rego: "DEF1", state: "QLD", client_name: "Ng", sale_date: "2024-03-01" },
  ]);
  // Physical lines: the first record spans lines 2-3, line 4 is blank, the second spans 5-7.
  assertEquals(rows.map((r) => r.line), [2, 5, 8]);
  assert(rows.every((r) => r.issues.length === 0));
});

Deno.test("CSV: the same rows whatever the chunking (cuts inside quotes, CRLF, UTF-8)", async () => {
  const text = TRICKY + 'Ü1,SA,"Zoë ""Z"" Ångström",,1 Mar 2024,"ünïcödé, ✓"\r\n';
  const expected = await read(text);
  assertEquals(expected.length, 4);
  assertEquals(expected[3].customer.client_name, 'Zoë "Z" Ångström');
  const size = enc.encode(text).length;
  // Every single cut point, then random sets of cuts.
  for (let cut = 1; cut < size; cut++) {
    assertEquals(await read(bytes(text, [cut])), expected, `cut at byte ${cut}`);
  }
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: size - 1 }), { maxLength: 40 }),
      async (cuts) => {
        assertEquals(await read(bytes(text, cuts)), expected);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("CSV: delimiters are detected: semicolon, tab, pipe; CR-only newlines", async () => {
  const want = [{ rego: "AB1", client_name: "Jo, Jr", additional_fields: { Colour: "red" } }];
  for (const d of [";", "\t", "|"]) {
    const text = `Plate${d}Name${d}Colour\nAB1${d}"Jo, Jr"${d}red\n`;
    assertEquals((await read(text)).map((r) => r.customer), want, JSON.stringify(d));
  }
  const cr = 'Plate,Name,Colour\rAB1,"Jo, Jr",red\r';
  assertEquals((await read(cr)).map((r) => [r.line, r.customer]), [[2, want[0]]]);
  // Forced delimiter: a semicolon file read with ",": one column, so no rego column is found.
  const e = await csvError("Rego;Name\nA1;Jo\n", { delimiter: "," });
  assertStringIncludes(e.message, 'delimiter ","');
});

Deno.test("CSV: text streams, windows-1252 and UTF-16LE files", async () => {
  const strings = new ReadableStream<string>({
    start(c) {
      c.enqueue("\ufeffrego,na");
      c.enqueue('me\nA1,"Jo');
      c.enqueue('"\n');
      c.close();
    },
  });
  assertEquals((await read(strings)).map((r) => r.customer), [{ rego: "A1", client_name: "Jo" }]);

  const latin1 = Uint8Array.from([
    ...enc.encode("rego,name\nA1,Zo"),
    0xeb, // ë in windows-1252
    0x0a,
  ]);
  const rows = await read(latin1, { encoding: "windows-1252" });
  assertEquals(rows[0].customer.client_name, "Zoë");

  const utf16 = new Uint8Array([0xff, 0xfe, ...new Uint8Array(16)]);
  const text = "rego\tname\nA1\tZoë\n";
  const body = new Uint8Array(2 + text.length * 2);
  body.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) {
    body[2 + 2 * i] = text.charCodeAt(i) & 0xff;
    body[3 + 2 * i] = text.charCodeAt(i) >> 8;
  }
  void utf16;
  assertEquals((await read(body)).map((r) => r.customer), [{ rego: "A1", client_name: "Zoë" }]);
});

Deno.test("CSV: default column names of common exports", () => {
  const t = (headers: string[]) => mapColumns(headers).map((c) => c.target);
  assertEquals(t(["Registration", "VIN", "Name", "Mobile", "Sale Date", "State", "Expiry"]), [
    "rego",
    "vin",
    "client_name",
    "mobile_number",
    "sale_date",
    "state",
    "expiry_date",
  ]);
  assertEquals(t(["Rego No.", "Chassis Number", "Customer Name", "Phone", "Date Sold"]), [
    "rego",
    "vin",
    "client_name",
    "mobile_number",
    "sale_date",
  ]);
  assertEquals(t(["Number Plate", "First Name", "Surname", "Customer ID"]), [
    "rego",
    "first_name",
    "last_name",
    "external_id",
  ]);
  // The API's own names mean themselves.
  assertEquals(t(["rego", "vin", "client_name", "monitor_start_date", "monitor_end_date"]), [
    "rego",
    "vin",
    "client_name",
    "monitor_start_date",
    "monitor_end_date",
  ]);
  // Two columns for one field: the more specific name wins, the other is kept as additional.
  assertEquals(t(["Phone", "Mobile"]), ["additional", "mobile_number"]);
  assertEquals(t(["Name", "Customer Name"]), ["additional", "client_name"]);
  assertEquals(t(["Rego", "Rego"]), ["rego", "additional"]);
  // Unknown and registration-expiry columns are additional: "Rego Expiry" is not the customer's.
  assertEquals(t(["Rego Expiry", "Colour", ""]), ["additional", "additional", "additional"]);
});

Deno.test("CSV: mapping rows: unknown columns, duplicate headers, first/last name, overrides", async () => {
  const text = "Vehicle Reg,First Name,Surname,Colour,Colour,,Mobile,Salesperson\n" +
    "AB1,Jo,Ng,red,blue,x,,Bob\n" +
    "AB2,,Ng,,,,0400,\n";
  const rows = await read(text, {
    columns: { "vehicle reg": "rego", salesperson: "ignore" },
  });
  assertEquals(rows.map((r) => r.customer), [
    {
      rego: "AB1",
      client_name: "Jo Ng",
      additional_fields: { Colour: "red", "Colour (2)": "blue", column_6: "x" },
    },
    { rego: "AB2", client_name: "Ng", mobile_number: "0400" },
  ]);
  // Without the defaults only named columns map.
  const plain = await read("Rego,vin_code\nAB1,V\n", {
    defaultColumns: false,
    columns: { vin_code: "vin" },
  });
  assertEquals(plain.map((r) => r.customer), [{ vin: "V", additional_fields: { Rego: "AB1" } }]);
  // A mapping to something that is not a field is refused, naming it.
  const e = await csvError("Rego\nA\n", { columns: { Rego: "plate" as "rego" } });
  assertStringIncludes(e.message, '"plate" is not a customer field');
  // onColumns reports the plan once.
  const seen: string[][] = [];
  await read("Plate,Colour\nA,b\n", { onColumns: (c) => seen.push(c.map((x) => x.target)) });
  assertEquals(seen, [["rego", "additional"]]);
});

Deno.test("CSV: unreadable dates become row issues naming line and column", async () => {
  const rows = await read(
    "Rego,Sale Date,Expiry\nA1,31/02/2024,2030-01-01\n\nA2,01/01/2024,soon\nA3,,\n",
  );
  assertEquals(rows.map((r) => r.customer), [
    { rego: "A1", expiry_date: "2030-01-01" },
    { rego: "A2", sale_date: "2024-01-01" },
    { rego: "A3" },
  ]);
  assertEquals(rows[0].issues, [{
    field: "sale_date",
    column: "Sale Date",
    reason:
      'Cannot read date "31/02/2024" on line 2, column "Sale Date": February 2024 has no day 31',
  }]);
  assertEquals(rows[1].issues.map((i) => [i.field, i.column]), [["expiry_date", "Expiry"]]);
  assertStringIncludes(rows[1].issues[0].reason, "on line 4,");
  assertEquals(rows[2].issues, []);
  // Month-first files.
  const us = await read("Rego,Sale Date\nA1,12/31/2023\n", { dateOrder: "mdy" });
  assertEquals(us[0].customer.sale_date, "2023-12-31");
});

Deno.test("CSV: blank lines and trailing delimiters are tolerated", async () => {
  const rows = await read("\n\nRego,Name,\nA1,Jo,,\n,,\n\nA2,Lee,\n");
  assertEquals(rows.map((r) => [r.line, r.customer.rego]), [[4, "A1"], [7, "A2"]]);
});

Deno.test("CSV: malformed files fail naming the line", async () => {
  // Unbalanced quote: the record that opens it.
  let e = await csvError('Rego,Name\nA1,Jo\nA2,"Lee\nA3,Ng\n');
  assertEquals(e.line, 3);
  assertStringIncludes(e.message, "Line 3: a quoted field is never closed");
  // A quote closed then followed by text.
  e = await csvError('Rego,Name\nA1,Jo\nA2,"Lee"x\n');
  assertEquals(e.line, 3);
  assertStringIncludes(e.message, "malformed quotes");
  // Ragged rows, short and long.
  e = await csvError("Rego,Name,Mobile\nA1,Jo,1\nA2,Lee\n");
  assertEquals([e.line, e.message], [
    3,
    "Line 3: 2 fields where the header has 3 (a ragged row: a stray delimiter or quote?)",
  ]);
  e = await csvError('Rego,Name\nA1,Jo\n"A\nB",Lee,x\n');
  assertEquals(e.line, 3);
  // Binary data.
  e = await csvError(Uint8Array.from([...enc.encode("Rego,Name\nA1,Jo\nA2,"), 0, 1, 2, 10]));
  assertEquals(e.line, 3);
  assertStringIncludes(e.message, "binary data");
  e = await csvError(Uint8Array.from([0x50, 0x4b, 3, 4, 20, 0, 6, 0]));
  assertStringIncludes(e.message, "Excel .xlsx");
  e = await csvError(Uint8Array.from([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31]));
  assertStringIncludes(e.message, "PDF");
  // Empty, or no rego/VIN column.
  assertStringIncludes((await csvError("")).message, "the file is empty");
  assertStringIncludes((await csvError("\n \n")).message, "the file is empty");
  e = await csvError("Customer,Phone\nJo,1\n");
  assertStringIncludes(
    e.message,
    'no column for a rego or a VIN in the header ("Customer", "Phone"',
  );
  // A record that never ends (a quote opened early in a big file) stops at the limit.
  const endless = 'Rego,Name\nA1,"' + "x,y\n".repeat(5000);
  e = await csvError(endless, { maxRecordLength: 4096 });
  assertEquals(e.line, 2);
  assertStringIncludes(e.message, "longer than 4096 characters");
});

Deno.test("CSV: rows before a malformed line are read; breaking off cancels the stream", async () => {
  const got: string[] = [];
  await assertRejects(async () => {
    for await (const row of readCsv(bytes('Rego\nA1\nA2\n"A3\nA4\n'))) {
      got.push(row.customer.rego!);
    }
  }, CsvError);
  assertEquals(got, ["A1", "A2"]);

  // A real file: leaving the loop early must close it (the test's resource sanitizer checks).
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, "Rego\n" + "A1\n".repeat(100_000));
    const file = await Deno.open(path);
    let n = 0;
    for await (const _ of readCsv(file.readable)) if (++n === 10) break;
    assertEquals(n, 10);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("CSV: a signal stops reading with its reason", async () => {
  const controller = new AbortController();
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(enc.encode(pulled++ === 0 ? "Rego\n" : "A1\nA2\n"));
    },
  });
  let n = 0;
  const e = await assertRejects(async () => {
    for await (const _ of readCsv(endless, { signal: controller.signal })) {
      if (++n === 5) controller.abort(new Error("stop now"));
    }
  });
  assertEquals(e.message, "stop now");
  assert(n >= 5 && n <= 6);
});

Deno.test("CSV: the reader answers calls in order, as an async generator does", async () => {
  // 2,500 rows (more than one internal batch) with a bad record at line 2,502.
  const text = "Rego\n" + Array.from({ length: 2500 }, (_, i) => `A${i}\n`).join("") + '"bad\n';
  const cuts = Array.from({ length: 40 }, (_, i) => i * 397);

  // Calls made all at once are answered in order, one row each.
  const rows = readCsv(bytes(text, cuts));
  assertEquals(rows[Symbol.asyncIterator](), rows);
  const first = await Promise.all(Array.from({ length: 1500 }, () => rows.next()));
  assertEquals(
    first.map((r) => r.done ? "done" : r.value.customer.rego),
    first.map((_, i) => `A${i}`),
  );
  assertEquals(first.map((r) => r.done ? 0 : r.value.line).slice(-2), [1500, 1501]);
  // Then the rest, the error after the last good row, then nothing more.
  const rest: string[] = [];
  const error = await assertRejects(async () => {
    for (let r = await rows.next(); !r.done; r = await rows.next()) {
      rest.push(r.value.customer.rego!);
    }
  }, CsvError);
  assertEquals(error.line, 2502);
  assertEquals(rest.length, 1000);
  assertEquals(rest.at(-1), "A2499");
  assertEquals(await rows.next(), { value: undefined, done: true });

  // return() queued behind pending calls: they get their rows, then the stream is cancelled.
  let cancelled = false;
  const source = bytes(text, cuts);
  const reader = source.getReader();
  const watched = new ReadableStream<Uint8Array>({
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel() {
      cancelled = true;
      return reader.cancel();
    },
  });
  const early = readCsv(watched);
  const [a, b, closed, after] = await Promise.all([
    early.next(),
    early.next(),
    early.return(),
    early.next(),
  ]);
  assertEquals([a.done ? "" : a.value.customer.rego, b.done ? "" : b.value.customer.rego], [
    "A0",
    "A1",
  ]);
  assertEquals([closed, after], [{ value: undefined, done: true }, {
    value: undefined,
    done: true,
  }]);
  assert(cancelled, "return() cancels the stream");

  // throw() rejects with its error and closes the reader; a reader never started reads nothing.
  const thrown = readCsv(bytes(text));
  await thrown.next();
  const reason = new Error("stop");
  assertEquals(await assertRejects(() => thrown.throw(reason)), reason);
  assertEquals(await thrown.next(), { value: undefined, done: true });
  let pulled = false;
  const untouched = readCsv(
    new ReadableStream<Uint8Array>({ pull: () => void (pulled = true) }, { highWaterMark: 0 }),
  );
  assertEquals(await untouched.return(), { value: undefined, done: true });
  assertEquals(await untouched.next(), { value: undefined, done: true });
  assert(!pulled);
});
