/**
 * CSV text from a tool call → customer rows, through the SDK's CSV reader (`src/import/csv.ts`), with
 * each row's physical line kept so problems can be pointed at.
 *
 * @module
 */
import { CsvError, readCsv } from "../src/import/csv.ts";
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
 * Reads CSV text (header row first). A malformed file, or more than `maxRows` rows, becomes a
 * {@linkcode ToolFailure} naming the line.
 */
export async function readCsvRows(text: string, maxRows: number): Promise<CsvRows> {
  const out: CsvRows = { rows: [], lines: [], issues: [] };
  const stream = new ReadableStream<string>({
    start(controller) {
      controller.enqueue(text);
      controller.close();
    },
  });
  try {
    for await (const row of readCsv(stream)) {
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
          reason: `${issue.reason} (column "${issue.column}")`,
        });
      }
    }
  } catch (error) {
    if (error instanceof CsvError) {
      throw new ToolFailure(
        "invalid_csv",
        `the CSV cannot be read: ${error.message}. Fix the text and call again.`,
      );
    }
    throw error;
  }
  return out;
}
