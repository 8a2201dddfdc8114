/**
 * Uploading lists too long for one request: {@linkcode bulkUpload} takes any iterable or async
 * iterable of customers (an array, a generator, {@linkcode readCsv} over a file), validates
 * every row, sends the good ones as uploads of a bounded size with a bounded number in flight,
 * reports every bad row once with its line, emits progress, and returns a manifest of upload ids
 * and row ranges from which an interrupted run resumes without sending a row twice.
 *
 * @example
 * ```ts ignore
 * import { RecaptureClient } from "@recapture/sdk";
 * import { bulkUpload } from "@recapture/sdk/bulk";
 * import { readCsv } from "@recapture/sdk/csv";
 *
 * const client = new RecaptureClient({ apiKey: Deno.env.get("RECAPTURE_API_KEY") });
 * const file = await Deno.open("customers.csv");
 * const result = await bulkUpload(client, readCsv(file.readable), {
 *   name: "March sales",
 *   onProgress: (p) => console.log(p.rowsRead, p.rowsUploaded, p.badRows),
 * });
 * console.log(result.manifest.uploads.map((u) => u.upload_id), result.badRows.length);
 * ```
 * @module
 */

import type { RecaptureClient } from "../sdk/client.ts";
import { type CancelledUpload, isUploadDone } from "../sdk/uploads.ts";
import { randomHex } from "../_internal/hex.ts";
import { NotFoundError, RecaptureError } from "../sdk/errors.ts";
import { mayHaveTakenEffect } from "../sdk/_transport.ts";
import { sleep } from "../_internal/sleep.ts";
import type { Customer, CustomerInput, Region, Upload } from "../sdk/schemas.ts";
import { validateCustomers } from "../sdk/validate.ts";
import { UPLOAD_BODY_LIMIT_BYTES, utf8Bytes, withJson } from "../sdk/_body_size.ts";
import { fingerprint, RowChecker, type RowWarning } from "./_row_warnings.ts";

export type { RowWarning, RowWarningKind } from "./_row_warnings.ts";
export { fingerprint } from "./_row_warnings.ts";

/** One upload of a bulk run: which source rows it covers. */
export interface ManifestEntry {
  /** The upload's id, or `null` for a span of source rows that were all bad (nothing sent). */
  upload_id: string | null;
  /** The first source row covered (0-based position in the input). */
  first_row: number;
  /** The last source row covered (inclusive). */
  last_row: number;
  /** Customers sent in this upload (the good rows of the span). */
  customers: number;
  /** Bad rows in the span (reported, not sent). */
  bad_rows: number;
  /** Rows of the span skipped with a warning (exact duplicates, footer lines); absent when 0. */
  skipped_rows?: number;
  /**
   * Rows of the span not sent because an earlier, cancelled upload had stored them (see
   * {@linkcode reopenCancelled}); absent when 0.
   */
  already_stored?: number;
  /** The physical line of `first_row`, when the source gave lines (CSV, NDJSON). */
  first_line?: number;
  /** The physical line of `last_row`, when the source gave lines. */
  last_line?: number;
}

/**
 * An upload of the job that was cancelled before it had processed every customer: its rows are
 * read again by a resumed run, and those it did store (`stored`) are not sent again.
 */
export interface CancelledSpan {
  /** The cancelled upload. */
  upload_id: string;
  /** The first source row it covered (0-based). */
  first_row: number;
  /** The last source row it covered (inclusive). */
  last_row: number;
  /** The key ({@linkcode storedKey}) of each customer it created before it was cancelled. */
  stored: string[];
}

/**
 * An upload sent whose answer was not seen yet: written to the manifest before its POST, so that
 * a run killed while it waited (SIGKILL, a crash, a lost connection) leaves its rows neither
 * done nor forgotten. {@linkcode settleInFlight} finds out what became of it.
 */
export interface InFlightSpan extends Omit<ManifestEntry, "upload_id"> {
  /** The upload's name (`<name> (part N)`), as the API stores it. */
  name: string;
  /** When its POST was about to be sent (ISO 8601). */
  sent_at: string;
  /** The {@linkcode storedKey} of its first and last customers, to find them in the account. */
  keys: string[];
}

/**
 * What a bulk run has done, as plain JSON: save it (e.g. after each `onManifest` call) and pass
 * it back as `resume` to continue an interrupted run over the same source.
 */
export interface BulkManifest {
  /** The format version, `1`. */
  version: 1;
  /** The run's name (each upload is named `<name> (part N)`). */
  name: string;
  /** The region the uploads went to, when one was given. */
  region?: Region;
  /**
   * The job: one id for every upload of the file, kept across resumed runs. Give the manifest
   * to {@linkcode jobStatus} and {@linkcode cancelJob} to follow or stop the file as one thing.
   */
  job_id?: string;
  /** Every span done, ordered by `first_row`. */
  uploads: ManifestEntry[];
  /** Uploads cancelled part-way, whose rows a resumed run reads again (see `reopenCancelled`). */
  cancelled?: CancelledSpan[];
  /**
   * Uploads sent whose answer was not seen (the run was killed or lost its connection while
   * waiting): they may exist. A manifest that holds any is refused as `resume` until
   * {@linkcode settleInFlight} has found them, or the caller removes them to send their rows again.
   */
  in_flight?: InFlightSpan[];
}

/** One problem with a row. */
export interface BadRowIssue {
  /** The field at fault (`rego|vin` when both are missing, `""` for the whole row). */
  field: string;
  /** What is wrong. */
  reason: string;
  /** The file's column, when the problem was found while reading it. */
  column?: string;
}

/** A row that was not sent, with every problem found in it. */
export interface BadRow {
  /** 0-based position in the input (an array's index; files name rows by `line`). */
  index: number;
  /** The physical line of the file, when the source gave lines. */
  line?: number;
  /** Every problem found in the row. */
  issues: BadRowIssue[];
}

/** A snapshot of a bulk run, passed to `onProgress`. */
export interface BulkProgress {
  /** `"uploading"` while rows are read and sent, `"processing"` while waiting, then `"done"`. */
  phase: "uploading" | "processing" | "done";
  /** Rows read from the source so far (skipped ones included). */
  rowsRead: number;
  /** Rows skipped because the resumed manifest already covers them. */
  rowsSkipped: number;
  /** Bad rows found so far (not sent). */
  badRows: number;
  /** Rows not sent because a warning skipped them (exact duplicates, footer lines). */
  rowsSkippedWithWarning: number;
  /** Warnings so far (skipped rows included). */
  warnings: number;
  /** Customers accepted by the API so far (in uploads that answered). */
  rowsUploaded: number;
  /** Uploads created so far in this run. */
  uploads: number;
  /** Uploads sent and not yet answered. */
  inFlight: number;
  /** Customers processed by the API so far, errors included (from polling; this run's uploads). */
  processed: number;
  /** Customers the API failed to process (its `total_errors`). */
  errors: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

/** Options for {@linkcode bulkUpload}. */
export interface BulkUploadOptions {
  /** A name for reference; each upload is named `<name> (part N)`. */
  name: string;
  /** Look up VINs from regos (extra cost). */
  enable_rego_lookups?: boolean;
  /** Upload-level default monitoring start, `YYYY-MM-DD`. */
  monitor_start_date?: string;
  /** Upload-level default monitoring end, `YYYY-MM-DD`. */
  monitor_end_date?: string;
  /** The most customers in one upload (default 5000). */
  batchSize?: number;
  /** The most uploads in flight at once (default 2). */
  concurrency?: number;
  /** The region to upload to (default: the client's). Also used to validate `state`. */
  region?: Region;
  /**
   * Send rows whose `expiry_date` is today or earlier (default false: they are bad rows, since
   * the API deletes such a customer at once).
   */
  allowPastExpiry?: boolean;
  /** A manifest from an earlier run over the same source: its rows are skipped. */
  resume?: BulkManifest;
  /**
   * Stops the run: no more rows are read or sent; uploads already sent are awaited (so the
   * manifest stays exact), then {@linkcode BulkUploadError} is thrown with the manifest.
   */
  signal?: AbortSignal;
  /** Keep polling after the last upload until the API has processed every customer. */
  waitForProcessing?: boolean;
  /** Milliseconds between status polls (default 1000). */
  pollIntervalMs?: number;
  /** Called with a snapshot whenever something moves. */
  onProgress?: (progress: BulkProgress) => void;
  /** Called with each bad row as it is found. */
  onBadRow?: (badRow: BadRow) => void;
  /**
   * Called with each warning: a row skipped (an exact duplicate of an earlier row, a footer or
   * summary line) or sent with a caveat (the same vehicle twice, an AU rego without a state, a
   * suspicious value).
   */
  onWarning?: (warning: RowWarning) => void;
  /**
   * Keep bad rows and warnings in the result's `badRows` and `warnings` (default `true`; turn
   * off for huge inputs).
   */
  collectBadRows?: boolean;
  /** Called with the updated manifest after each span is recorded; awaited (save it here). */
  onManifest?: (manifest: BulkManifest) => void | Promise<void>;
  /**
   * Customers sent before (e.g. by an earlier run over another file): given a valid row's
   * {@linkcode fingerprint}, answer where it went (`"on 2026-03-01, upload upl_1"`) to skip the
   * row with an `already_sent` warning, or null to send it.
   */
  alreadySent?: (fingerprint: string) => string | null;
  /** Called when an upload is created, with the fingerprints of the customers it carries. */
  onUploaded?: (upload: Upload, fingerprints: (string | null)[]) => void | Promise<void>;
}

/** What {@linkcode bulkUpload} did. */
export interface BulkUploadResult {
  /** Every span done, the resumed ones included. */
  manifest: BulkManifest;
  /** The bad rows found in this run (empty when `collectBadRows` is false). */
  badRows: BadRow[];
  /** The warnings of this run, by row (empty when `collectBadRows` is false). */
  warnings: RowWarning[];
  /** Counters at the end of the run. */
  progress: BulkProgress;
  /** The last known state of each upload created in this run, in creation order. */
  uploads: Upload[];
}

/**
 * A bulk run stopped before the end (its `signal` fired, or an upload failed after the client's
 * retries). `manifest` holds what was done: pass it as `resume` to continue. `cause` is the
 * signal's reason or the upload's error.
 *
 * @example
 * ```ts
 * import { BulkUploadError } from "@recapture/sdk/bulk";
 *
 * const e = new BulkUploadError("stopped", { version: 1, name: "x", uploads: [] }, []);
 * console.log(e.code, e.manifest.uploads.length); // "bulk_upload_interrupted" 0
 * ```
 */
export class BulkUploadError extends RecaptureError {
  /** What was done before the run stopped. */
  readonly manifest: BulkManifest;
  /** The bad rows found before the run stopped. */
  readonly badRows: BadRow[];
  /**
   * `true` when every row had been sent and the run stopped while waiting for processing:
   * nothing is left to resume.
   */
  readonly allSent: boolean;

  /**
   * Builds the error from what happened and what was done.
   *
   * @param message what happened
   * @param manifest what was done
   * @param badRows the bad rows found
   * @param options the cause, and whether every row had been sent
   */
  constructor(
    message: string,
    manifest: BulkManifest,
    badRows: BadRow[],
    options?: { cause?: unknown; allSent?: boolean },
  ) {
    super(message, "bulk_upload_interrupted", options);
    this.manifest = manifest;
    this.badRows = badRows;
    this.allSent = options?.allSent ?? false;
  }
}

/** A row as the CSV and NDJSON readers yield it. */
interface LinedRow {
  line: number;
  customer: CustomerInput;
  issues: { field: string; column?: string; reason: string }[];
}

function isLinedRow(value: unknown): value is LinedRow {
  return typeof value === "object" && value !== null &&
    typeof (value as LinedRow).line === "number" &&
    typeof (value as LinedRow).customer === "object" &&
    Array.isArray((value as LinedRow).issues);
}

const VALIDATE_BLOCK = 1000;

function toPending(item: unknown, index: number): Pending {
  if (isLinedRow(item)) {
    return {
      row: index,
      line: item.line,
      customer: item.customer,
      issues: item.issues.length > 0 ? item.issues : undefined,
    };
  }
  return { row: index, line: undefined, customer: item, issues: undefined };
}

/** What {@linkcode checkBlock} decided for each row of a block. */
interface CheckedBlock {
  /** The normalised customer to send, for rows to send. */
  customers: (CustomerInput | undefined)[];
  /** Its JSON, written once for the duplicate checks and the upload's size. */
  json: (string | undefined)[];
  /** The bad row, for rows refused. */
  bad: (BadRow | undefined)[];
  /** The row's warnings, if any. */
  warnings: (RowWarning[] | undefined)[];
  /** Whether a warning skipped the row (it is neither sent nor bad). */
  skipped: boolean[];
}

/**
 * Checks a block of rows, in order: a footer line is skipped; then `validateCustomers` plus the
 * problems the reader found make a row bad; a valid row then gets its warnings from `checker`
 * (an exact duplicate is skipped). Each row ends as exactly one of: sent, bad, skipped.
 */
function checkBlock(
  block: readonly Pending[],
  region: Region,
  allowPastExpiry: boolean,
  checker: RowChecker,
  alreadySent?: (fingerprint: string) => string | null,
): CheckedBlock {
  const { valid, issues } = validateCustomers(block.map((p) => p.customer), {
    region,
    allowPastExpiry,
  });
  const problems = new Map<number, BadRowIssue[]>();
  for (const issue of issues) {
    let list = problems.get(issue.index);
    if (!list) problems.set(issue.index, list = []);
    list.push({ field: issue.field, reason: issue.reason });
  }
  const n = block.length;
  const out: CheckedBlock = {
    customers: new Array<CustomerInput | undefined>(n),
    json: new Array<string | undefined>(n),
    bad: new Array<BadRow | undefined>(n),
    warnings: new Array<RowWarning[] | undefined>(n),
    skipped: new Array<boolean>(n).fill(false),
  };
  let v = 0;
  for (let i = 0; i < n; i++) {
    const p = block[i];
    const found = problems.get(i);
    const customer = found === undefined ? valid[v++] : undefined;
    const footer = checker.footer(p.customer, p.row, p.line);
    if (footer !== null) {
      out.warnings[i] = [footer];
      out.skipped[i] = true;
      continue;
    }
    if (found === undefined && p.issues === undefined) {
      const json = JSON.stringify(customer);
      const warnings = checker.check(customer!, json, p.row, p.line, p.customer);
      const print = alreadySent !== undefined ? fingerprint(customer!) : null;
      const sentBefore = print !== null && !warnings.some((w) => w.skipped)
        ? alreadySent!(print)
        : null;
      if (sentBefore !== null) {
        warnings.push({
          index: p.row,
          ...(p.line !== undefined ? { line: p.line } : {}),
          kind: "already_sent",
          field: "",
          message: `already sent ${sentBefore}: skipped`,
          skipped: true,
        });
      }
      if (warnings.length > 0) out.warnings[i] = warnings;
      if (warnings.some((w) => w.skipped)) out.skipped[i] = true;
      else {
        out.customers[i] = customer;
        out.json[i] = json;
      }
      continue;
    }
    // A row the reader could not split into its columns (field "") has only that problem.
    const whole = p.issues?.some((issue) => issue.field === "") ?? false;
    out.bad[i] = {
      index: p.row,
      ...(p.line !== undefined ? { line: p.line } : {}),
      issues: whole ? p.issues! : [...(p.issues ?? []), ...(found ?? [])],
    };
  }
  return out;
}

/** Options for {@linkcode validateRows}. */
export interface ValidateRowsOptions {
  /** The region the rows are meant for (default `au`): in `au`, `state` must be an AU state. */
  region?: Region;
  /** Accept rows whose `expiry_date` is today or earlier (default false: bad rows). */
  allowPastExpiry?: boolean;
  /** Stops reading: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with each bad row as it is found. */
  onBadRow?: (badRow: BadRow) => void;
  /** Called with each warning as it is found (as {@linkcode BulkUploadOptions.onWarning}). */
  onWarning?: (warning: RowWarning) => void;
  /** As {@linkcode BulkUploadOptions.alreadySent}: rows sent before are skipped, with a warning. */
  alreadySent?: (fingerprint: string) => string | null;
  /** Keep bad rows and warnings in the result (default `true`). */
  collectBadRows?: boolean;
  /** Called after every block of rows with the counts so far. */
  onProgress?: (progress: { rowsRead: number; badRows: number }) => void;
}

/** What {@linkcode validateRows} found. */
export interface ValidateRowsResult {
  /** Rows read. */
  rowsRead: number;
  /** Rows that would be sent. */
  valid: number;
  /** Every bad row, in input order (empty when `collectBadRows` is false). */
  badRows: BadRow[];
  /** How many bad rows were found. */
  badCount: number;
  /** Rows that would not be sent because a warning skips them (duplicates, footer lines). */
  skippedCount: number;
  /** Every warning, in input order (empty when `collectBadRows` is false). */
  warnings: RowWarning[];
  /** How many warnings were given. */
  warningCount: number;
}

/**
 * Checks every row of `source` as {@linkcode bulkUpload} would, sending nothing: the same
 * validation, the same bad-row reports with positions and lines. Memory stays bounded.
 *
 * @param source customers, or the rows of `readCsv` / `readNdjson`
 * @param options region, signal, callbacks
 * @returns the counts and the bad rows
 *
 * @example
 * ```ts
 * import { validateRows } from "@recapture/sdk/bulk";
 *
 * const report = await validateRows([{ rego: "ABC123", state: "NSW" }, { state: "XX" }]);
 * console.log(report.valid, report.badRows[0].issues.map((i) => i.field)); // 1 ["state", "rego|vin"]
 * ```
 */
export async function validateRows(
  source: Iterable<unknown> | AsyncIterable<unknown>,
  options: ValidateRowsOptions = {},
): Promise<ValidateRowsResult> {
  const region = options.region ?? "au";
  const collect = options.collectBadRows ?? true;
  const checker = new RowChecker(region);
  const badRows: BadRow[] = [];
  const warnings: RowWarning[] = [];
  let rowsRead = 0;
  let valid = 0;
  let badCount = 0;
  let skippedCount = 0;
  let warningCount = 0;
  let block: Pending[] = [];
  const flush = () => {
    const checked = checkBlock(
      block,
      region,
      options.allowPastExpiry ?? false,
      checker,
      options.alreadySent,
    );
    for (let i = 0; i < block.length; i++) {
      for (const w of checked.warnings[i] ?? []) {
        warningCount++;
        if (collect) warnings.push(w);
        options.onWarning?.(w);
      }
      const b = checked.bad[i];
      if (checked.skipped[i]) skippedCount++;
      else if (b === undefined) valid++;
      else {
        badCount++;
        if (collect) badRows.push(b);
        options.onBadRow?.(b);
      }
    }
    block = [];
    options.onProgress?.({ rowsRead, badRows: badCount });
  };
  for await (const item of source as AsyncIterable<unknown>) {
    options.signal?.throwIfAborted();
    block.push(toPending(item, rowsRead++));
    if (block.length >= VALIDATE_BLOCK) flush();
  }
  flush();
  return { rowsRead, valid, badRows, badCount, skippedCount, warnings, warningCount };
}

/**
 * Uploads every customer of `source` in uploads of at most `batchSize`, at most `concurrency`
 * at a time, holding no more than that in memory. Each row is validated first (as
 * `validateCustomers` does, plus the problems the file readers found, such as unreadable
 * dates): bad rows are not sent, each is reported once in `badRows` / `onBadRow` with its
 * position and line. The manifest records, per upload, the contiguous source rows it covers;
 * resuming from it skips those rows (the source must yield the same rows in the same order).
 *
 * The source may yield plain customer objects or the rows of {@linkcode readCsv} /
 * `readNdjson` (`{ line, customer, issues }`), whose lines are then reported.
 *
 * @param client the client to upload with
 * @param source the customers, lazily or not
 * @param options name, sizes, resume manifest, signal, callbacks
 * @returns the manifest, the bad rows, the final counters and the uploads' states
 * @throws {BulkUploadError} when the signal fires or an upload fails; it carries the manifest
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { bulkUpload } from "@recapture/sdk/bulk";
 *
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox(); // in memory; or new RecaptureClient({ apiKey }) alone
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * function* customers() {
 *   for (let i = 0; i < 12_000; i++) yield { rego: `ABC${i}`, state: "NSW" };
 * }
 * const { manifest } = await bulkUpload(client, customers(), { name: "Backfill", batchSize: 5000 });
 * console.log(manifest.uploads.map((u) => [u.first_row, u.last_row]));
 * // [[0, 4999], [5000, 9999], [10000, 11999]], one upload id each
 * await sandbox.idle();
 * await sandbox.close();
 * ```
 */
export async function bulkUpload(
  client: RecaptureClient,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  options: BulkUploadOptions,
): Promise<BulkUploadResult> {
  const run = new BulkRun(client, options);
  return await run.run(source);
}

interface Pending {
  row: number;
  line: number | undefined;
  customer: unknown;
  issues: LinedRow["issues"] | undefined;
}

interface Batch {
  customers: CustomerInput[];
  /** Each customer's JSON, as its upload sends it. */
  json: string[];
  badRows: BadRow[];
  /** Rows skipped with a warning. */
  skipped: number;
  /** Rows an earlier, cancelled upload stored (not sent again). */
  alreadyStored: number;
  /** The warnings of the span's rows, reported when the span is recorded. */
  warnings: RowWarning[];
  first: number;
  last: number;
  firstLine: number | undefined;
  lastLine: number | undefined;
  /** The size its upload's body will have, in bytes (the upload's fields counted at most). */
  bytes: number;
}

class BulkRun {
  readonly #client: RecaptureClient;
  readonly #options: BulkUploadOptions;
  readonly #batchSize: number;
  readonly #headBytes: number;
  readonly #concurrency: number;
  /** The most bad rows a span holds before it is closed (bounds memory on all-bad input). */
  readonly #badCap: number;
  readonly #started = Date.now();
  readonly #manifest: BulkManifest;
  readonly #skip: [number, number][];
  #skipAt = 0;
  readonly #badRows: BadRow[] = [];
  readonly #warnings: RowWarning[] = [];
  readonly #checker: RowChecker;
  /** The cancelled spans read again: what each stored, by key and count. */
  readonly #reopened: { first: number; last: number; counts: Map<string, number> }[];
  #part: number;
  // counters
  #rowsRead = 0;
  #rowsSkipped = 0;
  #badSeen = 0;
  #skippedSeen = 0;
  #warningsSeen = 0;
  #rowsUploaded = 0;
  #created = 0;
  readonly #inFlight = new Set<Promise<void>>();
  /** The batch being filled. */
  #filling: Batch | undefined;
  /** Full batches waiting to be sent, in order. */
  readonly #ready: Batch[] = [];
  #polling: Promise<void> | undefined;
  #failure: unknown = undefined;
  // uploads of this run: last known state, and which are not done
  readonly #uploads: Upload[] = [];
  readonly #open: Upload[] = [];
  #phase: BulkProgress["phase"] = "uploading";
  #manifestWrite: Promise<void> = Promise.resolve();

  constructor(client: RecaptureClient, options: BulkUploadOptions) {
    this.#client = client;
    this.#options = options;
    this.#batchSize = positive(options.batchSize ?? 5000, "batchSize");
    this.#concurrency = positive(options.concurrency ?? 2, "concurrency");
    this.#badCap = Math.max(this.#batchSize, 1000);
    if (typeof options.name !== "string" || options.name.trim() === "") {
      throw new TypeError("bulkUpload: options.name must be a non-empty string");
    }
    // An upload's fields but its customers, counted with the longest part number.
    this.#headBytes = utf8Bytes(JSON.stringify({
      name: `${options.name} (part ${Number.MAX_SAFE_INTEGER})`,
      enable_rego_lookups: false,
      monitor_start_date: options.monitor_start_date,
      monitor_end_date: options.monitor_end_date,
      customers: [],
    }));
    const resume = options.resume;
    if (resume !== undefined) {
      if (resume.version !== 1 || !Array.isArray(resume.uploads)) {
        throw new TypeError("bulkUpload: options.resume is not a bulk upload manifest (version 1)");
      }
      if (
        resume.region !== undefined && options.region !== undefined &&
        resume.region !== options.region
      ) {
        throw new TypeError(
          `bulkUpload: the manifest is for region ${resume.region}, not ${options.region}`,
        );
      }
      if ((resume.in_flight?.length ?? 0) > 0) {
        throw new TypeError(
          "bulkUpload: the manifest has uploads in flight whose outcome is unknown: settle them " +
            "with settleInFlight first (or remove in_flight to send their rows again)",
        );
      }
    }
    this.#manifest = {
      version: 1,
      name: options.name,
      ...(options.region ?? resume?.region ? { region: options.region ?? resume?.region } : {}),
      job_id: resume?.job_id ?? `job_${randomHex(10)}`,
      uploads: [...(resume?.uploads ?? [])].sort((a, b) => a.first_row - b.first_row),
      ...(resume?.cancelled?.length ? { cancelled: resume.cancelled } : {}),
    };
    this.#reopened = (resume?.cancelled ?? []).map((span) => {
      const counts = new Map<string, number>();
      for (const key of span.stored) counts.set(key, (counts.get(key) ?? 0) + 1);
      return { first: span.first_row, last: span.last_row, counts };
    });
    this.#skip = this.#manifest.uploads.map((u) => [u.first_row, u.last_row]);
    this.#checker = new RowChecker(options.region ?? client.region);
    this.#part = this.#manifest.uploads.filter((u) => u.upload_id !== null).length;
  }

  async run(source: Iterable<unknown> | AsyncIterable<unknown>): Promise<BulkUploadResult> {
    const signal = this.#options.signal;
    let block: Pending[] = [];
    const poller = this.#startPolling();
    try {
      let row = 0;
      try {
        for await (const item of source as AsyncIterable<unknown>) {
          const index = row++;
          this.#rowsRead++;
          if (signal?.aborted || this.#failure !== undefined) break;
          if (this.#skipped(index)) {
            this.#rowsSkipped++;
            this.#observe(item, index);
            // A batch never spans a resumed range: close what is open before it.
            if (block.length > 0) this.#fill(block);
            block = [];
            this.#close();
            await this.#flush();
            continue;
          }
          block.push(toPending(item, index));
          if (block.length >= VALIDATE_BLOCK) {
            this.#fill(block);
            block = []; // nothing of the block is held across the awaits below
            if (this.#ready.length > 0) {
              await this.#flush();
              // Backpressure: read on only once a slot is free. Rows read ahead would wait in
              // memory while the uploads answer, long enough to outlive the young generation's
              // collections: promoted to the old one, such garbage grows the process until the
              // next full collection.
              while (this.#inFlight.size >= this.#concurrency) {
                await Promise.race(this.#inFlight);
              }
            }
            this.#emit();
          }
        }
      } catch (error) {
        // The source failed (e.g. a malformed line): stop, keeping what was sent.
        this.#failure ??= error;
      }
      if (!signal?.aborted && this.#failure === undefined) {
        if (block.length > 0) this.#fill(block);
        block = [];
        this.#close();
        await this.#flush();
      }
      await Promise.all(this.#inFlight);
      await this.#manifestWrite;
      if (this.#failure !== undefined) {
        throw new BulkUploadError(
          `Bulk upload stopped: ${describe(this.#failure)}`,
          this.manifest(),
          this.#badRows,
          { cause: this.#failure },
        );
      }
      if (signal?.aborted) {
        throw new BulkUploadError(
          "Bulk upload cancelled: the uploads sent so far are in the manifest",
          this.manifest(),
          this.#badRows,
          { cause: signal.reason },
        );
      }
      if (this.#options.waitForProcessing) {
        this.#phase = "processing";
        this.#emit();
        try {
          await poller.finish();
        } catch (error) {
          // Every row is sent: the caller must not send them again, so the manifest goes along
          // (an abort is reported below, with it too).
          if (!signal?.aborted) {
            throw new BulkUploadError(
              `Bulk upload sent every upload, but waiting for processing failed: ${
                describe(error)
              }`,
              this.manifest(),
              this.#badRows,
              { cause: error, allSent: true },
            );
          }
        }
        if (signal?.aborted) {
          throw new BulkUploadError(
            "Bulk upload cancelled while waiting for processing: every upload was sent",
            this.manifest(),
            this.#badRows,
            { cause: signal.reason, allSent: true },
          );
        }
      }
      this.#phase = "done";
      this.#badRows.sort((a, b) => a.index - b.index);
      this.#warnings.sort((a, b) => a.index - b.index);
      const progress = this.#snapshot();
      this.#options.onProgress?.(progress);
      return {
        manifest: this.manifest(),
        badRows: this.#badRows,
        warnings: this.#warnings,
        progress,
        uploads: [...this.#uploads],
      };
    } finally {
      poller.stop();
      await Promise.allSettled(this.#inFlight);
    }
  }

  manifest(): BulkManifest {
    const flying = this.#manifest.in_flight;
    return {
      ...this.#manifest,
      ...(flying?.length ? { in_flight: flying.map((s) => ({ ...s })) } : {}),
      uploads: this.#manifest.uploads.map((u) => ({ ...u })).sort((a, b) =>
        a.first_row - b.first_row
      ),
    };
  }

  #skipped(index: number): boolean {
    const skip = this.#skip;
    while (this.#skipAt < skip.length && skip[this.#skipAt][1] < index) this.#skipAt++;
    return this.#skipAt < skip.length && skip[this.#skipAt][0] <= index;
  }

  /** Remembers a row an earlier run covered, so that a later row repeating it is seen. */
  #observe(item: unknown, index: number): void {
    const p = toPending(item, index);
    const { valid } = validateCustomers([p.customer], {
      region: this.#options.region ?? this.#client.region,
      allowPastExpiry: this.#options.allowPastExpiry ?? false,
    });
    if (valid.length === 1 && p.issues === undefined) {
      this.#checker.observe(valid[0], index, p.line);
    }
  }

  /**
   * Validates a block and adds its rows to the open batch; each batch that fills up is queued
   * in `#ready` for {@linkcode BulkRun.#flush}. Synchronous: the block is not held across an await.
   */
  #fill(block: Pending[]): void {
    const { customers, json, bad, warnings, skipped } = checkBlock(
      block,
      this.#options.region ?? this.#client.region,
      this.#options.allowPastExpiry ?? false,
      this.#checker,
      this.#options.alreadySent,
    );
    let batch = this.#filling;
    for (let i = 0; i < block.length; i++) {
      const p = block[i];
      const customer = customers[i];
      // Split by size too: the row that would take a batch's body past the API's limit opens
      // the next batch, so no upload is refused for its size after it was prepared.
      const rowJson = json[i];
      const rowBytes = rowJson !== undefined ? utf8Bytes(rowJson) + 1 : 0;
      if (
        batch !== undefined && batch.customers.length > 0 &&
        batch.bytes + rowBytes > UPLOAD_BODY_LIMIT_BYTES
      ) {
        this.#ready.push(batch);
        batch = undefined;
      }
      batch ??= {
        customers: [],
        json: [],
        badRows: [],
        skipped: 0,
        alreadyStored: 0,
        warnings: [],
        first: p.row,
        last: p.row,
        firstLine: p.line,
        lastLine: p.line,
        bytes: this.#headBytes,
      };
      batch.last = p.row;
      batch.lastLine = p.line;
      const rowWarnings = warnings[i];
      if (rowWarnings !== undefined) {
        for (const w of rowWarnings) batch.warnings.push(w);
        this.#warningsSeen += rowWarnings.length;
      }
      const badRow = bad[i];
      if (customer !== undefined && this.#storedBefore(customer, p.row)) {
        batch.alreadyStored++;
        this.#rowsSkipped++;
      } else if (skipped[i]) {
        batch.skipped++;
        this.#skippedSeen++;
      } else if (badRow !== undefined) {
        batch.badRows.push(badRow);
        this.#badSeen++;
      } else {
        batch.customers.push(customers[i]!);
        batch.json.push(rowJson!);
        batch.bytes += rowBytes;
      }
      if (
        batch.customers.length >= this.#batchSize ||
        batch.badRows.length + batch.skipped >= this.#badCap
      ) {
        this.#ready.push(batch);
        batch = undefined;
      }
    }
    this.#filling = batch;
  }

  /**
   * Whether a cancelled upload covering `row` stored this customer (each stored customer
   * answers for one row only).
   */
  #storedBefore(customer: CustomerInput, row: number): boolean {
    if (this.#reopened.length === 0) return false;
    let key: string | undefined;
    for (const span of this.#reopened) {
      if (row < span.first || row > span.last) continue;
      key ??= storedKey(customer);
      const n = span.counts.get(key) ?? 0;
      if (n > 0) {
        span.counts.set(key, n - 1);
        return true;
      }
    }
    return false;
  }

  /** Queues the open batch, if any, for sending. */
  #close(): void {
    if (this.#filling !== undefined) this.#ready.push(this.#filling);
    this.#filling = undefined;
  }

  /** Sends the queued batches, in order, each once a slot is free. */
  async #flush(): Promise<void> {
    while (this.#ready.length > 0) await this.#send(this.#ready.shift()!);
  }

  /**
   * Reports the bad rows and warnings of a span once it is recorded (so a resumed run never
   * repeats one).
   */
  #report(batch: Batch): void {
    const collect = this.#options.collectBadRows ?? true;
    for (const badRow of batch.badRows) {
      if (collect) this.#badRows.push(badRow);
      this.#options.onBadRow?.(badRow);
    }
    for (const warning of batch.warnings) {
      if (collect) this.#warnings.push(warning);
      this.#options.onWarning?.(warning);
    }
  }

  /** Sends a batch, waiting for a free slot first. */
  async #send(batch: Batch): Promise<void> {
    while (this.#inFlight.size >= this.#concurrency) await Promise.race(this.#inFlight);
    // Stopped: the batch is not sent nor recorded, so a resumed run sends it.
    if (this.#failure !== undefined || this.#options.signal?.aborted) return;
    const count = batch.customers.length;
    if (count === 0) {
      // Only bad or skipped rows: recorded so that a resumed run does not report them again.
      this.#record(batch, null, 0);
      return;
    }
    const part = ++this.#part;
    const o = this.#options;
    // Written down (and saved) before the POST: a run killed while it waits leaves the span
    // marked as possibly sent, never as not sent.
    const flying: InFlightSpan = {
      ...this.#entry(batch, 0),
      customers: count,
      name: `${o.name} (part ${part})`,
      sent_at: new Date().toISOString(),
      keys: [...new Set([storedKey(batch.customers[0]), storedKey(batch.customers[count - 1])])],
    };
    (this.#manifest.in_flight ??= []).push(flying);
    this.#save();
    await this.#manifestWrite;
    if (this.#failure !== undefined) return; // the manifest could not be saved: nothing sent
    // `uploads.create` writes the body before it returns and keeps no rows while it waits for
    // the answer; dropping this run's reference too frees them while the upload is on its way.
    const prints = o.onUploaded ? batch.customers.map(fingerprint) : null;
    const pending = this.#client.uploads.create(
      {
        name: `${o.name} (part ${part})`,
        customers: withJson(batch.customers, batch.json),
        ...(o.enable_rego_lookups !== undefined
          ? { enable_rego_lookups: o.enable_rego_lookups }
          : {}),
        ...(o.monitor_start_date !== undefined ? { monitor_start_date: o.monitor_start_date } : {}),
        ...(o.monitor_end_date !== undefined ? { monitor_end_date: o.monitor_end_date } : {}),
      },
      { validate: false, ...(o.region ? { region: o.region } : {}) },
    );
    batch.customers = [];
    batch.json = [];
    const task = (async () => {
      try {
        const created = await pending;
        const { rejected: _, ...upload } = created;
        this.#created++;
        this.#rowsUploaded += count;
        this.#uploads.push(upload);
        if (!isUploadDone(upload)) this.#open.push(upload);
        this.#landed(flying);
        this.#record(batch, upload.id, count);
        if (prints !== null) await o.onUploaded!(upload, prints);
      } catch (error) {
        // Refused, or provably never sent: the span is not in flight. Else it may exist.
        if (mayHaveTakenEffect(error) === false) {
          this.#landed(flying);
          this.#save();
        }
        this.#failure ??= error;
      }
    })();
    this.#inFlight.add(task);
    task.finally(() => {
      this.#inFlight.delete(task);
      this.#emit();
    });
    this.#emit();
  }

  /** Takes a span off the in-flight list (its answer came, or it was never sent). */
  #landed(span: InFlightSpan): void {
    const list = this.#manifest.in_flight ?? [];
    const at = list.indexOf(span);
    if (at !== -1) list.splice(at, 1);
    if (list.length === 0) delete this.#manifest.in_flight;
  }

  /** Queues a save of the manifest as it is now (after the saves queued before). */
  #save(): void {
    const save = this.#options.onManifest;
    if (!save) return;
    const snapshot = this.manifest();
    this.#manifestWrite = this.#manifestWrite.then(() => save(snapshot)).catch((error) => {
      this.#failure ??= error;
    });
  }

  #record(batch: Batch, uploadId: string | null, count: number): void {
    this.#manifest.uploads.push(this.#entry(batch, count, uploadId));
    this.#report(batch);
    this.#save();
  }

  /** The manifest entry of a batch. */
  #entry(batch: Batch, count: number, uploadId: string | null = null): ManifestEntry {
    return {
      upload_id: uploadId,
      first_row: batch.first,
      last_row: batch.last,
      customers: count,
      bad_rows: batch.badRows.length,
      ...(batch.skipped > 0 ? { skipped_rows: batch.skipped } : {}),
      ...(batch.alreadyStored > 0 ? { already_stored: batch.alreadyStored } : {}),
      ...(batch.firstLine !== undefined ? { first_line: batch.firstLine } : {}),
      ...(batch.lastLine !== undefined ? { last_line: batch.lastLine } : {}),
    };
  }

  /**
   * Polls the open uploads, oldest first, {@linkcode POLL_CONCURRENCY} at a time, and goes on
   * to the next ones while every upload of a round is done (so a finished job is seen in one
   * sweep, and a busy one costs one round). A failed poll throws when `strict`, else only delays
   * the counters. Concurrent calls share one poll.
   */
  #poll(strict: boolean): Promise<void> {
    if (this.#polling) return this.#polling;
    const polling = (async () => {
      // Yield first: with nothing to poll the body would finish synchronously, and its `finally`
      // would run before `#polling` is set, leaving a settled promise that blocks every later poll.
      await undefined;
      try {
        const region = this.#options.region;
        let polled = false;
        while (this.#open.length > 0) {
          const targets = this.#open.slice(0, POLL_CONCURRENCY);
          let fresh: Upload[];
          try {
            fresh = await pooled(
              targets,
              POLL_CONCURRENCY,
              undefined,
              (target) => this.#client.uploads.retrieve(target.id, region ? { region } : {}),
            );
          } catch (error) {
            if (strict) throw error;
            return;
          }
          polled = true;
          for (const upload of fresh) {
            const i = this.#uploads.findIndex((u) => u.id === upload.id);
            if (i !== -1) this.#uploads[i] = upload;
            const j = this.#open.findIndex((u) => u.id === upload.id);
            if (j !== -1) {
              if (isUploadDone(upload)) this.#open.splice(j, 1);
              else this.#open[j] = upload;
            }
          }
          if (!fresh.every(isUploadDone)) break;
        }
        if (polled) this.#emit();
      } finally {
        this.#polling = undefined;
      }
    })();
    this.#polling = polling;
    return polling;
  }

  /** Waits `ms`, or less if the signal fires. */
  #pause(ms: number): Promise<void> {
    const signal = this.#options.signal;
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  /** Polls the open uploads (see `#poll`) until stopped or, on finish, until all are done. */
  #startPolling(): { stop(): void; finish(): Promise<void> } {
    const o = this.#options;
    const interval = o.pollIntervalMs ?? 1000;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const sleep = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, interval);
      });
    const tick = () => this.#poll(this.#phase === "processing");
    let loop: Promise<void> | undefined;
    const wanted = o.waitForProcessing || o.onProgress !== undefined;
    if (wanted) {
      loop = (async () => {
        while (!stopped) {
          await sleep();
          if (stopped || this.#phase !== "uploading") return;
          await tick().catch(() => {});
        }
      })();
    }
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        wake?.();
      },
      finish: async () => {
        stopped = true;
        clearTimeout(timer);
        wake?.();
        await loop;
        const pace = pollPacer(interval);
        while (this.#open.length > 0 && !o.signal?.aborted) {
          await tick();
          if (this.#open.length === 0) break;
          const { processed } = this.#snapshot();
          await this.#pause(pace(processed, this.#rowsUploaded));
        }
      },
    };
  }

  #snapshot(): BulkProgress {
    let processed = 0;
    let errors = 0;
    for (const u of this.#uploads) {
      processed += u.total_processed_customers ?? 0;
      errors += u.total_errors ?? 0;
    }
    return {
      phase: this.#phase,
      rowsRead: this.#rowsRead,
      rowsSkipped: this.#rowsSkipped,
      badRows: this.#badSeen,
      rowsSkippedWithWarning: this.#skippedSeen,
      warnings: this.#warningsSeen,
      rowsUploaded: this.#rowsUploaded,
      uploads: this.#created,
      inFlight: this.#inFlight.size,
      processed,
      errors,
      elapsedMs: Date.now() - this.#started,
    };
  }

  #emit(): void {
    this.#options.onProgress?.(this.#snapshot());
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`bulkUpload: options.${name} must be a positive integer, got ${n}`);
  }
  return n;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The key of a customer as the API stores it, to tell which rows a cancelled upload did store:
 * rego (without spaces or dashes, upper case), state, VIN (unless the API looked it up), name,
 * mobile, dates and external id. A row sent and the customer it became have the same key.
 *
 * @param customer a row as sent (validated), or a customer as listed
 * @returns the key
 *
 * @example
 * ```ts
 * import { storedKey } from "@recapture/sdk/bulk";
 *
 * storedKey({ rego: "ABC 123", state: "nsw" }) === storedKey({ rego: "ABC-123", state: "NSW" }); // true
 * ```
 */
export function storedKey(customer: CustomerInput | Customer): string {
  const text = (value: unknown) => typeof value === "string" ? value.trim() : "";
  const lookedUp = (customer as Customer).vin_source === "rego_lookup";
  return JSON.stringify([
    text(customer.rego).replace(/[\s-]+/g, "").toUpperCase(),
    text(customer.state).toUpperCase(),
    lookedUp ? "" : text(customer.vin).toUpperCase(),
    text(customer.client_name),
    text(customer.mobile_number),
    text(customer.sale_date),
    text(customer.expiry_date),
    text(customer.monitor_start_date),
    text(customer.monitor_end_date),
    text(customer.external_id),
  ]);
}

/** Options of {@linkcode jobStatus}, {@linkcode cancelJob} and {@linkcode reopenCancelled}. */
export interface JobOptions {
  /** The region of the job's uploads (default: the manifest's, else the client's). */
  region?: Region;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Stops the work: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Every upload id of a job: its spans' and its cancelled spans'. */
function jobUploadIds(manifest: BulkManifest): string[] {
  const ids = new Set<string>();
  for (const span of manifest.cancelled ?? []) ids.add(span.upload_id);
  for (const entry of manifest.uploads) if (entry.upload_id !== null) ids.add(entry.upload_id);
  return [...ids];
}

/** Status polls in flight at once while waiting for processing. */
const POLL_CONCURRENCY = 8;

/** The shortest pause between two status polls while waiting, in ms. */
const MIN_POLL_MS = 50;

/**
 * The pause before the next status poll while waiting: quick first polls (small uploads finish
 * fast), then about the time processing still needs at the rate seen so far, never more than
 * `interval`, so the end of processing is seen soon after it happens.
 */
function pollPacer(interval: number): (processed: number, uploaded: number) => number {
  let delay = Math.min(interval, MIN_POLL_MS);
  let last: { at: number; processed: number } | undefined;
  return (processed, uploaded) => {
    const now = Date.now();
    let eta = Infinity;
    if (last !== undefined && processed > last.processed) {
      eta = (uploaded - processed) * (now - last.at) / (processed - last.processed);
    }
    if (last === undefined || processed > last.processed) last = { at: now, processed };
    const wait = Math.min(delay, Math.max(MIN_POLL_MS, eta));
    delay = Math.min(interval, delay * 2);
    return wait;
  };
}

/** `work` over `items`, `concurrency` at a time, answers in the items' order. */
async function pooled<T, R>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal | undefined,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** A job (every upload of one file) as one thing. */
export interface JobStatus {
  /** The job's id (`null` for a manifest written before jobs existed). */
  job_id: string | null;
  /** Each upload of the job, as the API last answered. */
  uploads: Upload[];
  /** Customers sent, over every upload. */
  total_uploaded_customers: number;
  /** Customers processed, errors included, over every upload. */
  total_processed_customers: number;
  /** Customers the API failed to process, over every upload. */
  total_errors: number;
  /** Whether every upload is done (processed, or cancelled). */
  done: boolean;
}

/**
 * The combined state of every upload of a job (from its manifest): one status for the file.
 *
 * @param client the client
 * @param manifest the job's manifest (from `bulkUpload`, or the CLI's manifest file)
 * @param options region, concurrency, signal
 * @returns the uploads and their summed counters
 *
 * @example
 * ```ts ignore
 * const status = await jobStatus(client, manifest);
 * console.log(status.job_id, status.total_processed_customers, "/", status.total_uploaded_customers);
 * ```
 */
export async function jobStatus(
  client: RecaptureClient,
  manifest: BulkManifest,
  options: JobOptions = {},
): Promise<JobStatus> {
  const region = options.region ?? manifest.region;
  const uploads = await pooled(
    jobUploadIds(manifest),
    options.concurrency ?? 4,
    options.signal,
    (id) => client.uploads.retrieve(id, region ? { region, signal: options.signal } : {}),
  );
  return summarize(manifest, uploads);
}

/** Options of {@linkcode waitForJob}. */
export interface JobWaitOptions extends JobOptions {
  /** The longest pause between two rounds of status polls, in ms (default 1000). */
  intervalMs?: number;
  /** Called with the job's status after each round. */
  onProgress?: (status: JobStatus) => void;
}

/**
 * Waits until every upload of a job is done. Each round asks only about the uploads not done
 * yet (`concurrency` at a time); rounds come quickly at first, then about as often as the time
 * processing still needs at the rate seen so far, at most every `intervalMs`.
 *
 * @param client the client
 * @param manifest the job's manifest
 * @param options region, concurrency, interval, progress callback, signal
 * @returns the job's status once done
 *
 * @example
 * ```ts ignore
 * const status = await waitForJob(client, manifest, {
 *   onProgress: (s) => console.log(s.total_processed_customers, "/", s.total_uploaded_customers),
 * });
 * console.log(status.done); // true
 * ```
 */
export async function waitForJob(
  client: RecaptureClient,
  manifest: BulkManifest,
  options: JobWaitOptions = {},
): Promise<JobStatus> {
  const pace = pollPacer(positive(options.intervalMs ?? 1000, "intervalMs"));
  const region = options.region ?? manifest.region;
  const call = region ? { region, signal: options.signal } : { signal: options.signal };
  let status = await jobStatus(client, manifest, options);
  options.onProgress?.(status);
  while (!status.done) {
    await sleep(
      pace(status.total_processed_customers, status.total_uploaded_customers),
      options.signal,
    );
    const uploads = [...status.uploads];
    const open = uploads.flatMap((u, i) => isUploadDone(u) ? [] : [i]);
    const fresh = await pooled(
      open,
      options.concurrency ?? 4,
      options.signal,
      (i) => client.uploads.retrieve(uploads[i].id, call),
    );
    open.forEach((i, k) => uploads[i] = fresh[k]);
    status = summarize(manifest, uploads);
    options.onProgress?.(status);
  }
  return status;
}

function summarize(manifest: BulkManifest, uploads: Upload[]): JobStatus {
  let uploaded = 0, processed = 0, errors = 0;
  for (const u of uploads) {
    uploaded += u.total_uploaded_customers;
    processed += u.total_processed_customers;
    errors += u.total_errors;
  }
  return {
    job_id: manifest.job_id ?? null,
    uploads,
    total_uploaded_customers: uploaded,
    total_processed_customers: processed,
    total_errors: errors,
    done: uploads.every(isUploadDone),
  };
}

/** What {@linkcode cancelJob} did. */
export interface JobCancelResult extends JobStatus {
  /** The answer to each cancel, with its `outcome`. */
  uploads: CancelledUpload[];
  /**
   * `"cancelled"` when some upload stopped now; `"already_cancelled"`: nothing stopped now, an
   * earlier cancel had stopped some; `"already_completed"`: nothing was ever cancelled.
   */
  result: "cancelled" | "already_cancelled" | "already_completed";
  /** Uploads stopped by this cancel. */
  cancelled_uploads: number;
  /** Uploads an earlier cancel had stopped (this one changed nothing there). */
  already_cancelled_uploads: number;
  /** Uploads that had processed every customer already (nothing cancelled there). */
  completed_uploads: number;
  /** Customers that will not be created, over every upload. */
  not_processed: number;
}

/**
 * Cancels every upload of a job (from its manifest) and says what really happened: how many
 * uploads stopped, how many had completed already, and how many customers will not be created.
 * Customers already created stay; a resumed run (after {@linkcode reopenCancelled}) sends
 * exactly the rows that were not stored.
 *
 * @param client the client
 * @param manifest the job's manifest
 * @param options region, concurrency, signal
 * @returns each upload's answer and the totals
 *
 * @example
 * ```ts ignore
 * const result = await cancelJob(client, manifest);
 * console.log(result.result, result.not_processed);
 * ```
 */
export async function cancelJob(
  client: RecaptureClient,
  manifest: BulkManifest,
  options: JobOptions = {},
): Promise<JobCancelResult> {
  const region = options.region ?? manifest.region;
  const answers = await pooled(
    jobUploadIds(manifest),
    options.concurrency ?? 4,
    options.signal,
    (id) => client.uploads.cancel(id, region ? { region, signal: options.signal } : {}),
  );
  const stopped = answers.filter((u) => u.outcome.result === "cancelled");
  const before = answers.filter((u) => u.outcome.result === "already_cancelled").length;
  return {
    ...summarize(manifest, answers),
    uploads: answers,
    result: stopped.length > 0
      ? "cancelled"
      : before > 0
      ? "already_cancelled"
      : "already_completed",
    cancelled_uploads: stopped.length,
    already_cancelled_uploads: before,
    completed_uploads: answers.length - stopped.length - before,
    not_processed: stopped.reduce((n, u) => n + u.outcome.notProcessed, 0),
  };
}

/**
 * Prepares a manifest for resuming after a cancel: each upload that was cancelled before it had
 * processed every customer leaves the spans (so its rows are read again) for `cancelled`, with
 * the key of each customer it did create, listed by its `upload_id`. `bulkUpload` with this
 * manifest as `resume` then sends exactly the rows not stored (it asks no processing order).
 * Uploads that completed are kept as they are. Costs one request per upload, plus the listing
 * of the cancelled ones.
 *
 * @param client the client
 * @param manifest the job's manifest
 * @param options region, concurrency, signal
 * @returns the manifest to resume from
 *
 * @example
 * ```ts ignore
 * const resume = await reopenCancelled(client, manifest);
 * await bulkUpload(client, readCsv(file.readable), { name: "March", resume });
 * ```
 */
export async function reopenCancelled(
  client: RecaptureClient,
  manifest: BulkManifest,
  options: JobOptions = {},
): Promise<BulkManifest> {
  const region = options.region ?? manifest.region;
  const call = region ? { region, signal: options.signal } : { signal: options.signal };
  const spans = manifest.uploads.filter((u) => u.upload_id !== null);
  const states = await pooled(
    spans,
    options.concurrency ?? 4,
    options.signal,
    (entry) => client.uploads.retrieve(entry.upload_id!, call),
  );
  const reopened = new Set<ManifestEntry>();
  const cancelled: CancelledSpan[] = [...(manifest.cancelled ?? [])];
  for (let i = 0; i < spans.length; i++) {
    const u = states[i];
    if (u.status !== "cancelled" || u.total_processed_customers >= u.total_uploaded_customers) {
      continue;
    }
    const stored: string[] = [];
    for await (
      const c of client.customers.iterate({ upload_id: u.id, pageSize: 1000 }, call)
    ) stored.push(storedKey(c));
    cancelled.push({
      upload_id: u.id,
      first_row: spans[i].first_row,
      last_row: spans[i].last_row,
      stored,
    });
    reopened.add(spans[i]);
  }
  return {
    ...manifest,
    uploads: manifest.uploads.filter((u) => !reopened.has(u)),
    ...(cancelled.length > 0 ? { cancelled } : {}),
  };
}

/** Options of {@linkcode settleInFlight}. */
export interface SettleInFlightOptions extends JobOptions {
  /** Upload ids to try first (e.g. the newest ones a local record of what was sent names). */
  candidates?: string[];
  /** How many of the account's newest customers to look through at most (default 50,000). */
  scanCustomers?: number;
}

/** What {@linkcode settleInFlight} found. */
export interface SettledInFlight {
  /** The manifest with each upload found moved from `in_flight` to `uploads`. */
  manifest: BulkManifest;
  /** The spans still unknown: no upload of theirs was found (they remain in `in_flight`). */
  unconfirmed: InFlightSpan[];
}

/** Clocks may differ this much between the sender and the API (ms). */
const CLOCK_SKEW_MS = 10 * 60_000;

/** Whether `upload` is the one sent for `span`: its name, its size, not older than the span. */
function isUploadOf(span: InFlightSpan, upload: Upload): boolean {
  const created = upload.created_at ? Date.parse(upload.created_at) : NaN;
  return upload.name === span.name && upload.total_uploaded_customers === span.customers &&
    !(created < Date.parse(span.sent_at) - CLOCK_SKEW_MS);
}

/**
 * Finds out what became of the uploads a manifest has in flight (sent, answer not seen): each
 * one found (by the `candidates` given, then by its first or last customer among the account's
 * newest customers, and always confirmed by its name, size and creation time with
 * `uploads.retrieve`) becomes an ordinary span of the manifest. The rest stay in `in_flight`
 * and are returned as `unconfirmed`: an upload not processed yet has no customers, and the API
 * lists no uploads, so such a span may exist all the same. Do not send its rows again blindly.
 *
 * @param client the client
 * @param manifest the job's manifest
 * @param options region, candidates, how far to look
 * @returns the manifest to resume from, and the spans still unknown
 *
 * @example
 * ```ts ignore
 * const { manifest: settled, unconfirmed } = await settleInFlight(client, manifest);
 * if (unconfirmed.length === 0) {
 *   await bulkUpload(client, readCsv(file.readable), { name: "March", resume: settled });
 * }
 * ```
 */
export async function settleInFlight(
  client: RecaptureClient,
  manifest: BulkManifest,
  options: SettleInFlightOptions = {},
): Promise<SettledInFlight> {
  const spans = manifest.in_flight ?? [];
  if (spans.length === 0) return { manifest, unconfirmed: [] };
  const region = options.region ?? manifest.region;
  const call = region ? { region, signal: options.signal } : { signal: options.signal };
  const taken = new Set(jobUploadIds(manifest));
  const found = new Map<InFlightSpan, Upload>();
  const tried = new Set<string>();
  const tryUpload = async (id: string): Promise<void> => {
    if (taken.has(id) || tried.has(id)) return;
    tried.add(id);
    let upload: Upload;
    try {
      upload = await client.uploads.retrieve(id, call);
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    const span = spans.find((s) => !found.has(s) && isUploadOf(s, upload));
    if (span !== undefined) {
      found.set(span, upload);
      taken.add(id);
    }
  };
  for (const id of options.candidates ?? []) {
    if (found.size === spans.length) break;
    await tryUpload(id);
  }
  if (found.size < spans.length) {
    // The list is oldest upload first: the newest customers are on the last pages.
    const page = CUSTOMERS_PAGE_MAX;
    const first = await client.customers.list({ offset: 0, limit: 1 }, call);
    const total = first.total ?? 0;
    const floor = Math.max(0, total - (options.scanCustomers ?? 50_000));
    for (let end = total; end > floor && found.size < spans.length; end -= page) {
      const offset = Math.max(floor, end - page);
      const { customers } = await client.customers.list({ offset, limit: end - offset }, call);
      for (const c of customers) {
        const id = c.upload_id;
        if (typeof id !== "string" || taken.has(id) || tried.has(id)) continue;
        const key = storedKey(c);
        if (spans.some((s) => !found.has(s) && s.keys.includes(key))) await tryUpload(id);
      }
    }
  }
  const settled: ManifestEntry[] = [];
  for (const [span, upload] of found) {
    const { name: _n, sent_at: _s, keys: _k, ...entry } = span;
    settled.push({ ...entry, upload_id: upload.id });
  }
  const unconfirmed = spans.filter((s) => !found.has(s));
  const { in_flight: _, ...rest } = manifest;
  return {
    manifest: {
      ...rest,
      uploads: [...manifest.uploads, ...settled].sort((a, b) => a.first_row - b.first_row),
      ...(unconfirmed.length > 0 ? { in_flight: unconfirmed } : {}),
    },
    unconfirmed,
  };
}

/** The largest page `customers.list` serves. */
const CUSTOMERS_PAGE_MAX = 1000;
