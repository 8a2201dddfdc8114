// The CSV and NDJSON readers behind src/import/mod.ts (the `./csv` export): papaparse's core
// parser fed chunk by chunk, plus encoding, newline and delimiter detection, line numbers and
// the column mapping.

// @ts-types="./_papaparse.d.ts"
import Papa from "papaparse";
import type { PapaParseResult, Parser } from "./_papaparse.d.ts";
import {
  assignColumns,
  buildObjectRow,
  type ColumnAssignment,
  type ColumnOptions,
  type ColumnReport,
  columnReport as reportOf,
  type ColumnTarget,
  reportDateCells,
  rowBuilder,
} from "./columns.ts";
import { RecaptureError } from "../sdk/errors.ts";

export type {
  ColumnAssignment,
  ColumnOptions,
  ColumnReport,
  ColumnTarget,
  CustomerField,
  FieldIssue,
  NearMiss,
  SourceRow,
} from "./columns.ts";
import type { SourceRow } from "./columns.ts";
export { DateParseError, excelSerialToDate, parseDate } from "./dates.ts";
export type { DateOrder, ParseDateOptions } from "./dates.ts";

/** The default longest record (in characters) before the file is declared malformed. */
export const DEFAULT_MAX_RECORD_LENGTH = 1_048_576;

/** Options for {@linkcode readCsv}. */
export interface CsvReadOptions extends ColumnOptions {
  /** The field delimiter; detected from the first lines when omitted (`,` `;` tab `|`). */
  delimiter?: "," | ";" | "\t" | "|";
  /**
   * The text encoding of a byte stream (a WHATWG encoding label, default `"utf-8"`, or
   * `"utf-16le"` when the file starts with that BOM). Use `"windows-1252"` for old Excel exports.
   */
  encoding?: string;
  /** The longest record, in characters, before the file is declared malformed (1 MiB). */
  maxRecordLength?: number;
  /**
   * Called once with where each column goes, before the first row (make the mapping report
   * with {@linkcode columnReport}).
   */
  onColumns?: (columns: ColumnAssignment[]) => void;
  /**
   * Refuse a file whose header has a column no rule maps (neither the `columns` option nor a
   * built-in name): a {@linkcode CsvError} names every such header (default `false`: they are
   * kept in `additional_fields`).
   */
  strictColumns?: boolean;
  /**
   * Report a ragged row (more or fewer fields than the header) as a row with an issue naming
   * its line, and read on (default `false`: the file is refused with a {@linkcode CsvError}).
   * Its values are not used: with a field missing or added, none can be trusted to its column.
   */
  skipMalformed?: boolean;
  /**
   * Called with each non-blank cell of a date column (one mapped to `sale_date`, `expiry_date`,
   * `monitor_start_date` or `monitor_end_date`) as found, before it is read, with the column's
   * header and the physical line: e.g. to learn a column's date order before anything is sent.
   */
  onDateCell?: (value: string, column: string, line: number) => void;
  /** Stops reading: the iterator throws the signal's reason. */
  signal?: AbortSignal;
}

/** Options for {@linkcode readNdjson}. */
export interface NdjsonReadOptions extends ColumnOptions {
  /** The text encoding of a byte stream (default `"utf-8"`). */
  encoding?: string;
  /** The longest line, in characters, before the file is declared malformed (1 MiB). */
  maxRecordLength?: number;
  /**
   * Report a line that is not a JSON object as a row with an issue naming its line, and read on
   * (default `false`: the file is refused with an {@linkcode NdjsonError}).
   */
  skipMalformed?: boolean;
  /** Stops reading: the iterator throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A file that cannot be read as CSV: unbalanced quotes, ragged rows, binary data, no header, no
 * rego or VIN column. `line` is the physical line (1-based) where the problem starts.
 *
 * @example
 * ```ts
 * import { CsvError, readCsv } from "@recapture/sdk/csv";
 *
 * try {
 *   for await (const row of readCsv(new Blob(['rego,name\nABC1,"Jo\n']).stream())) {
 *     console.log(row.customer);
 *   }
 * } catch (error) {
 *   if (error instanceof CsvError) console.log(error.line, error.message);
 * }
 * ```
 */
export class CsvError extends RecaptureError {
  /** The physical line (1-based) where the problem starts. */
  readonly line: number;
  /** What is wrong, without the line. */
  readonly problem: string;

  /**
   * Builds the error; the message starts with the line.
   *
   * @param line the physical line (1-based) where the problem starts
   * @param problem what is wrong (the message adds the line)
   */
  constructor(line: number, problem: string) {
    super(`Line ${line}: ${problem}`, "invalid_csv");
    this.line = line;
    this.problem = problem;
  }
}

/**
 * An NDJSON line that is not a JSON object. `line` is the physical line (1-based).
 *
 * @example
 * ```ts
 * import { NdjsonError, readNdjson } from "@recapture/sdk/csv";
 *
 * try {
 *   for await (const row of readNdjson(new Blob(['{"rego":"A1"}\n{oops\n']).stream())) {
 *     console.log(row.customer);
 *   }
 * } catch (error) {
 *   if (error instanceof NdjsonError) console.log(error.line); // 2
 * }
 * ```
 */
export class NdjsonError extends RecaptureError {
  /** The physical line (1-based). */
  readonly line: number;

  /**
   * Builds the error; the message starts with the line.
   *
   * @param line the physical line (1-based)
   * @param problem what is wrong (the message adds the line)
   */
  constructor(line: number, problem: string) {
    super(`Line ${line}: ${problem}`, "invalid_ndjson");
    this.line = line;
  }
}

/**
 * Finds where each header goes, as {@linkcode readCsv} does: the `columns` option first, then
 * the built-in names for common export headers (matched ignoring case, spaces and punctuation),
 * then `additional_fields` under the header as written.
 *
 * @param headers the header row
 * @param options the column mapping options
 * @returns one assignment per header, in order
 *
 * @example
 * ```ts
 * import { mapColumns } from "@recapture/sdk/csv";
 *
 * mapColumns(["Plate", "Customer Name", "Phone", "Mobile", "Colour"]).map((c) => c.target);
 * // ["rego", "client_name", "additional", "mobile_number", "additional"]
 * ```
 */
export function mapColumns(headers: string[], options: ColumnOptions = {}): ColumnAssignment[] {
  return assignColumns(headers, options);
}

/**
 * The mapping report of a column plan (from {@linkcode mapColumns} or `onColumns`): each header
 * → field, each header kept in `additional_fields`, the ignored ones, and the near-misses:
 * headers kept in `additional_fields` that look like a field no column feeds (`St`, `Veh State`,
 * `Purchased`, `Delivery`, `Warranty Expiry`), each with why. Map one with the `columns` option
 * (`{ "Veh State": "state" }`).
 *
 * @param plan where each column goes
 * @returns the report
 *
 * @example
 * ```ts
 * import { columnReport, mapColumns } from "@recapture/sdk/csv";
 *
 * const report = columnReport(mapColumns(["Rego", "Veh State", "Purchased", "Colour"]));
 * report.mapped.map((m) => `${m.header} -> ${m.field}`); // ["Rego -> rego"]
 * report.nearMisses.map((m) => `${m.header} ~ ${m.field}`);
 * // ["Veh State ~ state", "Purchased ~ sale_date"]
 * ```
 */
export function columnReport(plan: readonly ColumnAssignment[]): ColumnReport {
  return reportOf(plan);
}

type TextSource = ReadableStream<Uint8Array> | ReadableStream<string>;

/** Undecodable bytes (the decoder puts U+FFFD in their place) without an `encoding` option. */
const NOT_UTF8 = "this is not UTF-8 text (a byte here is not valid UTF-8): pass its encoding, " +
  'e.g. the encoding option "windows-1252"';

/**
 * Reads text from a byte or string stream, chunk by chunk: decodes, strips a BOM, detects
 * UTF-16 (LE or BE, by its BOM) and files that are not text at all (Excel workbooks, PDFs).
 */
async function* decodeText(
  input: TextSource,
  encoding: string | undefined,
  signal: AbortSignal | undefined,
  fail: (line: number, problem: string) => Error,
): AsyncGenerator<string> {
  const reader = (input as ReadableStream<Uint8Array | string>).getReader();
  let decoder: TextDecoder | undefined;
  let first = true;
  let finished = false;
  try {
    while (true) {
      signal?.throwIfAborted();
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        const rest = decoder?.decode() ?? "";
        if (rest !== "") yield rest;
        return;
      }
      let text: string;
      if (typeof value === "string") {
        text = first && value.charCodeAt(0) === 0xfeff ? value.slice(1) : value;
      } else {
        if (first) {
          sniffBinary(value, fail);
          let label = encoding ?? "utf-8";
          if (encoding === undefined && value[0] === 0xff && value[1] === 0xfe) label = "utf-16le";
          if (encoding === undefined && value[0] === 0xfe && value[1] === 0xff) label = "utf-16be";
          try {
            decoder = new TextDecoder(label);
          } catch {
            throw new RangeError(`Unknown text encoding ${JSON.stringify(encoding)}`);
          }
        }
        text = decoder!.decode(value, { stream: true });
      }
      first = false;
      if (text !== "") yield text;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function sniffBinary(bytes: Uint8Array, fail: (line: number, problem: string) => Error): void {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04)) {
    throw fail(
      1,
      "this is a ZIP archive (an Excel .xlsx workbook?), not a CSV file: save it as CSV",
    );
  }
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) {
    throw fail(1, "this is an Excel .xls workbook, not a CSV file: save it as CSV");
  }
  if (starts(0x25, 0x50, 0x44, 0x46)) throw fail(1, "this is a PDF document, not a CSV file");
}

/** Line number of `index` in `text` whose first character is on line `startLine`. */
function lineAt(text: string, index: number, startLine: number): number {
  let line = startLine;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function detectNewline(sample: string): "\n" | "\r" | "\r\n" {
  const n = sample.indexOf("\n");
  const r = sample.indexOf("\r");
  if (r === -1) return "\n";
  if (n === -1) return "\r";
  if (n === r + 1) return "\r\n";
  return r < n ? "\r" : "\n";
}

const DELIMITERS = [",", ";", "\t", "|"];

function detectDelimiter(sample: string, newline: string): string {
  const end = sample.lastIndexOf(newline);
  if (end > 0) sample = sample.slice(0, end); // whole lines only
  const guess = Papa.parse(sample, {
    preview: 10,
    delimitersToGuess: DELIMITERS,
    newline,
    skipEmptyLines: true,
  });
  return DELIMITERS.includes(guess.meta.delimiter) ? guess.meta.delimiter : ",";
}

function describeDelimiter(d: string): string {
  return d === "\t" ? "tab" : JSON.stringify(d);
}

/** How many times `ch` occurs in `text` before `end`. */
function countChar(text: string, ch: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1 && i < end; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

function isBlank(row: readonly string[]): boolean {
  for (let i = 0; i < row.length; i++) if (row[i].trim() !== "") return false;
  return true;
}

/**
 * Reads customers from a CSV stream, lazily: one {@linkcode SourceRow} per data row, with the
 * physical line it starts on, the customer built through the column mapping, and the values
 * that could not be read (bad dates) as `issues` naming the row, line and column. Blank lines
 * are skipped. The first non-blank row is the header.
 *
 * Throws {@linkcode CsvError} naming the line for a malformed file: an unbalanced quote, a row
 * with more or fewer fields than the header, binary data, a record longer than
 * `maxRecordLength`, no header, or no column for a rego or a VIN. Memory stays bounded: only
 * the current chunk and one partial record are held.
 *
 * @param input the file as bytes (e.g. `(await Deno.open(path)).readable`, `blob.stream()`,
 *   `response.body`) or as text
 * @param options delimiter, encoding, column mapping, date order, signal
 * @returns an async iterator of rows; breaking out of the loop cancels the stream
 *
 * @example
 * ```ts
 * import { readCsv } from "@recapture/sdk/csv";
 *
 * const file = "Plate;VIN;Name;Rego Expiry\nXYZ789;;Lee;2026-01-31\n";
 * const rows = [];
 * for await (const row of readCsv(new Blob([file]).stream())) rows.push(row.customer);
 * // [{ rego: "XYZ789", client_name: "Lee", additional_fields: { "Rego Expiry": "2026-01-31" } }]
 * ```
 */
export async function* readCsv(
  input: ReadableStream<Uint8Array> | ReadableStream<string>,
  options: CsvReadOptions = {},
): AsyncGenerator<SourceRow, void, undefined> {
  for await (const batch of csvBatches(input, options)) {
    for (let i = 0; i < batch.length; i++) {
      const row = batch[i];
      // A row handed out is the consumer's to keep or drop: not held here while it awaits.
      batch[i] = undefined as unknown as SourceRow;
      yield row;
    }
  }
}

/** The most rows {@linkcode csvBatches} hands over at once. */
const BATCH = 1024;

/**
 * The reader behind {@linkcode readCsv}: the rows of each chunk of text, in batches of at most
 * {@linkcode BATCH}. An error is thrown after the rows before it have been handed over.
 */
async function* csvBatches(
  input: ReadableStream<Uint8Array> | ReadableStream<string>,
  options: CsvReadOptions,
): AsyncGenerator<SourceRow[], void, undefined> {
  const maxRecord = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
  const fail = (line: number, problem: string) => new CsvError(line, problem);
  let pending = ""; // unparsed text; starts at the beginning of a record
  let pendingLine = 1; // physical line where `pending` starts
  let parser: Parser | undefined;
  let nl = "\n"; // the character counted for embedded line breaks
  let delimiter = ",";
  let build: ReturnType<typeof rowBuilder> | undefined;
  let width = 0;
  const chunks = decodeText(input, options.encoding, options.signal, fail);
  let done = false;
  try {
    while (!done) {
      const next = await chunks.next();
      if (next.done) done = true;
      else {
        const nul = next.value.indexOf("\0");
        if (nul !== -1) {
          throw fail(
            lineAt(pending + next.value, pending.length + nul, pendingLine),
            "binary data (a NUL byte): this is not a CSV text file",
          );
        }
        const bad = options.encoding === undefined ? next.value.indexOf("\uFFFD") : -1;
        if (bad !== -1) {
          throw fail(lineAt(pending + next.value, pending.length + bad, pendingLine), NOT_UTF8);
        }
        pending += next.value;
      }
      if (parser === undefined) {
        // Wait for a whole first line (or enough text) to detect the newline and delimiter.
        // (A "\r" at the very end may be the first half of "\r\n": wait for what follows.)
        if (!done && pending.length < 65_536 && !/[\r\n]/.test(pending.slice(0, -1))) continue;
        if (pending.trim() === "") {
          if (done) break;
          continue;
        }
        const newline = detectNewline(pending.slice(0, 65_536));
        nl = newline === "\r" ? "\r" : "\n";
        delimiter = options.delimiter ?? detectDelimiter(pending.slice(0, 65_536), newline);
        parser = new Papa.Parser({ delimiter, newline });
      }
      let result: PapaParseResult | undefined = parser.parse(pending, 0, !done);
      let rows = result.data;
      const cursor = result.meta.cursor;
      const quoted = pending.indexOf('"') !== -1;
      let errorRow = -1;
      for (const e of result.errors) {
        // An error in the unfinished last record is judged again once the rest of it arrives
        // (a closing quote followed by the "\r" of a "\r\n" cut in two looks malformed).
        if (!done && e.row >= rows.length) continue;
        if (errorRow === -1 || e.row < errorRow) errorRow = e.row;
      }
      // When the parsed text holds no line break inside a field (the usual case), row r starts
      // on line pendingLine + r; otherwise breaks inside fields are counted row by row.
      const consumed = done ? pending.length : cursor;
      const embedded = quoted && countChar(pending, nl, consumed) > rows.length;
      let line = pendingLine;
      let batch: SourceRow[] = [];
      try {
        for (let r = 0; r < rows.length; r++) {
          const row = rows[r];
          const rowLine = line;
          if (r === errorRow) throw quoteError(result!, r, rowLine);
          line++;
          if (embedded) {
            for (let f = 0; f < row.length; f++) {
              const field = row[f];
              if (field.length === 0) continue;
              for (let i = field.indexOf(nl); i !== -1; i = field.indexOf(nl, i + 1)) line++;
            }
          }
          const head = row[0];
          if ((head === "" || head.charCodeAt(0) <= 32) && isBlank(row)) continue;
          if (build === undefined) {
            const plan = headerPlan(row, rowLine, delimiter, options);
            build = rowBuilder(plan, options.dateOrder);
            if (options.onDateCell) build = reportDateCells(plan, build, options.onDateCell);
            width = row.length;
            options.onColumns?.(plan.map((c) => ({ ...c })));
            continue;
          }
          const ragged = row.length !== width ? checkWidth(row, width, rowLine) : null;
          if (ragged !== null && !options.skipMalformed) throw ragged;
          batch.push(
            ragged === null ? build(row, rowLine) : {
              line: rowLine,
              customer: {},
              issues: [{ field: "", column: "", reason: ragged.problem }],
            },
          );
          if (batch.length === BATCH) {
            const full = batch;
            batch = [];
            yield full;
          }
        }
        if (errorRow !== -1) throw quoteError(result!, errorRow, line);
      } catch (error) {
        // The rows before the problem are read first, as the file's order says.
        if (batch.length > 0) yield batch;
        throw error;
      }
      // The chunk's text and parsed fields are let go before the last yield, so that they are
      // not held while the consumer works (or awaits) on the batch.
      result = undefined;
      rows = [];
      pending = done ? "" : pending.substring(cursor);
      pendingLine = line;
      if (batch.length > 0) yield batch;
      if (pending.length > maxRecord) {
        throw fail(
          pendingLine,
          `a record longer than ${maxRecord} characters: an unbalanced quote, or not a CSV file`,
        );
      }
    }
    if (build === undefined) throw fail(1, "the file is empty: no header row");
  } finally {
    await chunks.return(undefined);
  }
}

function quoteError(result: PapaParseResult, row: number, line: number): CsvError {
  const first = result.errors.find((e) => e.row === row) ?? result.errors[0];
  return new CsvError(
    line,
    first.code === "MissingQuotes"
      ? "a quoted field is never closed (unbalanced quote)"
      : first.code === "InvalidQuotes"
      ? "a closing quote is followed by other text (malformed quotes)"
      : first.message,
  );
}

function headerPlan(
  row: string[],
  line: number,
  delimiter: string,
  options: CsvReadOptions,
): ColumnAssignment[] {
  let plan: ColumnAssignment[];
  try {
    plan = assignColumns(row, options);
  } catch (error) {
    throw new CsvError(line, (error as Error).message);
  }
  if (options.strictColumns) {
    const unmapped = plan.filter((c) => c.by === "unknown" && c.target === "additional");
    if (unmapped.length > 0) {
      throw new CsvError(
        line,
        `${unmapped.length} column${unmapped.length === 1 ? "" : "s"} that no rule maps ` +
          `(${unmapped.map((c) => JSON.stringify(c.header)).join(", ")}): map each with the ` +
          `columns option, e.g. { ${JSON.stringify(unmapped[0].header)}: "additional" } to keep ` +
          `it in additional_fields or "ignore" to drop it`,
      );
    }
  }
  if (!plan.some((c) => c.target === "rego" || c.target === "vin")) {
    const shown = row.slice(0, 12).map((h) => JSON.stringify(h.trim())).join(", ");
    throw new CsvError(
      line,
      `no column for a rego or a VIN in the header (${shown}${row.length > 12 ? ", ..." : ""}` +
        `; read with delimiter ${describeDelimiter(delimiter)}): name one with the columns ` +
        `option, e.g. { "Vehicle Reg": "rego" }`,
    );
  }
  return plan;
}

/** The error for a ragged row, or null when its width is fine (extra empty fields are). */
function checkWidth(row: string[], width: number, line: number): CsvError | null {
  if (row.length > width) {
    let extraEmpty = true;
    for (let i = width; i < row.length; i++) {
      if (row[i].trim() !== "") {
        extraEmpty = false;
        break;
      }
    }
    if (extraEmpty) return null; // trailing delimiters, as spreadsheet exports write them
  }
  return new CsvError(
    line,
    `${row.length} field${row.length === 1 ? "" : "s"} where the header has ${width} ` +
      `(a ragged row: a stray delimiter or quote?)`,
  );
}

/**
 * Reads customers from an NDJSON stream (one JSON object per line), lazily. Keys are mapped as
 * CSV headers are (the API's own field names, then common export names; the rest go to
 * `additional_fields`, and an `additional_fields` object is merged). Dates are normalised;
 * numbers in date fields are read as Excel serials. Blank lines are skipped.
 *
 * Throws {@linkcode NdjsonError} naming the line for a line that is not a JSON object or is
 * longer than `maxRecordLength`.
 *
 * @param input the file as bytes or text
 * @param options encoding, column mapping, date order, signal
 * @returns an async iterator of rows; breaking out of the loop cancels the stream
 *
 * @example
 * ```ts
 * import { readNdjson } from "@recapture/sdk/csv";
 *
 * const file = '{"rego":"ABC123","state":"nsw","sale_date":"01/03/2024","colour":"red"}\n';
 * for await (const row of readNdjson(new Blob([file]).stream())) console.log(row.customer);
 * // { rego: "ABC123", state: "nsw", sale_date: "2024-03-01", additional_fields: { colour: "red" } }
 * ```
 */
export async function* readNdjson(
  input: ReadableStream<Uint8Array> | ReadableStream<string>,
  options: NdjsonReadOptions = {},
): AsyncGenerator<SourceRow, void, undefined> {
  const maxRecord = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
  const fail = (line: number, problem: string) => new NdjsonError(line, problem);
  const cache = new Map<string, ColumnTarget[]>();
  let pending = "";
  let line = 0;
  const chunks = decodeText(input, options.encoding, options.signal, fail);
  try {
    for (let done = false; !done;) {
      const next = await chunks.next();
      if (next.done) {
        done = true;
        if (pending === "") break;
        pending += "\n";
      } else {
        const bad = options.encoding === undefined ? next.value.indexOf("\uFFFD") : -1;
        if (bad !== -1) {
          throw fail(lineAt(pending + next.value, pending.length + bad, line + 1), NOT_UTF8);
        }
        pending += next.value;
      }
      let start = 0;
      for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n", start)) {
        line++;
        let text = pending.slice(start, end);
        start = end + 1;
        if (text.endsWith("\r")) text = text.slice(0, -1);
        if (text.trim() === "") continue;
        let value: unknown;
        let problem: string | null = null;
        try {
          value = JSON.parse(text);
        } catch (error) {
          if (text.indexOf("\0") !== -1) {
            throw fail(line, "binary data (a NUL byte): this is not an NDJSON text file");
          }
          problem = `not valid JSON (${(error as Error).message})`;
        }
        if (
          problem === null && (value === null || typeof value !== "object" || Array.isArray(value))
        ) {
          problem = `expected a JSON object (one customer per line), found ${
            Array.isArray(value) ? "an array" : value === null ? "null" : typeof value
          }`;
        }
        if (problem !== null) {
          if (!options.skipMalformed) throw fail(line, problem);
          yield { line, customer: {}, issues: [{ field: "", column: "", reason: problem }] };
          continue;
        }
        yield buildObjectRow(value as Record<string, unknown>, line, options, cache);
      }
      pending = pending.slice(start);
      if (pending.length > maxRecord) {
        throw fail(line + 1, `a line longer than ${maxRecord} characters`);
      }
    }
  } finally {
    await chunks.return(undefined);
  }
}
