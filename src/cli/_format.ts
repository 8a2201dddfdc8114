// Output helpers of the command line: numbers, durations, tables, the progress bar. Private.

import type { BulkProgress } from "../import/bulk.ts";

/** 1234567 → "1,234,567". */
export function num(n: number): string {
  return Math.round(n).toLocaleString("en-AU");
}

/** Milliseconds → "0:07", "3:25", "1:02:03". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "--:--";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * Control characters (line breaks, tabs, terminal escape codes) of a cell as visible escapes:
 * customer data must neither break a row nor drive the terminal.
 */
function printable(cell: string): string {
  // deno-lint-ignore no-control-regex
  return cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 10
      ? "\\n"
      : code === 13
      ? "\\r"
      : code === 9
      ? "\\t"
      : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

/**
 * Left-aligned columns, two spaces apart; cells longer than `max` are cut with "…" (never those
 * of the last column); control
 * characters are shown escaped. `widths` fixes the column widths (for rows printed a few at a
 * time under one header).
 */
export function table(rows: string[][], max = 40, fixed?: readonly number[]): string {
  // The last column is never cut: it holds what a reader needs whole (a reason, a hint).
  const cut = rows.map((r) =>
    r.map((c, i) => {
      const text = printable(c);
      const room = i === r.length - 1 ? Infinity : Math.min(max, fixed?.[i] ?? max);
      return text.length > room ? text.slice(0, room - 1) + "…" : text;
    })
  );
  const widths: number[] = fixed ? [...fixed] : [];
  if (!fixed) {
    for (const r of cut) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  }
  return cut.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()
  ).join("\n");
}

/** What the progress bar knows besides the bulk counters. */
export interface ProgressFrame extends BulkProgress {
  /** Bytes of the file read so far, and its size (0 when unknown). */
  bytesRead: number;
  /** The file's size in bytes (0 when unknown). */
  bytesTotal: number;
}

/**
 * One line: bar, percentage, counters, rate, ETA. The bar follows the work as a whole: reading
 * and sending (by bytes of the file) for the first half, processing for the second. The ETA is
 * the longer of what reading and processing still need at their rates so far.
 */
export function progressLine(f: ProgressFrame, width: number): string {
  const readFraction = f.bytesTotal > 0 ? Math.min(1, f.bytesRead / f.bytesTotal) : 0;
  const expected = readFraction > 0 ? f.rowsRead / readFraction : f.rowsRead;
  const expectedValid = Math.max(1, expected - f.badRows - f.rowsSkipped);
  const processedFraction = Math.min(1, f.processed / expectedValid);
  const done = f.phase === "done";
  const fraction = done ? 1 : (readFraction + processedFraction) / 2;
  const seconds = f.elapsedMs / 1000;
  const readRate = seconds > 0 ? f.rowsRead / seconds : 0;
  const processRate = seconds > 0 ? f.processed / seconds : 0;
  let eta = "--:--";
  if (done) eta = "0:00";
  else if (readRate > 0 && readFraction > 0.01) {
    const reading = readFraction >= 1 ? 0 : (expected - f.rowsRead) / readRate;
    const processing = processRate > 0 ? (expectedValid - f.processed) / processRate : NaN;
    if (!Number.isNaN(processing)) eta = duration(Math.max(reading, processing) * 1000);
  }
  const rate = f.phase === "uploading"
    ? `${num(readRate)} rows/s read`
    : `${num(processRate)} rows/s`;
  const counters = `read ${num(f.rowsRead)}  uploaded ${num(f.rowsUploaded)}  processed ${
    num(f.processed)
  }  errors ${num(f.badRows + f.errors)}  ${rate}  ETA ${eta}`;
  const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  // ASCII only: block characters are double width in some terminals and would wrap the line.
  const barWidth = Math.max(10, Math.min(30, width - 112)); // fixed for a given terminal
  const filled = Math.min(barWidth, Math.round(fraction * barWidth));
  const bar = "=".repeat(filled) +
    (filled < barWidth ? ">" + " ".repeat(barWidth - filled - 1) : "");
  const line = `[${bar}] ${pct}  ${counters}`;
  return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
}
