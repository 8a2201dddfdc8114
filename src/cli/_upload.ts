// `upload <file>` and `validate <file>`. Private to src/cli/mod.ts.

import {
  type BadRow,
  type BulkManifest,
  type BulkProgress,
  bulkUpload,
  BulkUploadError,
  fingerprint,
  type InFlightSpan,
  reopenCancelled,
  type RowWarning,
  settleInFlight,
  validateRows,
} from "../import/bulk.ts";
import { createHash } from "node:crypto";
import { currentFingerprint } from "../import/_row_warnings.ts";
import { DateOrderEvidence } from "../import/_date_order_evidence.ts";
import type { RecaptureClient } from "../sdk/client.ts";
import {
  type ColumnAssignment,
  type ColumnReport,
  columnReport,
  type ColumnTarget,
  type CsvReadOptions,
  type DateOrder,
  readCsv,
  readNdjson,
  type SourceRow,
} from "../import/csv.ts";
import type { CustomerInput, Region } from "../sdk/schemas.ts";
import { normalizeHeader, TARGETS } from "../import/columns.ts";
import { duration, num, type ProgressFrame, progressLine, table } from "./_format.ts";
import { cliWords, EXIT, FileError, type Io, UsageError } from "./_io.ts";
import { NUMBER_FLAGS, numberFlag } from "./_commands.ts";

/** Options shared by `upload` and `validate`. */
export interface FileOptions {
  file: string;
  region: Region;
  json: boolean;
  format?: string;
  delimiter?: string;
  encoding?: string;
  dateOrder?: string;
  map: string[];
  badRowsPath?: string;
  /** `--strict-columns`: refuse a column no rule maps. */
  strictColumns: boolean;
  /** `--allow-past-expiry`: send rows whose expiry date is today or earlier. */
  allowPastExpiry: boolean;
  /** `--skip-malformed`: a ragged line is a bad row, not the end of the file. */
  skipMalformed: boolean;
}

/** Options of `upload`. */
export interface UploadOptions extends FileOptions {
  name?: string;
  batchSize?: string;
  concurrency?: string;
  regoLookups: boolean;
  wait: boolean;
  manifestPath?: string;
  resume: boolean;
  restart: boolean;
  pollMs?: string;
  mode: "api" | "sandbox";
  /** Where job ids are indexed (`<jobsDir>/<job_id>.json` → the manifest). */
  jobsDir: string;
  /** The local record of what was sent to this account and region (fingerprint, date, upload). */
  sentRecord: string;
  /** `--resend`: send rows already sent before. */
  resend: boolean;
  /** `--skip-sent`: leave out rows already sent before (each with a warning). */
  skipSent: boolean;
  /** `--check-account`: compare with the account's customers instead of the local record. */
  checkAccount: boolean;
  /**
   * `--resend-unconfirmed`: on `--resume`, send again the rows of uploads that were in flight
   * when the earlier run stopped and that could not be found (they may be stored twice).
   */
  resendUnconfirmed: boolean;
}

/** Where each fingerprint went before: from the local record, or the account's customers. */
async function sentEarlier(
  client: RecaptureClient,
  o: UploadOptions,
): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  if (o.checkAccount) {
    // Paged over the whole account: it costs one request per 1,000 customers.
    for await (
      const c of client.customers.iterate({ pageSize: NUMBER_FLAGS.limit.max }, {
        region: o.region,
      })
    ) {
      const print = fingerprint(c as CustomerInput);
      if (print !== null && !where.has(print)) {
        where.set(print, `on ${(c.created_at ?? "").slice(0, 10)}, upload ${c.upload_id ?? "?"}`);
      }
    }
    return where;
  }
  let text: string;
  try {
    text = await Deno.readTextFile(o.sentRecord);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return where;
    throw error;
  }
  for (const line of text.split("\n")) {
    const [written, date, upload] = line.split("\t");
    // Lines older versions wrote kept the dashes of regos: read as the fingerprint is made now.
    const print = currentFingerprint(written);
    if (upload !== undefined && !where.has(print)) where.set(print, `on ${date}, upload ${upload}`);
  }
  return where;
}

/** "3 on 2026-03-01, upload upl_1; 2 on ..." from already_sent warnings. */
function sentSummary(warnings: RowWarning[]): string {
  const groups = new Map<string, number>();
  for (const w of warnings) {
    const at = w.message.replace(/^already sent /, "").replace(/: skipped$/, "");
    groups.set(at, (groups.get(at) ?? 0) + 1);
  }
  const parts = [...groups].slice(0, 5).map(([at, n]) => `${num(n)} ${at}`);
  return parts.join("; ") + (groups.size > 5 ? `; and ${groups.size - 5} more uploads` : "");
}

/** How much of a file a run had read, and the SHA-256 of those bytes. */
export interface ReadSoFar {
  bytes: number;
  sha256: string;
}

interface SourceFile {
  rows: AsyncIterable<SourceRow>;
  format: "csv" | "ndjson";
  size: number;
  mtime: string | null;
  bytes: () => number;
  /** The bytes read so far and their hash (the manifest keeps it to spot a changed file). */
  read: () => ReadSoFar;
  /** The mapping report, once the header has been read (CSV only). */
  columns: () => ColumnReport | undefined;
}

const DELIMITERS: Record<string, CsvReadOptions["delimiter"]> = {
  ",": ",",
  comma: ",",
  ";": ";",
  semicolon: ";",
  tab: "\t",
  "\t": "\t",
  "|": "|",
  pipe: "|",
};

/** What {@linkcode openSource} tells as it reads. */
interface SourceHooks {
  /** The mapping report, once the header is read (before any row). */
  onColumns?: (report: ColumnReport) => void;
  /** Each non-blank cell of a date column, as found (CSV only). */
  onDateCell?: (value: string, column: string, line: number) => void;
}

/** Opens the file as a stream of rows, with a byte counter for the progress bar. */
async function openSource(o: FileOptions, hooks: SourceHooks = {}): Promise<SourceFile> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(o.file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new FileError(`File not found: ${o.file}`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new FileError(`Cannot read ${o.file}: permission denied`);
    }
    throw error;
  }
  if (info.isDirectory) throw new FileError(`${o.file} is a directory, not a CSV file`);
  const ext = o.file.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? "";
  if (ext === "xlsx" || ext === "xls" || ext === "numbers" || ext === "ods") {
    throw new FileError(
      `${o.file} is a spreadsheet workbook, not a CSV file: export it as CSV (File > Save As > CSV)`,
    );
  }
  const format = o.format ?? (ext === "ndjson" || ext === "jsonl" ? "ndjson" : "csv");
  if (format !== "csv" && format !== "ndjson") {
    throw new UsageError(`--format must be csv or ndjson, got ${JSON.stringify(format)}`);
  }
  const columns: Record<string, ColumnTarget> = {};
  for (const pair of o.map) {
    const at = pair.lastIndexOf("=");
    if (at <= 0) {
      throw new UsageError(`--map wants "Column Header=field", got ${JSON.stringify(pair)}`);
    }
    const target = pair.slice(at + 1).trim();
    if (!TARGETS.has(target)) {
      throw new UsageError(
        `--map ${JSON.stringify(pair)}: ${JSON.stringify(target)} is not a customer field (one of ${
          [...TARGETS].join(", ")
        })`,
      );
    }
    columns[pair.slice(0, at)] = target as ColumnTarget;
  }
  let delimiter: CsvReadOptions["delimiter"];
  if (o.delimiter !== undefined) {
    delimiter = DELIMITERS[o.delimiter];
    if (!delimiter) {
      throw new UsageError(
        `--delimiter must be one of , ; tab |, got ${JSON.stringify(o.delimiter)}`,
      );
    }
  }
  if (o.dateOrder !== undefined && o.dateOrder !== "dmy" && o.dateOrder !== "mdy") {
    throw new UsageError(`--date-order must be dmy or mdy, got ${JSON.stringify(o.dateOrder)}`);
  }
  if (o.encoding !== undefined) {
    try {
      new TextDecoder(o.encoding);
    } catch {
      throw new UsageError(
        `--encoding: unknown text encoding ${JSON.stringify(o.encoding)} (e.g. windows-1252)`,
      );
    }
  }
  const file = await Deno.open(o.file);
  let bytes = 0;
  const hash = createHash("sha256");
  const counted = file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        hash.update(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
  const common = {
    columns,
    skipMalformed: o.skipMalformed,
    ...(o.encoding ? { encoding: o.encoding } : {}),
    ...(o.dateOrder ? { dateOrder: o.dateOrder as DateOrder } : {}),
  };
  let report: ColumnReport | undefined;
  const rows = format === "ndjson" ? readNdjson(counted, common) : readCsv(counted, {
    ...common,
    ...(delimiter ? { delimiter } : {}),
    strictColumns: o.strictColumns,
    ...(hooks.onDateCell ? { onDateCell: hooks.onDateCell } : {}),
    onColumns: (plan: ColumnAssignment[]) => {
      // A --map is matched as the column table matches (case, spaces, punctuation aside); one
      // that names no column is a typo that would leave the column unmapped without a word.
      const headers = new Set(plan.map((c) => normalizeHeader(c.header)));
      const unmatched = o.map.filter((pair) =>
        !headers.has(normalizeHeader(pair.slice(0, pair.lastIndexOf("="))))
      );
      if (unmatched.length > 0) {
        throw new UsageError(
          `${
            unmatched.map((pair) => `--map ${JSON.stringify(pair)}`).join(", ")
          }: no column of ${o.file} is called so (its columns: ${
            plan.map((c) => c.header).join(", ")
          })`,
        );
      }
      report = columnReport(plan);
      hooks.onColumns?.(report);
    },
  });
  return {
    rows,
    format,
    size: info.size,
    mtime: info.mtime?.toISOString() ?? null,
    bytes: () => bytes,
    read: () => ({ bytes, sha256: hash.copy().digest("hex") }),
    columns: () => report,
  };
}

/**
 * Without `--date-order`, reads the file once before anything is sent, for what its date
 * columns prove: one month-first-only value (`12/25/2023`) means the column's other dates
 * (`02/03/2024`) are month-first too, and read day first (the default) they would be sent with
 * day and month swapped. Such a column, or one holding both kinds, refuses the run, naming the
 * column, the lines and the flag (`validate` says the same: what `upload` would do).
 */
async function checkDateOrder(o: FileOptions): Promise<void> {
  if (o.dateOrder !== undefined) return;
  const evidence = new DateOrderEvidence();
  const check = await openSource(o, {
    onDateCell: (value, column, line) => evidence.see(column, value, line),
  });
  if (check.format !== "csv") return;
  try {
    for await (const _ of check.rows) { /* only the date cells are wanted */ }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // A file the reader refuses part-way is refused by the run itself, as before (the rows
    // before the problem are read first); what was proven up to there still counts.
  }
  const conflicts = evidence.conflicts("dmy");
  if (conflicts.length === 0) return;
  throw new UsageError(
    `${o.file}: ${conflicts.map((c) => c.message).join("; ")}. Nothing was sent`,
  );
}

/**
 * Refuses to resume when the first `read.bytes` bytes of the file are not those the earlier run
 * read (a row edited, two lines swapped): the rows it recorded by position would be wrong.
 */
async function checkUnchanged(path: string, read: ReadSoFar, manifestPath: string): Promise<void> {
  const hash = createHash("sha256");
  let left = read.bytes;
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 16);
  while (left > 0) {
    const n = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    left -= n;
  }
  if (left > 0 || hash.digest("hex") !== read.sha256) {
    throw new UsageError(
      `--resume: the file changed since the first run (${path} is not what ${manifestPath} ` +
        `records having read): its rows are recorded by position, so some could be sent twice ` +
        `and others never. Nothing was sent: pass --restart to upload the whole file again`,
    );
  }
}

/** The upload ids the local record of what was sent names last (newest last), at most `max`. */
async function recentUploads(path: string, max = 50): Promise<string[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    const tail = Math.min(size, 1 << 20);
    await file.seek(size - tail, Deno.SeekMode.Start);
    const buffer = new Uint8Array(tail);
    let at = 0;
    while (at < tail) {
      const n = await file.read(buffer.subarray(at));
      if (n === null) break;
      at += n;
    }
    const ids: string[] = [];
    const lines = new TextDecoder().decode(buffer.subarray(0, at)).split("\n");
    for (let i = lines.length - 1; i >= 0 && ids.length < max; i--) {
      const upload = lines[i].split("\t")[2];
      if (upload && !ids.includes(upload)) ids.push(upload);
    }
    return ids;
  } finally {
    file.close();
  }
}

/** "lines 2-1001 (1,000 rows), lines 1002-2001 (1,000 rows)": where the spans are in the file. */
function spanPlaces(spans: InFlightSpan[]): string {
  return spans.map((s) => {
    const [a, b] = s.first_line !== undefined
      ? [`line ${s.first_line}`, `${s.last_line}`]
      : [`index ${s.first_row}`, `${s.last_row}`];
    return `${a}-${b} (${num(s.customers)} customers, upload "${s.name}", sent ${s.sent_at})`;
  }).join("; ");
}

/** `--map "Header=field"` for a header (quoted for a shell). */
function mapFlag(header: string, field: string): string {
  return `--map ${JSON.stringify(`${header}=${field}`)}`;
}

/** The mapping report as the CLI's JSON shows it (snake_case, hints as flags). */
export function columnsJson(report: ColumnReport): Record<string, unknown> {
  return {
    mapped: report.mapped.map((m) => ({
      ...m,
      ...(m.caution ? { caution: cliWords(m.caution), map: mapFlag(m.header, "additional") } : {}),
    })),
    additional: report.additional,
    ignored: report.ignored,
    near_misses: report.nearMisses.map((n) => ({ ...n, map: mapFlag(n.header, n.field) })),
  };
}

/** The mapping report as text: one line per column, near-misses and cautions with their fix. */
export function columnsText(report: ColumnReport): string {
  const near = new Map(report.nearMisses.map((n) => [n.header, n]));
  const rows: string[][] = [["column", "goes to", "note"]];
  for (const m of report.mapped) {
    rows.push([
      m.header,
      m.field,
      m.caution ? `caution: ${m.caution} (${mapFlag(m.header, "additional")})` : "",
    ]);
  }
  for (const a of report.additional) {
    const n = near.get(a.header);
    rows.push([
      a.header,
      "additional_fields",
      a.repeats
        ? `another ${a.repeats.field} column ("${a.repeats.by}" is used): its values are kept as "${a.key}"`
        : n
        ? `near-miss: ${n.reason}; to use it: ${mapFlag(n.header, n.field)}`
        : "",
    ]);
  }
  for (const h of report.ignored) rows.push([h, "(ignored)", ""]);
  const misses = report.nearMisses.length;
  return `Columns${misses > 0 ? ` (${misses} near-miss${misses === 1 ? "" : "es"})` : ""}:\n` +
    table(rows, 60) + "\n";
}

/** The bad rows kept for the report: the KEEP_BAD_ROWS first in the file, and how many. */
const KEEP_BAD_ROWS = 1000;

/**
 * Keeps the bad rows that come first in the file. Batches finish out of order (a batch of only
 * bad rows is reported at once, an earlier one when its upload is answered), so the first
 * KEEP_BAD_ROWS to arrive are not always the first in the file.
 */
export class BadRowKeeper<T extends { index: number } = BadRow> {
  rows: T[] = [];
  count = 0;
  add(b: T): void {
    this.count++;
    this.rows.push(b);
    // Trimmed in bulk, not per row: at most 2 x KEEP_BAD_ROWS are held.
    if (this.rows.length >= 2 * KEEP_BAD_ROWS) this.rows = this.sorted();
  }
  sorted(): T[] {
    return [...this.rows].sort((a, b) => a.index - b.index).slice(0, KEEP_BAD_ROWS);
  }
}

/**
 * One numbering for files: a row read from a file is named by its physical line only (the
 * 0-based position `index` is left out of what the CLI shows, so no second number appears).
 */
function oneNumbering<
  T extends { index: number; line?: number; first?: { index: number; line?: number } },
>(
  item: T,
): Omit<T, "index"> | T {
  if (item.line === undefined) return item;
  const { index: _, ...rest } = item;
  if (rest.first?.line !== undefined) rest.first = { line: rest.first.line } as T["first"];
  return rest;
}

/** A bad row with its reasons in the command line's words (hints name flags). */
function inCliWords(b: BadRow): BadRow {
  return { ...b, issues: b.issues.map((i) => ({ ...i, reason: cliWords(i.reason) })) };
}

/** Warnings to the terminal (the first `limit`), with how many rows they skipped. */
function showWarnings(io: Io, rows: RowWarning[], total: number, limit = 10): void {
  if (total === 0) return;
  const skipped = rows.filter((w) => w.skipped).length;
  io.err(
    `\n${num(total)} warning${total === 1 ? "" : "s"}${
      skipped > 0 && total <= KEEP_BAD_ROWS
        ? ` (${num(skipped)} row${skipped === 1 ? "" : "s"} skipped, not sent)`
        : ""
    }:\n`,
  );
  const shown = rows.slice(0, limit).map((w) => [
    w.line !== undefined ? `line ${w.line}` : `index ${w.index}`,
    w.kind,
    w.message,
  ]);
  io.err(table([["where", "warning", "what"], ...shown], 60) + "\n");
  if (total > limit) io.err(`... and ${num(total - limit)} more (--json lists them)\n`);
}

/** Bad rows to the terminal (the first `limit`) and, when asked, all of them to a file. */
function showBadRows(
  io: Io,
  rows: BadRow[],
  total: number,
  savedTo: string | undefined,
  limit = 10,
): void {
  if (total === 0) return;
  io.err(`\n${num(total)} bad row${total === 1 ? "" : "s"} (not sent):\n`);
  const shown = rows.slice(0, limit).map((b) => [
    b.line !== undefined ? `line ${b.line}` : `index ${b.index}`,
    b.issues.map((i) => i.field || "row").join(", "),
    // The line is in the first column already: drop it from reader messages. Never cut.
    b.issues.map((i) => i.reason.replace(/ on line \d+(?=[,:])/, "")).join("; "),
  ]);
  io.err(table([["where", "field", "problem"], ...shown], 60) + "\n");
  if (total > limit) {
    const where = savedTo ? `all of them are in ${savedTo}` : "--bad-rows FILE saves them all";
    io.err(`... and ${num(total - limit)} more (${where})\n`);
  }
}

/**
 * Where the bad rows and warnings of a run go: kept for the report (the first ones in file
 * order), and every bad row in the command line's words to the `--bad-rows` file.
 */
function collector(sink: { write(b: object): void } | undefined): {
  keeper: BadRowKeeper;
  warned: BadRowKeeper<RowWarning>;
  handlers: {
    collectBadRows: false;
    onBadRow(raw: BadRow): void;
    onWarning(w: RowWarning): void;
  };
} {
  const keeper = new BadRowKeeper();
  const warned = new BadRowKeeper<RowWarning>();
  return {
    keeper,
    warned,
    handlers: {
      collectBadRows: false,
      onBadRow: (raw) => {
        const b = inCliWords(raw);
        keeper.add(b);
        sink?.write(oneNumbering(b));
      },
      onWarning: (w) => warned.add(w),
    },
  };
}

async function openBadRowsFile(path: string | undefined): Promise<
  { write(b: object): void; close(): Promise<void> } | undefined
> {
  if (path === undefined) return undefined;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  const enc = new TextEncoder();
  let chain: Promise<void> = Promise.resolve();
  return {
    write(b) {
      chain = chain.then(() => writer.write(enc.encode(JSON.stringify(b) + "\n")));
    },
    async close() {
      await chain;
      await writer.close();
    },
  };
}

/** `validate <file>`: the column report, every row checked, bad rows and warnings reported, nothing sent. */
export async function validateCommand(io: Io, o: FileOptions): Promise<number> {
  await checkDateOrder(o);
  const source = await openSource(o);
  const started = Date.now();
  const sink = await openBadRowsFile(o.badRowsPath);
  let lastDraw = 0;
  try {
    const { keeper, warned, handlers } = collector(sink);
    const report = await validateRows(source.rows, {
      region: o.region,
      allowPastExpiry: o.allowPastExpiry,
      ...handlers,
      onProgress: (p) => {
        if (!io.tty || o.json || Date.now() - lastDraw < 100) return;
        lastDraw = Date.now();
        const pct = source.size > 0 ? Math.floor(source.bytes() / source.size * 100) : 0;
        io.err(
          `\r\x1b[KChecking ${o.file}: ${pct}%  ${num(p.rowsRead)} rows, ${num(p.badRows)} bad`,
        );
      },
    });
    if (io.tty && !o.json) io.err("\r\x1b[K");
    const ms = Date.now() - started;
    const columns = source.columns();
    if (o.json) {
      io.out(
        JSON.stringify({
          file: o.file,
          ...(columns ? { columns: columnsJson(columns) } : {}),
          rows: report.rowsRead,
          valid: report.valid,
          bad: report.badCount,
          skipped: report.skippedCount,
          bad_rows: keeper.sorted().map(oneNumbering),
          bad_rows_truncated: report.badCount > keeper.rows.length,
          warnings: warned.sorted().map(oneNumbering),
          warnings_count: report.warningCount,
          warnings_truncated: report.warningCount > KEEP_BAD_ROWS,
          elapsed_ms: ms,
        }) + "\n",
      );
    } else {
      if (columns) io.out(columnsText(columns));
      io.out(
        `${o.file}: ${num(report.rowsRead)} rows, ${num(report.valid)} valid, ${
          num(report.badCount)
        } bad, ${num(report.skippedCount)} skipped (duplicates, footer lines), ${
          num(report.warningCount)
        } warning${report.warningCount === 1 ? "" : "s"} (${duration(ms)}). Nothing was sent.\n`,
      );
      showBadRows(io, keeper.sorted(), report.badCount, o.badRowsPath);
      showWarnings(io, warned.sorted(), report.warningCount);
    }
    return report.badCount > 0 ? EXIT.badRows : EXIT.ok;
  } finally {
    await sink?.close();
  }
}

/** What the CLI saves beside a file: the bulk manifest and what the file was. */
export interface SavedManifest {
  /** The file; `read` is how much of it the runs read, and its hash (`--resume` checks it). */
  file: { path: string; size: number; mtime: string | null; read?: ReadSoFar };
  mode: "api" | "sandbox";
  manifest: BulkManifest;
}

/** The manifest saved at `path`, or undefined when there is none (a file error if not ours). */
export async function readSaved(path: string): Promise<SavedManifest | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const saved = JSON.parse(text) as SavedManifest;
    if (saved?.manifest?.version !== 1) throw new Error("not a manifest");
    return saved;
  } catch {
    throw new FileError(`${path} is not a manifest written by this tool`);
  }
}

/** Fails (a file error) when `path` cannot be written: its folder is missing, or not ours. */
async function probeWritable(path: string): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    await Deno.writeTextFile(tmp, "");
    await Deno.remove(tmp);
  } catch (error) {
    throw new FileError(
      `Cannot write the manifest ${path} (${
        error instanceof Error ? error.name : "error"
      }): nothing was sent; pass --manifest with a writable path`,
    );
  }
}

async function writeSaved(path: string, saved: SavedManifest): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(saved, null, 1) + "\n");
  await Deno.rename(tmp, path);
}

/** Appends what an upload carried to the local record of what was sent. */
async function recordSent(
  path: string,
  uploadId: string,
  prints: (string | null)[],
): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  let text = "";
  for (const print of prints) if (print !== null) text += `${print}\t${date}\t${uploadId}\n`;
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text, { append: true });
}

/** The job index: `<jobsDir>/<job_id>.json` names the manifest of the job. */
async function indexJob(
  jobsDir: string,
  jobId: string | undefined,
  manifest: string,
): Promise<void> {
  if (jobId === undefined) return;
  await Deno.mkdir(jobsDir, { recursive: true });
  const absolute = manifest.startsWith("/") ? manifest : `${Deno.cwd()}/${manifest}`;
  await Deno.writeTextFile(
    `${jobsDir}/${jobId}.json`,
    JSON.stringify({ job_id: jobId, manifest: absolute }) + "\n",
  );
}

/** The signals that stop an upload and keep its manifest exact (Windows has SIGINT only). */
const STOP_SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];

/** Whether a manifest records something sent, or possibly sent (in flight). */
function sentAny(m: BulkManifest): boolean {
  return m.uploads.some((u) => u.upload_id) || (m.in_flight?.length ?? 0) > 0;
}

/**
 * `--resume` after a run that stopped with uploads in flight (killed, connection lost): finds
 * each in the account (see `settleInFlight`), saves what it found, and refuses, naming the rows,
 * when some stay unknown, unless `--resend-unconfirmed` accepts that they may be stored twice.
 */
async function settleFlying(
  io: Io,
  client: RecaptureClient,
  o: UploadOptions,
  previous: SavedManifest,
  manifestPath: string,
): Promise<BulkManifest> {
  const before = previous.manifest.in_flight?.length ?? 0;
  const { manifest, unconfirmed } = await settleInFlight(client, previous.manifest, {
    region: o.region,
    candidates: await recentUploads(o.sentRecord),
  });
  if (unconfirmed.length < before) {
    await writeSaved(manifestPath, { ...previous, manifest });
    if (!o.json) {
      io.err(
        `Found ${before - unconfirmed.length} upload(s) that were in flight when the earlier ` +
          `run stopped: their rows are done\n`,
      );
    }
  }
  if (unconfirmed.length === 0) return manifest;
  if (!o.resendUnconfirmed) {
    throw new UsageError(
      `--resume: the earlier run stopped while ${unconfirmed.length} upload(s) were being sent, ` +
        `and none of them is found in the account: ${spanPlaces(unconfirmed)}. They may exist ` +
        `all the same (an upload not processed yet has no customers). Nothing was sent. Run the ` +
        `same command again in a few minutes to look again; pass --resend-unconfirmed to send ` +
        `those rows again (if their upload did arrive, they are stored twice), or --restart to ` +
        `upload the whole file again`,
    );
  }
  const { in_flight: _, ...rest } = manifest;
  if (!o.json) {
    io.err(`Sending again, as asked (--resend-unconfirmed): ${spanPlaces(unconfirmed)}\n`);
  }
  return rest;
}

/** `upload <file>`: read, validate, send in batches, show progress until processed. */
export async function uploadCommand(
  io: Io,
  client: RecaptureClient,
  o: UploadOptions,
): Promise<number> {
  const batchSize = numberFlag("batch-size", o.batchSize);
  const concurrency = numberFlag("concurrency", o.concurrency);
  const pollIntervalMs = numberFlag("poll-ms", o.pollMs);
  const manifestPath = o.manifestPath ?? `${o.file}.recapture.json`;
  // The column report is shown as soon as the header is read: before anything is sent.
  const source = await openSource(o, {
    onColumns: (report) => {
      if (!o.json) io.err(columnsText(report));
    },
  });
  const previous = await readSaved(manifestPath);
  let resume: BulkManifest | undefined;
  const sentBefore = previous !== undefined && sentAny(previous.manifest);
  if (o.resume) {
    if (!previous) throw new UsageError(`--resume: no manifest at ${manifestPath}`);
    if (previous.mode !== o.mode) {
      const where = (mode: string) =>
        mode === "sandbox" ? "the local sandbox" : "the Recapture API";
      throw new UsageError(
        `--resume: ${manifestPath} records an upload to ${where(previous.mode)}, but this run ` +
          `sends to ${where(o.mode)}: pass --restart to upload the whole file there`,
      );
    }
    const region = previous.manifest.region;
    if (region !== undefined && region !== o.region) {
      throw new UsageError(
        `--resume: ${manifestPath} records an upload to region ${region}, not ${o.region}`,
      );
    }
    if (previous.file.size !== source.size) {
      throw new UsageError(
        `--resume: ${o.file} changed since ${manifestPath} was written ` +
          `(${num(previous.file.size)} bytes then, ${
            num(source.size)
          } now): rows could be sent twice`,
      );
    }
    if (previous.file.read) await checkUnchanged(o.file, previous.file.read, manifestPath);
    let manifest = previous.manifest;
    if ((manifest.in_flight?.length ?? 0) > 0) {
      manifest = await settleFlying(io, client, o, previous, manifestPath);
    }
    // Uploads cancelled part-way are read again; what they stored is not sent twice.
    resume = await reopenCancelled(client, manifest, { region: o.region });
  } else if (previous && sentBefore && !o.restart) {
    throw new UsageError(
      `${manifestPath} records an earlier upload of this file (${
        previous.manifest.uploads.filter((u) => u.upload_id).length
      } uploads). Pass --resume to continue it, or --restart to upload the whole file again`,
    );
  }
  // A date column whose order the file proves otherwise: refused before anything is sent.
  await checkDateOrder(o);
  // Nothing is sent unless where it will be recorded can be written.
  await probeWritable(manifestPath);
  // Customers sent before (by an earlier run, another file): told before anything is sent.
  let alreadySent: ((print: string) => string | null) | undefined;
  if (!o.resend && resume === undefined) {
    const where = await sentEarlier(client, o);
    if (where.size > 0) {
      alreadySent = (print) => where.get(print) ?? null;
      const check = await openSource(o);
      const seen: RowWarning[] = [];
      await validateRows(check.rows, {
        region: o.region,
        allowPastExpiry: o.allowPastExpiry,
        collectBadRows: false,
        alreadySent,
        onWarning: (w) => {
          if (w.kind === "already_sent") seen.push(w);
        },
      });
      if (seen.length > 0 && !o.skipSent) {
        throw new UsageError(
          `${num(seen.length)} rows of ${o.file} were already sent (${sentSummary(seen)}; ${
            o.checkAccount ? "found among the account's customers" : `recorded in ${o.sentRecord}`
          }). Nothing was sent: pass --skip-sent to leave them out, or --resend to send them again`,
        );
      }
      if (seen.length > 0 && !o.json) {
        io.err(`Leaving out ${num(seen.length)} rows already sent (${sentSummary(seen)})\n`);
      }
    }
  }
  const name = o.name ?? resume?.name ?? o.file.replace(/^.*[\\/]/, "");
  // How much of the file the runs read, and its hash: a resumed run keeps the earlier run's
  // record (checked above) until it has read further.
  const fileInfo = (): SavedManifest["file"] => {
    const now = source.read();
    const earlier = o.resume ? previous?.file.read : undefined;
    const read = earlier && earlier.bytes > now.bytes ? earlier : now;
    return { path: o.file, size: source.size, mtime: source.mtime, read };
  };
  const controller = new AbortController();
  let firstInterrupt = 0;
  // SIGTERM (kill, a service manager) and SIGHUP (the terminal closed) stop the run as Ctrl-C
  // does: the uploads in flight are awaited and recorded, so --resume sends none twice.
  const onSignal = (signal: Deno.Signal) => {
    // Under `deno task` one Ctrl-C can arrive twice (from the terminal and forwarded by the
    // task runner) within milliseconds: only a second press later means "quit at once".
    if (firstInterrupt > 0) {
      if (Date.now() - firstInterrupt > 500) Deno.exit(EXIT.interrupted);
      return;
    }
    firstInterrupt = Date.now();
    try {
      io.err(
        `\nStopping${
          signal === "SIGINT" ? "" : ` (${signal})`
        }: waiting for the uploads in flight (Ctrl-C again to quit at once)\n`,
      );
    } catch { /* the terminal is gone (SIGHUP): stop all the same */ }
    controller.abort(new Error("interrupted"));
  };
  const listeners = STOP_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  const live = io.tty && !o.json;
  let last: BulkProgress | undefined;
  let lastDraw = 0;
  const draw = (p: BulkProgress, force = false) => {
    last = p;
    if (!live || (!force && Date.now() - lastDraw < 100)) return;
    lastDraw = Date.now();
    const frame: ProgressFrame = { ...p, bytesRead: source.bytes(), bytesTotal: source.size };
    io.err("\r\x1b[K" + progressLine(frame, io.columns()));
  };
  const ticker = live ? setInterval(() => last && draw({ ...last }, true), 500) : undefined;
  const sink = await openBadRowsFile(o.badRowsPath);
  const { keeper, warned, handlers } = collector(sink);
  // A manifest records what was sent, or may have been (in flight): a run that sent nothing (a
  // binary file, a refused key) leaves none behind, unless it continues one.
  let wrote = false;
  const keep = (m: BulkManifest) => resume !== undefined || sentAny(m);
  let indexed = false;
  const save = async (manifest: BulkManifest) => {
    if (!keep(manifest)) return;
    wrote = true;
    await writeSaved(manifestPath, { file: fileInfo(), mode: o.mode, manifest });
    if (!indexed) {
      indexed = true;
      await indexJob(o.jobsDir, manifest.job_id, manifestPath);
    }
  };
  if (!o.json) {
    io.err(
      `Uploading ${o.file} to ${
        o.mode === "sandbox" ? "the local sandbox" : "the Recapture API"
      } (region ${o.region})${resume ? ", resuming" : ""}\n`,
    );
  }
  try {
    const result = await bulkUpload(client, source.rows, {
      name,
      region: o.region,
      batchSize,
      concurrency,
      ...(o.regoLookups ? { enable_rego_lookups: true } : {}),
      ...(resume ? { resume } : {}),
      allowPastExpiry: o.allowPastExpiry,
      ...(alreadySent ? { alreadySent } : {}),
      onUploaded: (upload, prints) => recordSent(o.sentRecord, upload.id, prints),
      signal: controller.signal,
      waitForProcessing: o.wait,
      pollIntervalMs,
      onProgress: (p) => draw(p),
      ...handlers,
      onManifest: save,
    });
    await save(result.manifest);
    const manifestShown = keep(result.manifest) ? manifestPath : null;
    draw(result.progress, true);
    if (live) io.err("\n");
    const p = result.progress;
    if (p.rowsRead === 0 && resume === undefined) {
      // A header and nothing under it: most likely the wrong file (an export's template).
      throw new FileError(`${o.file} has a header but no rows under it: nothing was sent`);
    }
    // In the file's order (the manifest's), as `status <job>` lists them; uploads finish in
    // any order when several are sent at once.
    const ids = result.manifest.uploads.flatMap((u) => u.upload_id === null ? [] : [u.upload_id]);
    if (o.json) {
      io.out(
        JSON.stringify({
          file: o.file,
          name,
          ...(source.columns() ? { columns: columnsJson(source.columns()!) } : {}),
          rows_read: p.rowsRead,
          rows_skipped: p.rowsSkipped,
          rows_skipped_with_warning: p.rowsSkippedWithWarning,
          uploaded: p.rowsUploaded,
          processed: p.processed,
          errors: p.errors,
          bad: keeper.count,
          bad_rows: keeper.sorted().map(oneNumbering),
          bad_rows_truncated: keeper.count > KEEP_BAD_ROWS,
          warnings: warned.sorted().map(oneNumbering),
          warnings_count: warned.count,
          warnings_truncated: warned.count > KEEP_BAD_ROWS,
          job_id: result.manifest.job_id ?? null,
          upload_ids: ids,
          waited: o.wait,
          manifest: manifestShown,
          elapsed_ms: p.elapsedMs,
        }) + "\n",
      );
    } else {
      io.out(
        `Uploaded ${num(p.rowsUploaded)} of ${num(p.rowsRead)} rows in ${num(ids.length)} upload${
          ids.length === 1 ? "" : "s"
        }${p.rowsSkipped ? ` (${num(p.rowsSkipped)} rows were done by an earlier run)` : ""}; ${
          o.wait
            ? `processed ${num(p.processed)}, ${num(p.errors)} processing errors`
            : "not waiting"
        }; ${num(keeper.count)} bad row${keeper.count === 1 ? "" : "s"}; ${
          num(p.rowsSkippedWithWarning)
        } skipped (duplicates, footer lines); ${duration(p.elapsedMs)}.\n`,
      );
      if (ids.length > 0) {
        io.out(
          `Job ${result.manifest.job_id} (status, cancel: deno task recapture status ${result.manifest.job_id}); uploads: ${
            ids.slice(0, 5).join(" ")
          }${ids.length > 5 ? " ..." : ""}\n`,
        );
      }
      io.out(manifestShown ? `Manifest: ${manifestShown}\n` : "Nothing was sent: no manifest.\n");
      showBadRows(io, keeper.sorted(), keeper.count, o.badRowsPath);
      showWarnings(io, warned.sorted(), warned.count);
      if (!o.wait && o.mode === "sandbox") {
        io.err(
          "Not waiting: the local sandbox processes the rest the next time it runs " +
            "(deno task sandbox, or any recapture command).\n",
        );
      }
    }
    return keeper.count > 0 || p.errors > 0 ? EXIT.badRows : EXIT.ok;
  } catch (error) {
    if (live) io.err("\n");
    if (error instanceof BulkUploadError) {
      const ids = error.manifest.uploads.flatMap((u) => (u.upload_id ? [u.upload_id] : []));
      if (!keep(error.manifest)) {
        // An upload marked in flight before its POST, then refused: the manifest written for
        // it goes (or the one it replaced comes back).
        if (wrote) {
          if (previous) await writeSaved(manifestPath, previous);
          else await Deno.remove(manifestPath).catch(() => {});
        }
        // Nothing was sent: no manifest, no --resume hint; the cause says what to fix.
        if (controller.signal.aborted) {
          if (o.json) {
            io.out(
              JSON.stringify({
                error: { code: "interrupted", message: "Interrupted", exit_code: EXIT.interrupted },
                manifest: null,
                sent: 0,
              }) + "\n",
            );
          } else io.err("Interrupted before anything was sent.\n");
          return EXIT.interrupted;
        }
        throw error.cause ?? error;
      }
      let savedTo = manifestPath;
      try {
        await writeSaved(manifestPath, {
          file: fileInfo(),
          mode: o.mode,
          manifest: error.manifest,
        });
      } catch (writeError) {
        // Say what was sent even so: without it, running again would send it twice.
        savedTo = `no manifest (${
          writeError instanceof Error ? writeError.message : String(writeError)
        }); the uploads are ${ids.join(" ")}`;
      }
      const sent = error.manifest.uploads.reduce((n, u) => n + u.customers, 0);
      const interrupted = controller.signal.aborted;
      const hint = error.allSent
        ? `Every row was sent (${num(sent)} customers, ${savedTo}); the API goes on ` +
          `processing. Follow it with: deno task recapture status ${
            error.manifest.job_id ?? ids.at(-1) ?? ""
          } --wait`
        : `${num(sent)} rows are recorded as sent in ${savedTo}. ` +
          `Continue with: deno task recapture upload ${o.file} --resume`;
      if (interrupted) {
        if (o.json) {
          io.out(
            JSON.stringify({
              error: { code: "interrupted", message: "Interrupted", exit_code: EXIT.interrupted },
              manifest: manifestPath,
              sent,
            }) + "\n",
          );
        } else {
          io.err(`Interrupted. ${hint}\n`);
          showBadRows(io, keeper.sorted(), keeper.count, o.badRowsPath);
        }
        return EXIT.interrupted;
      }
      // The cause decides the exit code; the hint tells how to go on.
      if (!o.json) io.err(`${hint}\n`);
      throw error.cause ?? error;
    }
    throw error;
  } finally {
    clearInterval(ticker);
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    await sink?.close();
  }
}
