// The upload body's writer (src/sdk/_body_size.ts): its UTF-8 count is TextEncoder's on any
// text; rows whose JSON bulkUpload wrote (withJson) are joined as written; holes of a sparse
// array are left out, as they always were; a row past the limit stops it at its index.

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
