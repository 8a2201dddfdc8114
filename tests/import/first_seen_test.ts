// FirstSeen (src/import/_first_seen.ts), the duplicate checks' table of texts by hash, answers
// as a Map of the texts themselves would: where each text was first seen, null the first time;
// through its growth, with texts repeated near and far apart, empty and long.

import fc from "fast-check";
import { assertEquals } from "@std/assert";
import { FirstSeen, type Seen } from "../../src/import/_first_seen.ts";

function agrees(texts: string[], lines: boolean): void {
  const table = new FirstSeen();
  const model = new Map<string, Seen>();
  texts.forEach((text, row) => {
    const line = lines ? row * 2 + 1 : undefined;
    const expected = model.get(text) ?? null;
    if (expected === null) model.set(text, { row, line });
    assertEquals(table.first(text, row, line), expected, `row ${row}: ${JSON.stringify(text)}`);
  });
}

Deno.test("property: FirstSeen answers as a Map of the texts", () => {
  // Few distinct texts (many repeats) and many (the table grows from 1,024 slots, several times).
  const pool = (size: number) =>
    fc.array(fc.string({ unit: "binary", maxLength: 30 }), { minLength: 1, maxLength: size });
  const picks = (size: number, length: number) =>
    pool(size).chain((texts) =>
      fc.array(fc.constantFrom(...texts), { minLength: length, maxLength: length })
    );
  fc.assert(
    fc.property(fc.oneof(picks(20, 300), picks(6000, 8000)), fc.boolean(), agrees),
    { numRuns: 40 },
  );
});

Deno.test("FirstSeen: 100,000 distinct rows, then each again in another order", () => {
  const texts = Array.from({ length: 100_000 }, (_, i) => `{"rego":"R${i}","state":"NSW"}`);
  const table = new FirstSeen();
  texts.forEach((text, row) => assertEquals(table.first(text, row, row + 2), null));
  for (let i = 0; i < texts.length; i += 7) {
    const row = (i * 7919) % texts.length;
    assertEquals(table.first(texts[row], -1, undefined), { row, line: row + 2 });
  }
  assertEquals(table.first("", 5, undefined), null);
  assertEquals(table.first("", 6, 9), { row: 5, line: undefined });
});
