/**
 * Dates as customer exports write them, normalised to the API's `YYYY-MM-DD`.
 *
 * Read: ISO dates (`2024-03-01`, `2024-03-01T10:30:00Z`, `2024/03/01`, `20240301`), day-first
 * dates as written in AU, NZ, UK and MY (`1/3/2024`, `01-03-24`, `01.03.2024`, with or without a
 * time after them), month names (`1 Mar 2024`, `01-Mar-24`, `March 1, 2024`) and Excel serial
 * numbers (`45352` is 2024-03-01, in Excel's 1900 date system; from 18264, 1950-01-01, on: a
 * smaller number such as `2024` or `1` is refused, a 19xx/20xx one as a year). Month-first (`3/1/2024`) is read
 * only when asked for with `order: "mdy"`.
 *
 * @example
 * ```ts
 * import { parseDate } from "@recapture/sdk/csv";
 *
 * parseDate("01/03/2024"); // "2024-03-01"
 * parseDate("45352"); // "2024-03-01"
 * ```
 * @module
 */

import { RecaptureError } from "../sdk/errors.ts";

/** Which part comes first in a date written with slashes, dashes or dots and digits only. */
export type DateOrder = "dmy" | "mdy";

/** Options for {@linkcode parseDate}. */
export interface ParseDateOptions {
  /** `"dmy"` (default: AU, NZ, UK, MY) reads `01/03/2024` as 1 March; `"mdy"` as 3 January. */
  order?: DateOrder;
  /** The data row (1-based, header excluded) the value came from, named in the error. */
  row?: number;
  /** The physical line of the file the value came from, named in the error. */
  line?: number;
  /** The column (header as written) the value came from, named in the error. */
  column?: string;
}

/**
 * A date that cannot be read: the message names the value, why, and the row, line and column
 * when the caller gave them.
 *
 * @example
 * ```ts
 * import { DateParseError, parseDate } from "@recapture/sdk/csv";
 *
 * try {
 *   parseDate("31/02/2024", { row: 7, line: 8, column: "Sale Date" });
 * } catch (error) {
 *   if (error instanceof DateParseError) console.log(error.message);
 *   // Cannot read date "31/02/2024" in row 7 (line 8), column "Sale Date": February 2024 has no day 31
 * }
 * ```
 */
export class DateParseError extends RecaptureError {
  /** The value as found. */
  readonly value: string;
  /** Why it cannot be read (without the location). */
  readonly reason: string;
  /** The data row, when known. */
  readonly row: number | undefined;
  /** The physical line, when known. */
  readonly line: number | undefined;
  /** The column, when known. */
  readonly column: string | undefined;

  /**
   * Builds the error; the message names the value, the reason and where it was.
   *
   * @param value the value as found
   * @param reason why it cannot be read
   * @param where the row, line and column it came from, when known
   */
  constructor(value: string, reason: string, where: ParseDateOptions = {}) {
    super(
      `Cannot read date ${JSON.stringify(value)}${describeWhere(where)}: ${reason}`,
      "invalid_date",
    );
    this.value = value;
    this.reason = reason;
    this.row = where.row;
    this.line = where.line;
    this.column = where.column;
  }
}

function describeWhere(where: ParseDateOptions): string {
  let out = "";
  if (where.row !== undefined) out += ` in row ${where.row}`;
  if (where.line !== undefined) {
    out += where.row !== undefined ? ` (line ${where.line})` : ` on line ${where.line}`;
  }
  if (where.column !== undefined) out += `, column ${JSON.stringify(where.column)}`;
  return out;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

const MONTH_NAMES = [
  "",
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Excel's largest serial: 9999-12-31. */
const MAX_SERIAL = 2958465;
/** Days from 1899-12-30 (day 0 of Excel's 1900 system past its 1900-02-29) to 1970-01-01. */
const EXCEL_EPOCH_DAYS = 25569;

// 1 Mar 2024, 01-Mar-24, 1-March-2024
const DAY_MONTH_NAME = /^(\d{1,2})[- ./]([A-Za-z]{3,9})\.?[- ./,]+(\d{4}|\d{2})(?:[ T].*)?$/;
// Mar 1, 2024, March 01 2024
const MONTH_NAME_DAY = /^([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})(?:[ T].*)?$/;
// Excel serial, possibly with a fraction of a day: 45352, 45352.5
const SERIAL = /^\d{1,7}(?:\.\d+)?$/;

/**
 * Reads a date as exports write it and returns it as `YYYY-MM-DD`. Throws
 * {@linkcode DateParseError} naming the value (and the row, line and column when given) when it
 * cannot be read or is not a real calendar date. The caller decides what an empty value means:
 * an empty or blank string is an error here.
 *
 * Two-digit years follow Excel's rule: `00`–`29` are 2000–2029, `30`–`99` are 1930–1999.
 *
 * @param value the text found in the file (or a number, read as an Excel serial)
 * @param options the date order and where the value came from
 * @returns the date as `YYYY-MM-DD`
 *
 * @example
 * ```ts
 * import { parseDate } from "@recapture/sdk/csv";
 *
 * parseDate("2024-03-01T23:30:00+10:00"); // "2024-03-01" (the date as written)
 * parseDate("1-Mar-24"); // "2024-03-01"
 * parseDate("3/1/2024", { order: "mdy" }); // "2024-03-01"
 * ```
 */
export function parseDate(value: string | number, options: ParseDateOptions = {}): string {
  if (typeof value === "number") return fromCellSerial(value, String(value), options);
  const length = value.length;
  // trim() only when an end is not printable ASCII (33-126, never whitespace).
  const text = length > 0 && isSolid(value.charCodeAt(0)) && isSolid(value.charCodeAt(length - 1))
    ? value
    : value.trim();
  if (text === "") throw new DateParseError(value, "the value is empty", options);
  const first = text.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    // Fast paths for the common shapes, read by character codes: digits, separator, digits,
    // separator, digits (ISO and day-first dates); digits only (Excel serials, YYYYMMDD).
    const shape = scanNumeric(text);
    if (shape === SHAPE_DATE) {
      const a = scanA, aLen = scanALength, b = scanB, c = scanC, cLen = scanCLength;
      if (aLen === 4 && scanSeparator !== 46) {
        // 2024-03-01, 2024/03/01; already in the API's form: answer it as it is.
        checkYmd(value, a, b, c, options);
        return scanCanonical ? text : formatYmd(a, b, c);
      }
      if (aLen <= 2 && (cLen === 4 || cLen === 2)) {
        const year = cLen === 4 ? c : c < 30 ? 2000 + c : 1900 + c;
        let day = a;
        let month = b;
        if (options.order === "mdy") {
          day = b;
          month = a;
        } else if (month > 12 && day <= 12) {
          throw new DateParseError(
            value,
            `there is no month ${month} (dates are read day first, DD/MM/YYYY; ` +
              `for month-first files pass dateOrder "mdy")`,
            options,
          );
        }
        return ymd(value, year, month, day, options);
      }
    } else if (shape === SHAPE_DIGITS) {
      if (text.length === 8) {
        // Compact YYYYMMDD: beyond Excel's largest serial, so never ambiguous.
        return ymd(value, scanA / 10000 | 0, (scanA / 100 | 0) % 100, scanA % 100, options);
      }
      if (text.length <= 7) return fromCellSerial(scanA, value, options);
    }
    const m = DAY_MONTH_NAME.exec(text);
    if (m) return ymd(value, fullYear(m[3]), monthNumber(value, m[2], options), +m[1], options);
    // A serial with a fraction of a day (digits alone were read above).
    if (SERIAL.test(text)) return fromCellSerial(Number(text), value, options);
  } else {
    const m = MONTH_NAME_DAY.exec(text);
    if (m) return ymd(value, +m[3], monthNumber(value, m[1], options), +m[2], options);
  }
  throw new DateParseError(
    value,
    "not a date in a known format (YYYY-MM-DD, DD/MM/YYYY, 1 Mar 2024 or an Excel serial number)",
    options,
  );
}

/**
 * The order a digits-only date proves on its own: `"mdy"` when only month-first reads it
 * (`12/25/2023`: the second part is over 12, the first is not), `"dmy"` when only day-first does
 * (`25/12/2023`), `undefined` when both or neither could (`02/03/2024`, `2024-03-02`,
 * `1 Mar 2024`, `31/31/2024`). Read as {@linkcode parseDate} reads it: the proven order must give
 * a real date.
 *
 * @param value the text found in a date column
 * @returns the only order that reads it, or `undefined`
 *
 * @example
 * ```ts
 * import { provenDateOrder } from "./dates.ts";
 *
 * provenDateOrder("12/25/2023"); // "mdy"
 * provenDateOrder("25/12/2023"); // "dmy"
 * provenDateOrder("02/03/2024"); // undefined
 * ```
 */
export function provenDateOrder(value: string): DateOrder | undefined {
  const text = value.trim();
  if (scanNumeric(text) !== SHAPE_DATE || scanALength > 2) return undefined;
  if (scanCLength !== 4 && scanCLength !== 2) return undefined;
  const order: DateOrder | undefined = scanB > 12 && scanA <= 12
    ? "mdy"
    : scanA > 12 && scanB <= 12
    ? "dmy"
    : undefined;
  if (order === undefined) return undefined;
  try {
    parseDate(text, { order });
  } catch (error) {
    if (error instanceof DateParseError) return undefined;
    throw error;
  }
  return order;
}

/** Printable ASCII other than space: never whitespace for `trim()`. */
function isSolid(code: number): boolean {
  return code > 32 && code < 127;
}

const SHAPE_NONE = 0;
/** `<1-4 digits><sep><1-2 digits><sep><1-4 digits>`, maybe followed by a time. */
const SHAPE_DATE = 1;
/** Digits only, at most 8 (the number is in scanA). */
const SHAPE_DIGITS = 2;

// What scanNumeric read (module state, not an array: no allocation, no destructuring).
let scanA = 0;
let scanALength = 0;
let scanB = 0;
let scanC = 0;
let scanCLength = 0;
let scanSeparator = 0;
/** Exactly `YYYY-MM-DD` (10 characters), the API's own form. */
let scanCanonical = false;

/**
 * Reads `<1-4 digits><sep><1-2 digits><sep><1-4 digits>` with one separator among `-` `/` `.`,
 * optionally followed by a space or `T` and anything (a time), or up to 8 digits alone.
 * Answers the shape; the numbers go to the scan variables.
 */
function scanNumeric(t: string): number {
  const n = t.length;
  let i = 0;
  let a = 0;
  while (i < n && i < 9) {
    const ch = t.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    a = a * 10 + ch - 48;
    i++;
  }
  const aLen = i;
  if (i === n) {
    if (aLen > 8) return SHAPE_NONE;
    scanA = a;
    return SHAPE_DIGITS;
  }
  if (aLen === 0 || aLen > 4 || aLen === 3) return SHAPE_NONE;
  const sep = t.charCodeAt(i);
  if (sep !== 45 && sep !== 47 && sep !== 46) return SHAPE_NONE;
  i++;
  let b = 0;
  const bStart = i;
  while (i < n && i - bStart < 3) {
    const ch = t.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    b = b * 10 + ch - 48;
    i++;
  }
  const bLen = i - bStart;
  if (bLen === 0 || bLen > 2 || i >= n || t.charCodeAt(i) !== sep) return SHAPE_NONE;
  i++;
  let c = 0;
  const cStart = i;
  while (i < n && i - cStart < 5) {
    const ch = t.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    c = c * 10 + ch - 48;
    i++;
  }
  const cLen = i - cStart;
  if (cLen === 0 || cLen > 4 || cLen === 3) return SHAPE_NONE;
  if (i < n) {
    const next = t.charCodeAt(i);
    if (next !== 32 && next !== 84) return SHAPE_NONE; // " " or "T": a time follows
  }
  if (aLen === 4 && cLen > 2) return SHAPE_NONE;
  scanA = a;
  scanALength = aLen;
  scanB = b;
  scanC = c;
  scanCLength = cLen;
  scanSeparator = sep;
  scanCanonical = n === 10 && aLen === 4 && sep === 45 && bLen === 2;
  return SHAPE_DATE;
}

/**
 * Converts an Excel serial day number (1900 date system, as Excel on Windows writes it) to
 * `YYYY-MM-DD`. A fraction (the time of day) is dropped. Serial 60, Excel's fictitious
 * 29 February 1900, is an error.
 *
 * @param serial the serial number, 1 (1900-01-01) to 2958465 (9999-12-31)
 * @param options where the value came from, named in the error
 * @returns the date as `YYYY-MM-DD`
 *
 * @example
 * ```ts
 * import { excelSerialToDate } from "@recapture/sdk/csv";
 *
 * excelSerialToDate(45352); // "2024-03-01"
 * ```
 */
export function excelSerialToDate(serial: number, options: ParseDateOptions = {}): string {
  return fromSerial(serial, String(serial), options);
}

/** Excel serial of 1950-01-01: the earliest a date column's number is read as a serial. */
const FIRST_PLAUSIBLE_SERIAL = 18264;

/**
 * A number found in a date column, read as an Excel serial only from 1950-01-01 on: a short
 * number (`1`, `2024`) is not a date a customer export holds, and read as a serial it would be
 * one in 1900-1905, silently. A 4-digit 19xx/20xx is a year, not a date.
 */
function fromCellSerial(serial: number, raw: string, options: ParseDateOptions): string {
  if (serial >= 1900 && serial < 2100 && Number.isInteger(serial)) {
    throw new DateParseError(raw, "a year, not a date (write the whole date, e.g. 2024-03-01)", {
      ...options,
    });
  }
  if (serial < FIRST_PLAUSIBLE_SERIAL && serial >= 1) {
    throw new DateParseError(
      raw,
      `not a date: numbers are read as Excel serials from ${FIRST_PLAUSIBLE_SERIAL} ` +
        `(1950-01-01) on, and this one would be ${fromSerial(serial, raw, options)}`,
      options,
    );
  }
  return fromSerial(serial, raw, options);
}

function fromSerial(serial: number, raw: string, options: ParseDateOptions): string {
  if (!Number.isFinite(serial) || serial < 1 || serial >= MAX_SERIAL + 1) {
    throw new DateParseError(
      raw,
      `not a date: as an Excel serial number it must be between 1 and ${MAX_SERIAL}`,
      options,
    );
  }
  const whole = Math.floor(serial);
  if (whole === 60) {
    throw new DateParseError(
      raw,
      "Excel serial 60 is 29 February 1900, a day that never existed",
      options,
    );
  }
  // Before the fictitious leap day, Excel's day 1 is 1899-12-31 (one day later than the epoch).
  const days = whole < 60 ? whole + 1 : whole;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm; no Date object needed).
  const z = days - EXCEL_EPOCH_DAYS + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return ymd(raw, yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, options);
}

function fullYear(text: string): number {
  const n = +text;
  if (text.length === 4) return n;
  return n < 30 ? 2000 + n : 1900 + n;
}

function monthNumber(raw: string, name: string, options: ParseDateOptions): number {
  const month = MONTHS[name.toLowerCase()];
  if (month === undefined) {
    throw new DateParseError(raw, `${JSON.stringify(name)} is not a month`, options);
  }
  return month;
}

function ymd(
  raw: string,
  year: number,
  month: number,
  day: number,
  options: ParseDateOptions,
): string {
  checkYmd(raw, year, month, day, options);
  return formatYmd(year, month, day);
}

/** Throws unless year, month and day make a real date (years 1 to 9999). */
function checkYmd(
  raw: string,
  year: number,
  month: number,
  day: number,
  options: ParseDateOptions,
): void {
  if (!(year >= 1 && year <= 9999)) {
    throw new DateParseError(raw, `year ${year} is out of range`, options);
  }
  if (!(month >= 1 && month <= 12)) {
    throw new DateParseError(raw, `there is no month ${month}`, options);
  }
  if (!(day >= 1 && day <= daysInMonth(year, month))) {
    throw new DateParseError(
      raw,
      `${MONTH_NAMES[month]} ${year} has no day ${day}`,
      options,
    );
  }
}

function formatYmd(year: number, month: number, day: number): string {
  return (year >= 1000 ? String(year) : String(year).padStart(4, "0")) + "-" + TWO[month] + "-" +
    TWO[day];
}

const TWO: readonly string[] = Array.from({ length: 32 }, (_, i) => String(i).padStart(2, "0"));

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
