// The upload body's writer (src/sdk/_body_size.ts): its UTF-8 count is TextEncoder's on any
// text; it refuses the row that takes it past the limit and reports its exact size, whatever the
// text (three bytes a UTF-16 unit near the limit included); rows whose JSON bulkUpload wrote
// (withJson) are joined as written; holes of a sparse array are left out, as they always were;
// a row past the limit stops it at its index.

import fc from "fast-check";
import { assertEquals } from "@std/assert";
import { UploadBody, utf8Bytes, withJson } from "../../src/sdk/_body_size.ts";

Deno.test("property: utf8Bytes is the length TextEncoder writes", () => {
  const encoder = new TextEncoder();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.string({ unit: "binary", minLength: 5000, maxLength: 7000 }), // past the scratch buffer
        fc.constantFrom("\ud800", "a\udc00b", "\ud83d\ude97", "€".repeat(5462), "x".repeat(16_385)),
      ),
      (text) => assertEquals(utf8Bytes(text), encoder.encode(text).byteLength),
    ),
    { numRuns: 2000 },
  );
});

Deno.test("UploadBody.addAll: written JSON joined as it is, holes left out, stops at the row past the limit", () => {
  const rows = [{ rego: "A1" }, { rego: "B2" }];
  const written = new UploadBody({ name: "n" }, 1000);
  assertEquals(written.addAll(withJson(rows, ['{"rego":"A1"}', '{"as":"written"}'])), -1);
  assertEquals(written.text(), '{"name":"n","customers":[{"rego":"A1"},{"as":"written"}]}');

  const sparse: unknown[] = [];
  sparse[1] = { rego: "C3" };
  const body = new UploadBody({ name: "n" }, 1000);
  assertEquals(body.addAll(sparse), -1);
  assertEquals(body.text(), '{"name":"n","customers":[{"rego":"C3"}]}');
  assertEquals([body.rows, body.bytes], [1, body.text().length]);

  const small = new UploadBody({ name: "n" }, 40);
  assertEquals(small.addAll([{ rego: "A1" }, { rego: "B2" }, { rego: "C3" }]), 1);
  assertEquals(small.text(), '{"name":"n","customers":[{"rego":"A1"}]}');
});

Deno.test("property: the body refuses the row and reports the size that counting every row exactly gives", () => {
  const encoder = new TextEncoder();
  const size = (text: string) => encoder.encode(text).byteLength;
  // Mostly three bytes a UTF-16 unit: the bound is tight.
  const heavy = fc.array(fc.constantFrom("€", "한", "€", "a"), { minLength: 20, maxLength: 80 })
    .map((c) => c.join(""));
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom("€€€", "🚗", "x".repeat(300)),
    heavy,
  );
  const lists = fc.oneof(
    fc.array(value, { maxLength: 30 }),
    fc.array(heavy, { minLength: 5, maxLength: 40 }),
  );
  fc.assert(
    fc.property(
      lists,
      fc.integer({ min: 20, max: 6000 }),
      (names, limit) => {
        const rows = names.map((name) => ({ name }));
        const body = new UploadBody({ name: "n" }, limit);
        const stoppedAt = body.addAll(rows);
        // Every row counted as it comes, in bytes TextEncoder writes.
        let bytes = size('{"name":"n","customers":[') + 2;
        let expected = -1;
        for (const [i, row] of rows.entries()) {
          const more = size(JSON.stringify(row)) + (i === 0 ? 0 : 1);
          if (bytes + more > limit) {
            expected = i;
            break;
          }
          bytes += more;
        }
        assertEquals(stoppedAt, expected);
        assertEquals(body.bytes, bytes);
        assertEquals(body.bytes, size(body.text()));
      },
    ),
    { numRuns: 3000 },
  );
});
