/**
 * CSV text from a tool call → customer rows, through the SDK's CSV reader (`src/import/csv.ts`), with
 * each row's physical line kept so problems can be pointed at.
 *
 * The reader's messages are written for a person at a terminal: they quote the header and the
 * values they could not read, and name the reader's options. Through MCP they are said again in
 * the tool's words, and for a file the user named (`from: "file"`) without any of its content:
 * an agent that names `.env` must learn only that it is not a customer file, not what it holds.
 *
 * @module
 */
// @ts-types="../src/import/_papaparse.d.ts"
import Papa from "papaparse";
import { CsvError, readCsv } from "../src/import/csv.ts";
import { DateOrderEvidence } from "../src/import/_date_order_evidence.ts";
import type { RowIssue } from "../mod.ts";
import { ToolFailure } from "./_errors.ts";

/** Rows read from CSV text. */
export interface CsvRows {
  /** The customers, in file order. */
  rows: Record<string, unknown>[];
  /** `lines[i]` is the physical line (1-based) row `i` starts on. */
  lines: number[];
  /** Values the reader could not use (e.g. an unreadable date), by row index. */
  issues: RowIssue[];
}

/**
 * Where the text came from: `csv` (the agent's own argument: its content may be quoted back) or
 * `file` (a file the user named: nothing of its content is quoted).
 */
export type CsvSource = "csv" | "file";

/** The reader's problems that quote nothing of the text, by how their message starts. */
const CONTENT_FREE: readonly RegExp[] = [
  /^binary data \(a NUL byte\)/,
  /^a quoted field is never closed/,
  /^a closing quote is followed by other text/,
  /^\d+ fields? where the header has \d+/,
  /^a record longer than \d+ characters/,
  /^the file is empty/,
];

/** The reader's problem for a header without a rego or VIN column (it quotes the header). */
const NO_VEHICLE_COLUMN = /^no column for a rego or a VIN in the header\b/;

/** The reader's problem for text with U+FFFD in it (it names an option the tool lacks). */
const NOT_UTF8 = /^this is not UTF-8 text/;

/** How many fields physical line `line` of `text` has, read as the reader read it. */
function fieldCount(text: string, line: number, problem: string): number {
  const named = /read with delimiter (tab|"(.)")/.exec(problem);
  const delimiter = named === null ? "," : named[1] === "tab" ? "\t" : named[2];
  const header = text.split(/\r\n|\r|\n/)[line - 1] ?? "";
  return new Papa.Parser({ delimiter, newline: "\n" }).parse(header, 0, false).data[0]?.length ??
    0;
}

/** A {@linkcode CsvError} in the upload tool's words; for a file, quoting nothing of it. */
function inToolWords(error: CsvError, text: string, from: CsvSource): string {
  const what = from === "file" ? "the file" : "the CSV";
  if (NO_VEHICLE_COLUMN.test(error.problem)) {
    const n = fieldCount(text, error.line, error.problem);
    return `${what} cannot be read: line ${error.line} (its header) has no rego or VIN column ` +
      `(${n} column${n === 1 ? "" : "s"}). A header named rego, registration or plate, or vin, ` +
      "is read as one. " +
      (from === "file"
        ? "If this is the user's customer file, ask them to name that column so and call again."
        : "Rename that column in the text, or send the rows as `customers`, and call again.");
  }
  if (NOT_UTF8.test(error.problem)) {
    return `${what} cannot be read: line ${error.line} has a character that stands for bytes ` +
      "that were not UTF-8 (U+FFFD). Save it as UTF-8 and call again.";
  }
  if (from === "csv" || CONTENT_FREE.some((p) => p.test(error.problem))) {
    return `${what} cannot be read: ${error.message}. Fix it and call again.`;
  }
  return `${what} cannot be read as CSV from line ${error.line} on. Check it is a CSV file ` +
    "with a header row.";
}

/**
 * Reads CSV text (header row first). A malformed file, or more than `maxRows` rows, becomes a
 * {@linkcode ToolFailure} naming the line; from a file, no message quotes its content.
 *
 * @example
 * ```ts ignore
 * const { rows, issues } = await readCsvRows("rego,state\nABC123,NSW\n", 1000, "csv");
 * ```
 */
export async function readCsvRows(
  text: string,
  maxRows: number,
  from: CsvSource,
): Promise<CsvRows> {
  const out: CsvRows = { rows: [], lines: [], issues: [] };
  const stream = new ReadableStream<string>({
    start(controller) {
      controller.enqueue(text);
      controller.close();
    },
  });
  // What the date columns prove about their order (the reader reads day first): a column that
  // proves month first would have its 02/03 dates stored with day and month swapped.
  const evidence = new DateOrderEvidence();
  const onDateCell = (value: string, column: string, line: number) =>
    evidence.see(column, value, line);
  try {
    for await (const row of readCsv(stream, { onDateCell })) {
      if (out.rows.length === maxRows) {
        throw new ToolFailure(
          "too_many_rows",
          `the CSV has more than ${maxRows} rows. Split it into several uploads.`,
        );
      }
      const index = out.rows.length;
      out.rows.push({ ...row.customer });
      out.lines.push(row.line);
      for (const issue of row.issues) {
        out.issues.push({
          index,
          field: issue.field,
          // The reader's reason quotes the value and the column's header: kept for the agent's
          // own text, not for a file (its field and line say where; the user can look).
          reason: from === "file"
            ? `cannot be read${
              issue.field.endsWith("_date") ? " as a date" : ""
            } (the value is not shown: it comes from the user's file)`
            : `${issue.reason} (column "${issue.column}")`,
        });
      }
    }
  } catch (error) {
    if (error instanceof CsvError) {
      throw new ToolFailure("invalid_csv", inToolWords(error, text, from));
    }
    throw error;
  }
  const [conflict] = evidence.conflicts("dmy");
  if (conflict !== undefined) {
    const proof = conflict.mdy ?? conflict.dmy!;
    const where = from === "file"
      ? `a date column (line ${proof.line}; the value is not shown: it comes from the user's file)`
      : `column "${conflict.column}" (line ${proof.line}: "${proof.value}")`;
    throw new ToolFailure(
      "ambiguous_dates",
      `${where} ${
        conflict.mdy && conflict.dmy
          ? "mixes day-first and month-first dates"
          : "is written month first"
      }, and dates are read day first: its dates that read either way (such as 02/03) would be ` +
        "stored with day and month swapped. Nothing was sent. Write the dates as YYYY-MM-DD " +
        "(or ask the user to) and call again.",
    );
  }
  return out;
}
