// The rules that read ASCII by character codes (src/sdk/schemas.ts: FIELD_RULES.rego,
// FIELD_RULES.mobile_number, isValidDate) agree with their plain forms, written here with the
// regular expressions they stand for, on any text: ASCII either case, every kind of space,
// letters that upper-case to ASCII (ß, ſ, ı), surrogates, and whatever fast-check makes.

import fc from "fast-check";
import { assertEquals } from "@std/assert";
import { DATE_PATTERN, FIELD_RULES, isValidDate } from "../../src/sdk/schemas.ts";

const plainRego = (value: string): string | null =>
  /^[A-Z0-9]{1,10}$/.test(value.replace(/[\s-]+/g, "").toUpperCase())
    ? null
    : "must be 1 to 10 letters and digits (spaces and dashes aside)";

const plainMobile = (value: string): string | null => {
  const digits = value.replace(/[^0-9]/g, "").length;
  return /^\+?[0-9 ()-]+$/.test(value) && digits >= 6 && digits <= 15
    ? null
    : "must be a phone number of 6 to 15 digits";
};

/** A real date by the pattern and the calendar of `Date` (which rolls 2025-02-30 over). */
const plainDate = (s: string): boolean => {
  const m = DATE_PATTERN.exec(s);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
};

/** Text from the characters each rule turns on, and from anywhere in Unicode. */
function textOf(chars: string[], maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.array(fc.constantFrom(...chars), { maxLength }).map((parts) => parts.join("")),
    fc.string({ unit: "binary", maxLength }),
    fc.string({ maxLength }),
  );
}

const SPACES = [" ", "\t", "\n", "\v", "\f", "\r", "\u00a0", "\u2003", "\u2028", "\ufeff"];
const BEYOND_ASCII = ["ß", "ſ", "ı", "é", "Ä", "\u212a", "\ud83d\ude97", "\ud800", "\u0085"];

Deno.test("property: FIELD_RULES.rego agrees with its regular expressions", () => {
  const chars = [..."aAbBzZ0159-_./#+", "\u007f", ...SPACES, ...BEYOND_ASCII];
  fc.assert(
    fc.property(textOf(chars, 16), (value) => {
      assertEquals(FIELD_RULES.rego(value), plainRego(value), JSON.stringify(value));
    }),
    { numRuns: 20_000 },
  );
  for (const value of ["", "-", "A", "ABCDEFGHIJ", "ABCDEFGHIJK", "ab-12 cd", "\tA\r", "ßA"]) {
    assertEquals(FIELD_RULES.rego(value), plainRego(value), JSON.stringify(value));
  }
});

Deno.test("property: FIELD_RULES.mobile_number agrees with its regular expressions", () => {
  const chars = [..."0123456789 ()-+x.", ...SPACES.slice(1), ...BEYOND_ASCII, "\uff10"];
  fc.assert(
    fc.property(textOf(chars, 22), (value) => {
      assertEquals(FIELD_RULES.mobile_number(value), plainMobile(value), JSON.stringify(value));
    }),
    { numRuns: 20_000 },
  );
  for (
    const value of ["", "+", "++123456", "123456", "12345", "+61 (4) 1234-5678", "1".repeat(16)]
  ) {
    assertEquals(FIELD_RULES.mobile_number(value), plainMobile(value), JSON.stringify(value));
  }
});

Deno.test("property: isValidDate agrees with DATE_PATTERN and the calendar", () => {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  const shaped = fc.tuple(
    fc.integer({ min: 0, max: 9999 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
  ).map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
  const chars = [..."0123456789-/: ", "\u0660", "\uff10", "\n"];
  // A shaped date with one character replaced: the digits' neighbours / and :, others.
  const touched = fc.tuple(shaped, fc.nat(9), fc.constantFrom(...chars)).map(([s, at, c]) =>
    s.slice(0, at) + c + s.slice(at + 1)
  );
  fc.assert(
    fc.property(fc.oneof(shaped, touched, textOf(chars, 12)), (s) => {
      assertEquals(isValidDate(s), plainDate(s), JSON.stringify(s));
    }),
    { numRuns: 20_000 },
  );
  for (const s of ["2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-01-01"]) {
    assertEquals(isValidDate(s), plainDate(s), s);
  }
});
