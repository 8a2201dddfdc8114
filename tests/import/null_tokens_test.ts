// isNullToken (src/import/columns.ts) looks a value up only when its first character can start
// a null token; it agrees with the plain rule, `NULL_TOKENS.has(value.toLowerCase())` for a value
// of at most 4 characters, on any text, and no character beyond ASCII lower-cases into one.

import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import { isNullToken, NULL_TOKENS } from "../../src/import/columns.ts";

const plain = (value: string) => value.length <= 4 && NULL_TOKENS.has(value.toLowerCase());

Deno.test("property: isNullToken agrees with the plain rule", () => {
  // The tokens' characters in either case, their neighbours, and letters beyond ASCII that
  // lower-case to ASCII (K, the Kelvin sign, to k; İ to i and a combining dot).
  const chars = [..."nN/aA#-oOeEuUlLmMbB. ", "\u212a", "\u0130", "\u00d1"];
  const text = fc.oneof(
    fc.array(fc.constantFrom(...chars), { maxLength: 5 }).map((parts) => parts.join("")),
    fc.constantFrom(...NULL_TOKENS).map((token) =>
      [...token].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join("")
    ),
    fc.string({ unit: "binary", maxLength: 5 }),
  );
  fc.assert(
    fc.property(text, (value) => {
      assertEquals(isNullToken(value), plain(value), JSON.stringify(value));
    }),
    { numRuns: 20_000 },
  );
  for (const value of ["N/A", "#n/A", "-", "--", "NONE", "Null", "NSW", "NT", "", "nul"]) {
    assertEquals(isNullToken(value), plain(value), value);
  }
});

Deno.test("no character beyond ASCII lower-cases to a character that starts a null token", () => {
  const starts = new Set([...NULL_TOKENS].map((token) => token[0]));
  for (let code = 128; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const lower = String.fromCodePoint(code).toLowerCase();
    assert(!starts.has(lower[0]), `U+${code.toString(16)} lower-cases to ${lower}`);
  }
});
