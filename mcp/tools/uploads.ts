/**
 * The `uploads` toolset: upload customers (JSON rows, CSV text or, over stdio, a file), follow an
 * upload, wait for it, cancel it.
 *
 * @module
 */
import * as z from "zod";
import type { RowIssue, Upload, UploadCancelOutcome } from "../../mod.ts";
import type { Assert, Same } from "../../src/sdk/schemas.ts";
import { expiresImmediately, TimeoutError, validateCustomers } from "../../mod.ts";
import { readCsvRows } from "../_csv.ts";
import { formatIssues, MAX_LISTED_ISSUES } from "../_errors.ts";
import {
  confirmationToken,
  defineTool,
  describeUpload,
  DESTRUCTIVE_IDEMPOTENT,
  failure,
  guarded,
  issueOut,
  MAX_CSV_CHARS,
  MAX_UPLOAD_ROWS,
  MAX_WAIT_SECONDS,
  noEffect,
  onResource,
  READ_ONLY,
  region,
  regionOf,
  resourceLink,
  summarizeUpload,
  uploadId,
  uploadSummary,
  WRITE_OPEN_WORLD,
} from "./_tool.ts";
import type { EffectPlan, RegisteredToolSpec, ToolContext } from "./_tool.ts";

const uploadInput = {
  name: z.string().max(200).describe("A label."),
  customers: z.array(z.looseObject({})).max(MAX_UPLOAD_ROWS).optional().describe(
    "Rows: rego or vin, state (AU), client_name, mobile_number, sale_date, expiry_date, " +
      "monitor_start_date, monitor_end_date (YYYY-MM-DD), external_id, additional_fields.",
  ),
  csv: z.string().max(MAX_CSV_CHARS).optional().describe("Or CSV with a header."),
  file: z.string().max(4096).optional().describe("Or a CSV path (stdio)."),
  skip_invalid: z.boolean().optional().describe("Skip invalid rows (reported)."),
  enable_rego_lookups: z.boolean().optional().describe(
    "Buy VIN lookups for rows without VIN; ask the user.",
  ),
  dry_run: z.boolean().optional().describe("Only check."),
  confirmation_token: confirmationToken,
  region,
};

const uploadOutput = {
  dry_run: z.boolean(),
  valid_rows: z.number(),
  skipped_rows: z.number().optional(),
  issues: z.array(issueOut),
  upload_id: z.string().nullable(),
};

type UploadOut = z.infer<z.ZodObject<typeof uploadOutput>>;

/** The rows of an upload call (JSON rows, CSV text or file), read problems and row labels. */
async function readUploadRows(
  args: { customers?: Record<string, unknown>[]; csv?: string; file?: string },
  ctx: ToolContext,
): Promise<{ rows: unknown[]; readIssues: RowIssue[]; label: (issue: RowIssue) => string }> {
  const given = [args.customers, args.csv, args.file].filter((v) => v !== undefined).length;
  if (given !== 1) {
    failure("invalid_arguments", "give exactly one of `customers` (JSON rows), `csv` or `file`.");
  }
  const csv = args.file !== undefined ? await ctx.readFile(args.file) : args.csv;
  // A file's rows are personal data like `csv`'s: none may come back in clear.
  if (args.file !== undefined) {
    ctx.scrub.collect({ csv_rows: csv?.split(/\r?\n/).slice(1).join("\n") });
  }
  if (csv !== undefined) {
    if (csv.length > MAX_CSV_CHARS) {
      failure("too_large", `the CSV has ${csv.length} characters; at most ${MAX_CSV_CHARS}.`);
    }
    const parsed = await readCsvRows(
      csv,
      MAX_UPLOAD_ROWS,
      args.file !== undefined ? "file" : "csv",
    );
    return {
      rows: parsed.rows,
      readIssues: parsed.issues,
      label: (i) => `CSV line ${parsed.lines[i.index] ?? "?"} (row index ${i.index})`,
    };
  }
  return { rows: args.customers ?? [], readIssues: [], label: (i) => `customers[${i.index}]` };
}

/** The SDK's hints name its options; here they name what the agent can do instead. */
function inMcpWords<T extends { reason: string }>(issue: T): T {
  return {
    ...issue,
    reason: issue.reason.replace(
      "(allowPastExpiry: true sends it anyway)",
      "(an upload without dry_run asks a person to confirm that deletion)",
    ),
  };
}

const uploadCustomers = defineTool({
  name: "recapture_upload_customers",
  title: "Upload customers",
  description: "Watch past customers' cars for sale listings; then recapture_wait_for_upload.",
  access: "write",
  annotations: WRITE_OPEN_WORLD,
  input: uploadInput,
  output: uploadOutput,
  async plan(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded<EffectPlan>(ctx, { region: reg }, async () => {
      if (args.dry_run) return noEffect(reg, "");
      const { rows } = await readUploadRows(args, ctx);
      const now = new Date(ctx.now());
      // Row by row, to keep each row's index (dates normalised as the upload will send them).
      const expiring = rows
        .map((row, index) => ({
          index,
          expiry: validateCustomers([row], { region: reg, allowPastExpiry: true }).valid[0]
            ?.expiry_date,
        }))
        .filter((r) => typeof r.expiry === "string" && expiresImmediately(r.expiry, { now }));
      if (expiring.length === 0) return noEffect(reg, "");
      const shown = expiring.slice(0, 10).map((r) => `${r.index} (${r.expiry})`).join(", ");
      return {
        ok: true,
        data: {
          region: reg,
          resourceId: "",
          // A file is read again on the confirming call: the token is bound to its rows.
          ...(args.file !== undefined ? { input: rows } : {}),
          effects: [{
            kind: "delete",
            what: `${expiring.length} of the ${rows.length} customer(s) to upload in region ` +
              `${reg} have an expiry_date of today or earlier, so the API deletes them as soon as ` +
              `they are created (0-based row index: ${shown}${
                expiring.length > 10 ? ", ..." : ""
              })`,
          }],
        },
        text: "",
      };
    });
  },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded<UploadOut>(ctx, { resource: "upload", region: reg }, async () => {
      const { rows, readIssues, label } = await readUploadRows(args, ctx);
      if (rows.length === 0) {
        failure("empty_upload", "there are no customer rows. Pass at least one row.");
      }
      // Past expiry dates: a dry run reports them; a real run has passed the confirmation gate
      // (plan() above names them), so they go up as confirmed.
      const allowPastExpiry = !args.dry_run;
      const checked = validateCustomers(rows, { region: reg, allowPastExpiry });
      // A row the CSV reader could not fully read is invalid too, even if what remains passes.
      const issues = [...readIssues, ...checked.issues.map(inMcpWords)].sort((a, b) =>
        a.index - b.index
      );
      const badRows = new Set(issues.map((i) => i.index)).size;
      const report = {
        valid_rows: rows.length - badRows,
        issues: issues.slice(0, MAX_LISTED_ISSUES).map((i) => ({
          index: i.index,
          field: i.field,
          reason: i.reason,
        })),
      };
      if (args.dry_run) {
        const verdict = issues.length === 0
          ? `Dry run: all ${rows.length} row(s) are valid; nothing was uploaded.`
          : `Dry run: ${issues.length} problem(s) in ${rows.length} row(s); nothing was uploaded.\n` +
            formatIssues(issues, label);
        return { ok: true, data: { dry_run: true, ...report, upload_id: null }, text: verdict };
      }
      if (issues.length > 0 && !args.skip_invalid) {
        return {
          ok: false,
          text: `validation_failed: ${issues.length} problem(s) in ${rows.length} row(s); ` +
            `nothing was uploaded.\n${formatIssues(issues, label)}\n` +
            "Fix or remove these rows and call again (dry_run: true checks without uploading; " +
            "skip_invalid: true uploads the valid rows and reports these).",
        };
      }
      // With skip_invalid, only rows without any problem go (read problems included).
      const bad = new Set(issues.map((i) => i.index));
      const customers = bad.size === 0
        ? checked.valid
        : validateCustomers(rows.filter((_, i) => !bad.has(i)), { region: reg, allowPastExpiry })
          .valid;
      if (customers.length === 0) {
        return {
          ok: false,
          text: `validation_failed: none of the ${rows.length} row(s) is valid; nothing was ` +
            `uploaded.\n${formatIssues(issues, label)}`,
        };
      }
      const created = await ctx.client.uploads.create({
        name: args.name,
        enable_rego_lookups: args.enable_rego_lookups ?? false,
        customers,
      }, { region: reg, validate: false });
      const summary = summarizeUpload(created);
      const skipped = bad.size === 0
        ? ""
        : ` Skipped ${bad.size} invalid row(s) (in issues; first: ${label(issues[0] as RowIssue)} ${
          issues[0]?.field
        }: ${issues[0]?.reason}).`;
      return {
        ok: true,
        data: { dry_run: false, ...report, skipped_rows: bad.size, upload_id: summary.upload_id },
        text: `${describeUpload(summary)}${skipped} Queued in region ${reg}. Next: ` +
          `recapture_wait_for_upload with upload_id "${summary.upload_id}".`,
        links: [resourceLink("upload", summary.upload_id, reg)],
      };
    });
  },
});

// ---------------------------------------------------------------- upload status

const uploadStatus = defineTool({
  name: "recapture_upload_status",
  title: "Upload status",
  description: "An upload's progress, checked once (recapture_wait_for_upload waits for the end).",
  access: "read",
  annotations: READ_ONLY,
  input: { upload_id: uploadId, region },
  output: uploadSummary.shape,
  async run(args, ctx) {
    return await onResource(ctx, args, "upload", args.upload_id, async (reg) => {
      const summary = summarizeUpload(
        await ctx.client.uploads.retrieve(args.upload_id, { region: reg }),
      );
      return {
        ok: true,
        data: summary,
        text: describeUpload(summary),
        links: [resourceLink("upload", summary.upload_id, reg)],
      };
    });
  },
});

// ---------------------------------------------------------------- wait for upload

const waitForUpload = defineTool({
  name: "recapture_wait_for_upload",
  title: "Wait for upload",
  description: "Wait for an upload to finish, then report its counts; if timed_out, call again.",
  access: "read",
  annotations: READ_ONLY,
  input: {
    upload_id: uploadId,
    max_wait_seconds: z.number().int().min(1).max(MAX_WAIT_SECONDS).default(20).describe(
      "Seconds.",
    ),
    region,
  },
  output: { ...uploadSummary.shape, timed_out: z.boolean() },
  async run(args, ctx, extra) {
    return await onResource(ctx, args, "upload", args.upload_id, async (reg) => {
      const waitMs = Math.min(args.max_wait_seconds, ctx.maxWaitSeconds) * 1000;
      const progressToken = extra._meta?.progressToken;
      let last: Upload | undefined;
      let sent: Promise<void> = Promise.resolve();
      const onProgress = (upload: Upload) => {
        const previous = last;
        last = upload;
        if (previous?.total_processed_customers === upload.total_processed_customers) return;
        const summary = summarizeUpload(upload);
        // Chained so notifications go out in order; a failed send must not fail the wait.
        sent = sent.then(() => ctx.log("info", describeUpload(summary)));
        if (progressToken === undefined) return;
        sent = sent.then(() =>
          extra.sendNotification({
            method: "notifications/progress",
            params: {
              progressToken,
              progress: summary.total_processed_customers,
              total: summary.total_uploaded_customers,
              message: describeUpload(summary),
            },
          })
        ).catch(() => {});
      };
      let upload: Upload;
      let timedOut = false;
      try {
        upload = await ctx.client.uploads.wait(args.upload_id, {
          region: reg,
          signal: extra.signal,
          intervalMs: ctx.pollIntervalMs,
          deadlineMs: waitMs,
          onProgress,
        });
      } catch (error) {
        // The deadline passed (or one poll timed out) after at least one good poll: report it.
        if (!(error instanceof TimeoutError) || last === undefined) throw error;
        upload = last;
        timedOut = true;
      }
      await sent;
      const summary = summarizeUpload(upload);
      const next = timedOut
        ? ` Not finished after ${
          Math.round(waitMs / 1000)
        } s: call recapture_wait_for_upload again.`
        : summary.total_errors > 0
        ? " Finished; some rows failed processing (see total_errors)."
        : " Finished.";
      return {
        ok: true,
        data: { ...summary, timed_out: timedOut },
        text: describeUpload(summary) + next,
        links: [resourceLink("upload", summary.upload_id, reg)],
      };
    });
  },
});

// ---------------------------------------------------------------- cancel upload

const cancelOutput = {
  action: z.enum(["cancelled", "already_cancelled", "already_completed"]),
  upload: uploadSummary,
};

type CancelOut = z.infer<z.ZodObject<typeof cancelOutput>>;
/** Compiles only while `action` names exactly the SDK's cancel outcomes. */
type _CancelActionsAreTheSdks = Assert<
  Same<CancelOut["action"], UploadCancelOutcome["result"]>
>;

const cancelUpload = defineTool({
  name: "recapture_cancel_upload",
  title: "Cancel upload",
  description:
    "Stop an upload creating more customers (created ones stay). A person confirms first.",
  access: "write",
  annotations: DESTRUCTIVE_IDEMPOTENT,
  input: { upload_id: uploadId, confirmation_token: confirmationToken, region },
  output: cancelOutput,
  async plan(args, ctx) {
    return await onResource<EffectPlan>(ctx, args, "upload", args.upload_id, async (reg) => {
      const summary = summarizeUpload(
        await ctx.client.uploads.retrieve(args.upload_id, { region: reg }),
      );
      // A finished upload cannot be stopped: the call changes nothing, so nobody is asked.
      if (summary.done) return noEffect(reg, args.upload_id);
      const remaining = summary.total_uploaded_customers - summary.total_processed_customers;
      return {
        ok: true,
        data: {
          region: reg,
          resourceId: args.upload_id,
          effects: [{
            kind: "cancel",
            what: `upload ${args.upload_id} in region ${reg} is cancelled: the ${remaining} ` +
              `customer(s) not yet processed are never created (the ` +
              `${summary.total_processed_customers} already processed stay)`,
          }],
        },
        text: "",
      };
    });
  },
  async run(args, ctx) {
    return await onResource<CancelOut>(ctx, args, "upload", args.upload_id, async (reg) => {
      // The API's answer decides what is reported: the upload may have finished meanwhile.
      const answered = await ctx.client.uploads.cancel(args.upload_id, { region: reg });
      const summary = summarizeUpload(answered);
      const action = answered.outcome.result;
      return {
        ok: true,
        data: { action, upload: summary },
        text: action === "cancelled"
          ? `cancelled: ${describeUpload(summary)} No more customers will be created.`
          : action === "already_cancelled"
          ? `already cancelled: nothing more to stop. ${describeUpload(summary)}`
          : `already completed: nothing cancelled. ${describeUpload(summary)}`,
        links: [resourceLink("upload", summary.upload_id, reg)],
      };
    });
  },
});

/** The `uploads` toolset, in listing order. */
export const UPLOAD_TOOLS: readonly RegisteredToolSpec[] = [
  uploadCustomers,
  uploadStatus,
  waitForUpload,
  cancelUpload,
];
