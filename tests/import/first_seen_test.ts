// FirstSeen (src/import/_first_seen.ts), the duplicate checks' table of texts by hash, answers
// as a Map of the texts themselves would: where each key was first seen and whether its detail
// is the one recorded then, null the first time; through its growth, with keys repeated near
// and far apart, empty and long.

import fc from "fast-check";
import { assertEquals } from "@std/assert";
import { FirstSeen, type FirstSight } from "../../src/import/_first_seen.ts";

function agrees(entries: [string, string][], lines: boolean): void {
  const table = new FirstSeen();
  const model = new Map<string, { row: number; line: number | undefined; detail: string }>();
  entries.forEach(([key, detail], row) => {
    const line = lines ? row * 2 + 1 : undefined;
    const seen = model.get(key);
    let expected: FirstSight | null = null;
    if (seen === undefined) model.set(key, { row, line, detail });
    else expected = { row: seen.row, line: seen.line, sameDetail: seen.detail === detail };
    assertEquals(table.first(key, detail, row, line), expected, `row ${row}: ${key}`);
  });
}

Deno.test("property: FirstSeen answers as a Map of the texts", () => {
  // Few distinct keys (many repeats) and many (the table grows from 1,024 slots, several
  // times); details drawn from a few, so that the same key comes back with the same and others.
  const text = fc.string({ unit: "binary", maxLength: 30 });
  const entries = (keys: number, length: number) =>
    fc.tuple(
      fc.array(text, { minLength: 1, maxLength: keys }),
      fc.array(text, { minLength: 1, maxLength: 3 }),
    ).chain(([pool, details]) =>
      fc.array(fc.tuple(fc.constantFrom(...pool), fc.constantFrom(...details)), {
        minLength: length,
        maxLength: length,
      })
    );
  fc.assert(
    fc.property(fc.oneof(entries(20, 300), entries(6000, 8000)), fc.boolean(), agrees),
    { numRuns: 40 },
  );
});

Deno.test("FirstSeen: 100,000 distinct keys, then each again in another order", () => {
  const keys = Array.from({ length: 100_000 }, (_, i) => `{"rego":"R${i}","state":"NSW"}`);
  const table = new FirstSeen();
  keys.forEach((key, row) => assertEquals(table.first(key, `d${row}`, row, row + 2), null));
  for (let i = 0; i < keys.length; i += 7) {
    const row = (i * 7919) % keys.length;
    assertEquals(table.first(keys[row], `d${row}`, -1, undefined), {
      row,
      line: row + 2,
      sameDetail: true,
    });
    assertEquals(table.first(keys[row], "", -1, undefined)?.sameDetail, false);
  }
  assertEquals(table.first("", "", 5, undefined), null);
  assertEquals(table.first("", "", 6, 9), { row: 5, line: undefined, sameDetail: true });
});
