import { assertEquals, assertInstanceOf, assertStringIncludes, assertThrows } from "@std/assert";
import fc from "fast-check";
import { DateParseError, excelSerialToDate, parseDate } from "../../src/import/dates.ts";
import { RecaptureError } from "../../src/sdk/errors.ts";

Deno.test("parseDate reads ISO dates and keeps the date as written", () => {
  assertEquals(parseDate("2024-03-01"), "2024-03-01");
  assertEquals(parseDate(" 2024-3-1 "), "2024-03-01");
  assertEquals(parseDate("2024/03/01"), "2024-03-01");
  assertEquals(parseDate("2024-03-01T23:30:00+10:00"), "2024-03-01");
  assertEquals(parseDate("2024-03-01 08:15"), "2024-03-01");
  assertEquals(parseDate("20240301"), "2024-03-01");
});

Deno.test("parseDate reads day-first dates as AU/NZ/UK exports write them", () => {
  assertEquals(parseDate("01/03/2024"), "2024-03-01");
  assertEquals(parseDate("1/3/2024"), "2024-03-01");
  assertEquals(parseDate("31-12-2023"), "2023-12-31");
  assertEquals(parseDate("31.12.2023"), "2023-12-31");
  assertEquals(parseDate("29/02/2024 10:30:00 AM"), "2024-02-29");
  // Two-digit years follow Excel: 00-29 → 20xx, 30-99 → 19xx.
  assertEquals(parseDate("01/03/24"), "2024-03-01");
  assertEquals(parseDate("01/03/29"), "2029-03-01");
  assertEquals(parseDate("01/03/30"), "1930-03-01");
  assertEquals(parseDate("01/03/99"), "1999-03-01");
});

Deno.test("parseDate reads month names", () => {
  assertEquals(parseDate("1 Mar 2024"), "2024-03-01");
  assertEquals(parseDate("01-Mar-24"), "2024-03-01");
  assertEquals(parseDate("1 September 2023"), "2023-09-01");
  assertEquals(parseDate("Mar 1, 2024"), "2024-03-01");
  assertEquals(parseDate("March 21st, 2024"), "2024-03-21");
});

Deno.test("parseDate reads month-first only when asked", () => {
  assertEquals(parseDate("3/1/2024", { order: "mdy" }), "2024-03-01");
  assertEquals(parseDate("12/31/2023", { order: "mdy" }), "2023-12-31");
  const e = assertThrows(() => parseDate("12/31/2023"), DateParseError);
  assertStringIncludes(e.message, "there is no month 31");
  assertStringIncludes(e.message, '"mdy"');
});

Deno.test("Excel serial numbers become dates (1900 system, with its fictitious leap day)", () => {
  assertEquals(parseDate("45352"), "2024-03-01");
  assertEquals(parseDate(45352), "2024-03-01");
  assertEquals(parseDate("45352.75"), "2024-03-01");
  assertEquals(excelSerialToDate(1), "1900-01-01");
  assertEquals(excelSerialToDate(59), "1900-02-28");
  assertEquals(excelSerialToDate(61), "1900-03-01");
  assertEquals(excelSerialToDate(36526), "2000-01-01");
  assertEquals(excelSerialToDate(2958465), "9999-12-31");
  assertStringIncludes(assertThrows(() => excelSerialToDate(60), DateParseError).reason, "never");
  assertThrows(() => excelSerialToDate(0), DateParseError);
  assertThrows(() => excelSerialToDate(2958466), DateParseError);
});

Deno.test("impossible dates are refused with the reason", () => {
  const cases: [string, string][] = [
    ["31/02/2024", "February 2024 has no day 31"],
    ["29/02/2023", "February 2023 has no day 29"],
    ["31/04/2024", "April 2024 has no day 31"],
    ["2024-13-01", "there is no month 13"],
    ["0/1/2024", "has no day 0"],
    ["1 Foo 2024", '"Foo" is not a month'],
    ["next tuesday", "not a date in a known format"],
    ["", "the value is empty"],
    ["12:30", "not a date in a known format"],
  ];
  for (const [value, reason] of cases) {
    const e = assertThrows(() => parseDate(value), DateParseError);
    assertStringIncludes(e.reason, reason, value);
    assertEquals(e.value, value);
    assertEquals(e.code, "invalid_date");
    assertInstanceOf(e, RecaptureError);
  }
  assertEquals(parseDate("29/02/2000"), "2000-02-29"); // divisible by 400
  assertThrows(() => parseDate("29/02/1900"), DateParseError); // divisible by 100
});

Deno.test("the error names the row, line and column", () => {
  const e = assertThrows(
    () => parseDate("31/02/2024", { row: 7, line: 8, column: "Sale Date" }),
    DateParseError,
  );
  assertEquals(
    e.message,
    'Cannot read date "31/02/2024" in row 7 (line 8), column "Sale Date": February 2024 has no day 31',
  );
  assertEquals([e.row, e.line, e.column], [7, 8, "Sale Date"]);
});

Deno.test("Excel serials agree with the calendar across 1900-03-01 to 9999-12-31", () => {
  const epoch = Date.UTC(1899, 11, 30);
  for (let serial = 61; serial <= 2958465; serial += 13) {
    const want = new Date(epoch + serial * 86_400_000).toISOString().slice(0, 10);
    if (excelSerialToDate(serial) !== want) {
      assertEquals(excelSerialToDate(serial), want, `serial ${serial}`);
    }
  }
});

/**
 * The rules for dates written with digits, stated plainly (regular expressions and `Date`), as
 * a reference for parseDate's character-code scanner: same answer, or an error for both.
 */
function referenceDate(value: string, order: "dmy" | "mdy"): string {
  const text = value.trim();
  const real = (y: number, m: number, d: number): string => {
    const date = new Date(0);
    date.setUTCFullYear(y, m - 1, d);
    const ok = y >= 1 && y <= 9999 && date.getUTCFullYear() === y &&
      date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
    return ok ? date.toISOString().slice(0, 10) : "error";
  };
  let m = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[ T].*)?$/.exec(text);
  if (m) return real(+m[1], +m[3], +m[4]);
  m = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[ T].*)?$/.exec(text);
  if (m) {
    const year = m[4].length === 4 ? +m[4] : +m[4] + (+m[4] < 30 ? 2000 : 1900);
    return order === "mdy" ? real(year, +m[1], +m[3]) : real(year, +m[3], +m[1]);
  }
  if (/^\d{8}$/.test(text)) return real(+text.slice(0, 4), +text.slice(4, 6), +text.slice(6));
  if (/^\d{1,7}(?:\.\d+)?$/.test(text)) {
    const serial = Number(text);
    const whole = Math.floor(serial);
    // A date column's number is a serial from 1950-01-01 (18264) on only.
    if (serial < 18264 || serial >= 2958466 || whole === 60) return "error";
    const days = whole < 60 ? whole + 1 : whole;
    return new Date(Date.UTC(1899, 11, 30) + days * 86_400_000).toISOString().slice(0, 10);
  }
  return "error";
}

Deno.test("property: parseDate reads digit dates as the plainly stated rules do", () => {
  const digits = fc.stringMatching(/^\d{0,9}$/);
  const shaped = fc.tuple(
    fc.constantFrom("", " ", "\t", "\u00a0"),
    digits,
    fc.constantFrom("-", "/", ".", "", " ", "x"),
    digits,
    fc.constantFrom("-", "/", ".", "", "x"),
    digits,
    fc.constantFrom("", " 10:30", "T08:00:00Z", "x", ".5", "\u00a0"),
  ).map((parts) => parts.join(""));
  const plausible = fc.tuple(
    fc.integer({ min: 1, max: 31 }),
    fc.integer({ min: 1, max: 13 }),
    fc.integer({ min: 0, max: 2200 }),
    fc.constantFrom("/", "-", "."),
    fc.boolean(),
  ).map(([d, m, y, sep, pad]) => {
    const two = (n: number) => pad ? String(n).padStart(2, "0") : String(n);
    return pad ? `${y}${sep}${two(m)}${sep}${two(d)}` : `${two(d)}${sep}${two(m)}${sep}${y}`;
  });
  fc.assert(
    fc.property(
      fc.oneof(shaped, plausible, fc.integer({ min: 0, max: 99_999_999 }).map(String)),
      fc.constantFrom("dmy" as const, "mdy" as const),
      (text, order) => {
        let got: string;
        try {
          got = parseDate(text, { order });
        } catch (error) {
          assertInstanceOf(error, DateParseError);
          got = "error";
        }
        assertEquals(got, referenceDate(text, order), JSON.stringify({ text, order }));
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("parseDate: a short number is not an Excel serial; a 4-digit 19xx/20xx is a year", () => {
  assertThrows(() => parseDate("2024"), DateParseError, "a year, not a date");
  assertThrows(() => parseDate(1999), DateParseError, "a year, not a date");
  assertThrows(() => parseDate("1"), DateParseError, "from 18264 (1950-01-01) on");
  assertThrows(() => parseDate("18263"), DateParseError, "would be 1949-12-31");
  assertEquals(parseDate("18264"), "1950-01-01");
  assertEquals(parseDate("45352"), "2024-03-01");
  assertEquals(parseDate("45352.5"), "2024-03-01");
});
