/**
 * The tool registry: one entry per Customer Recapture operation, each with its schemas,
 * annotations and handler. `mod.ts` turns the registry into an `McpServer`.
 *
 * @module
 */
import * as z from "zod";
import type { Customer, RecaptureClient, Region, RowIssue, Upload } from "../mod.ts";
import {
  expiresImmediately,
  IncorrectRegionError,
  isUploadDone,
  NotFoundError,
  REGIONS,
  TimeoutError,
  validateCustomers,
} from "../mod.ts";
import { readCsvRows } from "./_csv.ts";
import { explainError, formatIssues, MAX_LISTED_ISSUES, ToolFailure } from "./_errors.ts";
import type { Resource } from "./_errors.ts";
import { maskRecord } from "./_mask.ts";
import type { MaskSettings, Scrubber } from "./_mask.ts";
import type { RequestHandlerExtra, ServerNotification, ServerRequest, Tool } from "./_sdk.ts";

/** The regions, from the SDK (the one list), as the tuple `z.enum` wants. */
const REGION_VALUES = REGIONS as readonly [Region, ...Region[]];

/** Most rows one upload call accepts; bigger lists belong to the CLI or SDK. */
export const MAX_UPLOAD_ROWS = 5000;
/** Most characters of CSV text one upload call accepts. */
export const MAX_CSV_CHARS = 2_000_000;
/** Most customers one list call returns. */
export const MAX_LIST_LIMIT = 100;
/** Default page size of the list tool. */
export const DEFAULT_LIST_LIMIT = 20;
/** Hard cap on the JSON size of one list result, in characters (~6k tokens). */
export const MAX_LIST_RESULT_CHARS = 24_000;

/** Customer fields the list tool can select (`id` always comes back). */
export const CUSTOMER_FIELDS = [
  "upload_id",
  "region",
  "rego",
  "state",
  "vin",
  "vin_source",
  "external_id",
  "vehicle_title",
  "client_name",
  "mobile_number",
  "sale_date",
  "expiry_date",
  "monitor_start_date",
  "monitor_end_date",
  "additional_fields",
  "sightings",
  "created_at",
  "last_updated",
] as const;

/** Everything a handler needs from the server it runs in. */
export interface ToolContext {
  client: RecaptureClient;
  /** The default region. */
  region: Region;
  mask: MaskSettings;
  /** This call's scrubber: every personal value a handler reads goes in (see `_mask.ts`). */
  scrub: Scrubber;
  /** The clock, in milliseconds (decides which expiry dates delete at once). */
  now: () => number;
  /** Longest time the wait tool blocks, in seconds. */
  maxWaitSeconds: number;
  /** Poll interval of the wait tool. */
  pollIntervalMs: number;
}

/** The request extras the SDK hands a tool handler. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a handler returns: structured data plus a short text, or a failure text. */
export type ToolOutcome<T> = { ok: true; data: T; text: string } | { ok: false; text: string };

/** One thing a call would do that cannot be undone, in plain words for the person asked. */
export interface Effect {
  kind: "delete" | "cancel" | "remove";
  /** E.g. `customer c_1 (2019 Toyota Corolla, rego [masked]) in region au is deleted`. */
  what: string;
}

/** What a call would do: the resource it acts on and its irreversible effects (maybe none). */
export interface EffectPlan {
  region: Region;
  resourceId: string;
  effects: Effect[];
}

/** The four MCP tool annotations, all required here so none is left implicit. */
export interface ExplicitAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** One registry entry. */
export interface ToolSpec<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  /** `read` tools are the only ones served in read-only mode. */
  access: "read" | "write";
  annotations: ExplicitAnnotations;
  input: I;
  output: O;
  /**
   * What a call would delete, cancel or remove, worked out before it acts. Required of every
   * tool with `destructiveHint`; the server confirms any effect with a person (or, in the
   * operator's token mode, a token) before `run`, whatever the tool.
   */
  plan?(
    args: z.infer<z.ZodObject<I>>,
    ctx: ToolContext,
  ): Promise<ToolOutcome<EffectPlan>>;
  run(
    args: z.infer<z.ZodObject<I>>,
    ctx: ToolContext,
    extra: ToolExtra,
  ): Promise<ToolOutcome<z.infer<z.ZodObject<O>>>>;
}

/** A registry entry with its types erased, so entries of different shapes share one list. */
export interface RegisteredToolSpec {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly access: "read" | "write";
  /** Whether calls can need confirmation (the tool has a `plan`). */
  readonly confirmation: boolean;
  readonly annotations: ExplicitAnnotations;
  /** Registers the tool through `registerTool` (the server's one wrapper). */
  register(registerTool: RegisterFn): void;
  /** The tool as `tools/list` shows it. */
  listing(): Tool;
}

/**
 * A zod object as the JSON Schema `tools/list` carries, the way the SDK converts it (draft-7),
 * minus the `$schema` line the SDK adds to every schema (about 12 tokens each, twice per tool).
 */
function jsonSchema(shape: z.ZodRawShape, io: "input" | "output"): Tool["inputSchema"] {
  const schema: Record<string, unknown> = z.toJSONSchema(z.object(shape), {
    target: "draft-7",
    io,
  });
  delete schema.$schema;
  return schema as Tool["inputSchema"];
}

/** What `register` needs: a function that registers one tool, given its parts. */
export type RegisterFn = <I extends z.ZodRawShape, O extends z.ZodRawShape>(
  spec: ToolSpec<I, O>,
) => void;

/** @internal Shared with alert_tools.ts. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  spec: ToolSpec<I, O>,
): RegisteredToolSpec {
  if (spec.annotations.destructiveHint && !spec.plan) {
    throw new Error(`${spec.name} is destructive but declares no plan of its effects`);
  }
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    access: spec.access,
    confirmation: spec.plan !== undefined,
    annotations: spec.annotations,
    register(registerTool) {
      registerTool(spec);
    },
    listing() {
      return {
        name: spec.name,
        title: spec.title,
        description: spec.description,
        inputSchema: jsonSchema(spec.input, "input"),
        outputSchema: jsonSchema(spec.output, "output"),
        annotations: { ...spec.annotations },
      };
    },
  };
}

// ---------------------------------------------------------------- shared schema pieces

/** @internal Shared with alert_tools.ts. */
export const region = z.enum(REGION_VALUES).optional().describe("Default: the server's.");
const uploadId = z.string().min(1).max(200).describe("Upload id from recapture_upload_customers.");
const customerId = z.string().min(1).max(200).describe("Customer id.");
/** @internal Shared with alert_tools.ts. */
// No length cap in the schema (tokens are checked by one anchored, bounded pattern).
export const confirmationToken = z.string().optional().describe(
  "Token mode: from confirmation_required, if the user agrees.",
);

const uploadSummary = z.object({
  upload_id: z.string(),
  status: z.string().nullable(),
  total_uploaded_customers: z.number(),
  total_processed_customers: z.number(),
  total_errors: z.number(),
  percent_complete: z.number(),
  done: z.boolean(),
});
type UploadSummary = z.infer<typeof uploadSummary>;

const customerOut = z.object({ id: z.string() }).loose();
type CustomerOut = z.infer<typeof customerOut>;

const issueOut = z.object({ index: z.number(), field: z.string(), reason: z.string() });

// ---------------------------------------------------------------- helpers

/** @internal Shared with alert_tools.ts. */
export function regionOf(args: { region?: Region }, ctx: ToolContext): Region {
  return args.region ?? ctx.region;
}

/** Summarises an upload: the counters, a percentage and whether it has finished. */
export function summarizeUpload(upload: Upload): UploadSummary {
  const uploaded = upload.total_uploaded_customers ?? 0;
  const processed = upload.total_processed_customers ?? 0;
  const status = upload.status ?? null;
  const done = isUploadDone(upload);
  const percent = uploaded > 0
    ? Math.min(100, Math.floor((processed * 100) / uploaded))
    : (done ? 100 : 0);
  return {
    upload_id: upload.id,
    status,
    total_uploaded_customers: uploaded,
    total_processed_customers: processed,
    total_errors: upload.total_errors ?? 0,
    percent_complete: percent,
    done,
  };
}

function describeUpload(s: UploadSummary): string {
  return `Upload ${s.upload_id}: ${s.status ?? "unknown"}, ` +
    `${s.total_processed_customers}/${s.total_uploaded_customers} processed ` +
    `(${s.percent_complete}%), ${s.total_errors} error(s).`;
}

function customerView(customer: Customer, ctx: ToolContext): CustomerOut {
  ctx.scrub.collect(customer);
  return maskRecord({ ...customer } as CustomerOut, ctx.mask);
}

/** @internal Shared with alert_tools.ts. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** @internal Shared with alert_tools.ts. */
export function failure(code: string, message: string): never {
  throw new ToolFailure(code, message);
}

async function findRegion(
  ctx: ToolContext,
  resource: Resource,
  id: string,
  tried: Region,
): Promise<Region | null> {
  for (const candidate of REGIONS) {
    if (candidate === tried) continue;
    try {
      const opts = { region: candidate, maxRetries: 0, timeoutMs: 5000 };
      if (resource === "customer") await ctx.client.customers.retrieve(id, opts);
      else if (resource === "upload") await ctx.client.uploads.retrieve(id, opts);
      else await ctx.client.webhooks.retrieve(id, opts);
      return candidate;
    } catch {
      // Not there (or not licensed there): try the next one.
    }
  }
  return null;
}

/**
 * Runs `action`; an API failure becomes a failure outcome that names its cause and next step.
 * A wrong-region failure looks the resource up in the other regions to say which one is right.
 */
export async function guarded<T>(
  ctx: ToolContext,
  where: { resource?: Resource; id?: string; region: Region },
  action: () => Promise<ToolOutcome<T>>,
): Promise<ToolOutcome<T>> {
  try {
    return await action();
  } catch (error) {
    let foundInRegion: Region | null = null;
    if (error instanceof IncorrectRegionError && where.resource && where.id) {
      foundInRegion = await findRegion(ctx, where.resource, where.id, where.region);
    }
    return {
      ok: false,
      text: explainError(error, { resource: where.resource, region: where.region, foundInRegion }),
    };
  }
}

/** A plan with no effect: the call needs no confirmation. */
function noEffect(region: Region, resourceId: string): ToolOutcome<EffectPlan> {
  return { ok: true, data: { region, resourceId, effects: [] }, text: "" };
}

/** A short, masked description of a customer for a person: id, vehicle, rego. */
function describeCustomer(c: CustomerOut): string {
  const parts = [c.vehicle_title, c.rego ? `rego ${c.rego}` : null, c.vin ? `VIN ${c.vin}` : null]
    .filter((p): p is string => typeof p === "string" && p !== "");
  return `customer ${c.id}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

// ---------------------------------------------------------------- upload customers

const uploadInput = {
  name: z.string().max(200).describe("A label."),
  customers: z.array(z.looseObject({})).max(MAX_UPLOAD_ROWS).optional().describe(
    "Rows: rego, state (AU), vin, client_name, mobile_number, sale_date, expiry_date, " +
      "monitor_start_date, monitor_end_date (YYYY-MM-DD), external_id, additional_fields. " +
      "Need rego or vin.",
  ),
  csv: z.string().max(MAX_CSV_CHARS).optional().describe("Or CSV with a header."),
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
  issues: z.array(issueOut),
  upload_id: z.string().nullable(),
};

type UploadOut = z.infer<z.ZodObject<typeof uploadOutput>>;

/** The rows of an upload call (JSON rows or CSV), the CSV reader's problems and row labels. */
async function readUploadRows(
  args: { customers?: Record<string, unknown>[]; csv?: string },
): Promise<{ rows: unknown[]; readIssues: RowIssue[]; label: (issue: RowIssue) => string }> {
  if ((args.csv !== undefined) === (args.customers !== undefined)) {
    failure("invalid_arguments", "give exactly one of `customers` (JSON rows) or `csv`.");
  }
  if (args.csv !== undefined) {
    const parsed = await readCsvRows(args.csv, MAX_UPLOAD_ROWS);
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
  description:
    "Track past customers' cars: AutoGrab alerts when one is listed for sale. Checks rows " +
    "first; then recapture_wait_for_upload. Rego lookups are billed.",
  access: "write",
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  input: uploadInput,
  output: uploadOutput,
  async plan(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded<EffectPlan>(ctx, { region: reg }, async () => {
      if (args.dry_run) return noEffect(reg, "");
      const { rows } = await readUploadRows(args);
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
    return await guarded<UploadOut>(ctx, { region: reg }, async () => {
      const { rows, readIssues, label } = await readUploadRows(args);
      if (rows.length === 0) {
        failure("empty_upload", "there are no customer rows. Pass at least one row.");
      }
      // Past expiry dates: a dry run reports them; a real run has passed the confirmation gate
      // (plan() above names them), so they go up as confirmed.
      const checked = validateCustomers(rows, { region: reg, allowPastExpiry: !args.dry_run });
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
      if (issues.length > 0) {
        return {
          ok: false,
          text: `validation_failed: ${issues.length} problem(s) in ${rows.length} row(s); ` +
            `nothing was uploaded.\n${formatIssues(issues, label)}\n` +
            "Fix or remove these rows and call again (dry_run: true checks without uploading).",
        };
      }
      const created = await ctx.client.uploads.create({
        name: args.name,
        enable_rego_lookups: args.enable_rego_lookups ?? false,
        customers: checked.valid,
      }, { region: reg, validate: false });
      const summary = summarizeUpload(created);
      return {
        ok: true,
        data: { dry_run: false, ...report, upload_id: summary.upload_id },
        text: `${describeUpload(summary)} Queued in region ${reg}. Next: ` +
          `recapture_wait_for_upload with upload_id "${summary.upload_id}".`,
      };
    });
  },
});

// ---------------------------------------------------------------- upload status

const uploadStatus = defineTool({
  name: "recapture_upload_status",
  title: "Upload status",
  description:
    "Get an upload's progress: customers uploaded, processed and failed, and percent done. " +
    "One quick check; to block until it finishes use recapture_wait_for_upload.",
  access: "read",
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: { upload_id: uploadId, region },
  output: uploadSummary.shape,
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(ctx, { resource: "upload", id: args.upload_id, region: reg }, async () => {
      const summary = summarizeUpload(
        await ctx.client.uploads.retrieve(args.upload_id, { region: reg }),
      );
      return { ok: true, data: summary, text: describeUpload(summary) };
    });
  },
});

// ---------------------------------------------------------------- wait for upload

const waitForUpload = defineTool({
  name: "recapture_wait_for_upload",
  title: "Wait for upload",
  description:
    "Wait (up to max_wait_seconds, at most 25) for an upload to finish processing, then " +
    "report its counts. If it is not done yet, call again.",
  access: "read",
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: {
    upload_id: uploadId,
    max_wait_seconds: z.number().int().min(1).max(25).default(20).describe(
      "How long to wait before reporting back.",
    ),
    region,
  },
  output: { ...uploadSummary.shape, timed_out: z.boolean() },
  async run(args, ctx, extra) {
    const reg = regionOf(args, ctx);
    return await guarded(ctx, { resource: "upload", id: args.upload_id, region: reg }, async () => {
      const waitMs = Math.min(args.max_wait_seconds, ctx.maxWaitSeconds) * 1000;
      const progressToken = extra._meta?.progressToken;
      let last: Upload | undefined;
      let sent: Promise<void> = Promise.resolve();
      const onProgress = (upload: Upload) => {
        const previous = last;
        last = upload;
        if (
          progressToken === undefined ||
          previous?.total_processed_customers === upload.total_processed_customers
        ) return;
        const summary = summarizeUpload(upload);
        // Chained so notifications go out in order; a failed send must not fail the wait.
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
      };
    });
  },
});

// ---------------------------------------------------------------- cancel upload

const cancelOutput = {
  action: z.enum(["cancelled", "already_completed"]),
  upload: uploadSummary,
};

type CancelOut = z.infer<z.ZodObject<typeof cancelOutput>>;

const cancelUpload = defineTool({
  name: "recapture_cancel_upload",
  title: "Cancel upload",
  description:
    "Stop an upload from creating more customers (ones already created stay). A person " +
    "confirms first; the answer says whether anything was cancelled.",
  access: "write",
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: { upload_id: uploadId, confirmation_token: confirmationToken, region },
  output: cancelOutput,
  async plan(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded<EffectPlan>(
      ctx,
      { resource: "upload", id: args.upload_id, region: reg },
      async () => {
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
      },
    );
  },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded<CancelOut>(
      ctx,
      { resource: "upload", id: args.upload_id, region: reg },
      async () => {
        // The API's answer decides what is reported: the upload may have finished meanwhile.
        const answered = await ctx.client.uploads.cancel(args.upload_id, { region: reg });
        const summary = summarizeUpload(answered);
        const cancelled = answered.status === "cancelled" ||
          ((answered.status ?? null) === null && !summary.done);
        return {
          ok: true,
          data: { action: cancelled ? "cancelled" : "already_completed", upload: summary },
          text: cancelled
            ? `cancelled: ${describeUpload(summary)} No more customers will be created.`
            : `already completed: nothing cancelled. ${describeUpload(summary)}`,
        };
      },
    );
  },
});

// ---------------------------------------------------------------- list customers

const listInput = {
  upload_id: z.string().min(1).max(200).optional().describe("Only customers of this upload."),
  offset: z.number().int().min(0).max(1e9).optional().describe("Start position (default 0)."),
  limit: z.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT).describe(
    `Page size, at most ${MAX_LIST_LIMIT}.`,
  ),
  cursor: z.string().max(500).optional().describe("next_cursor from the previous page."),
  fields: z.array(z.enum(CUSTOMER_FIELDS)).optional().describe("Only these fields (id always)."),
  region,
};

const listOutput = {
  customers: z.array(customerOut),
  total: z.number().nullable(),
  offset: z.number(),
  has_more: z.boolean(),
  next_offset: z.number().nullable(),
  next_cursor: z.string().nullable(),
};

interface CursorState {
  offset: number;
  upload_id: string | null;
  region: Region;
}

function encodeCursor(state: CursorState): string {
  return btoa(JSON.stringify([state.offset, state.upload_id, state.region]))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): CursorState {
  try {
    const value: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (
      Array.isArray(value) && value.length === 3 && Number.isInteger(value[0]) && value[0] >= 0 &&
      (value[1] === null || typeof value[1] === "string") &&
      (REGIONS as readonly unknown[]).includes(value[2])
    ) {
      return { offset: value[0], upload_id: value[1], region: value[2] as Region };
    }
  } catch {
    // fall through
  }
  return failure(
    "invalid_cursor",
    "the cursor is not one this tool returned. Pass next_cursor unchanged, or use offset.",
  );
}

function pick(customer: CustomerOut, fields: readonly string[] | undefined): CustomerOut {
  if (!fields) return customer;
  const out: CustomerOut = { id: customer.id };
  for (const f of fields) if (f in customer) out[f] = customer[f];
  return out;
}

const listCustomers = defineTool({
  name: "recapture_list_customers",
  title: "List customers",
  description:
    "List customers, oldest first, a page at a time. Use fields to keep results small; " +
    "follow next_cursor while has_more.",
  access: "read",
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: listInput,
  output: listOutput,
  async run(args, ctx) {
    let state: CursorState;
    if (args.cursor !== undefined) {
      if (args.offset !== undefined || args.upload_id !== undefined || args.region !== undefined) {
        return {
          ok: false,
          text: "invalid_arguments: a cursor already fixes offset, upload_id and region; " +
            "pass the cursor alone (with limit/fields if wanted).",
        };
      }
      try {
        state = decodeCursor(args.cursor);
      } catch (error) {
        return { ok: false, text: explainError(error, { region: regionOf(args, ctx) }) };
      }
    } else {
      state = {
        offset: args.offset ?? 0,
        upload_id: args.upload_id ?? null,
        region: regionOf(args, ctx),
      };
    }
    return await guarded(ctx, { region: state.region }, async () => {
      const page = await ctx.client.customers.list({
        offset: state.offset,
        limit: args.limit,
        ...(state.upload_id !== null ? { upload_id: state.upload_id } : {}),
      }, { region: state.region });
      const all = page.customers.map((c) => pick(customerView(c, ctx), args.fields));
      // Enforce the size cap: keep whole customers while the JSON fits (always at least one).
      const kept: CustomerOut[] = [];
      let size = 0;
      for (const c of all) {
        const s = json(c).length + 1;
        if (kept.length > 0 && size + s > MAX_LIST_RESULT_CHARS) break;
        kept.push(c);
        size += s;
      }
      const cut = kept.length < all.length;
      const nextOffset = state.offset + kept.length;
      // The API need not say the total: then any non-empty page may have more after it.
      const total = page.total ?? null;
      const hasMore = kept.length > 0 && (total !== null ? nextOffset < total : true);
      const data = {
        customers: kept,
        total,
        offset: state.offset,
        has_more: hasMore,
        next_offset: hasMore ? nextOffset : null,
        next_cursor: hasMore
          ? encodeCursor({ offset: nextOffset, upload_id: state.upload_id, region: state.region })
          : null,
      };
      const head = kept.length === 0
        ? `No customers at offset ${state.offset}${total !== null ? ` (total ${total})` : ""}.`
        : `Customers ${state.offset + 1}-${nextOffset}${total !== null ? ` of ${total}` : ""}` +
          (cut ? ` (page cut to fit the size cap; select fewer fields for more per page)` : "") +
          (hasMore ? `; more with cursor "${data.next_cursor}".` : ".");
      return { ok: true, data, text: `${head}\n${json(kept)}` };
    });
  },
});

// ---------------------------------------------------------------- get customer

const getCustomer = defineTool({
  name: "recapture_get_customer",
  title: "Get customer",
  description:
    "Get one customer: vehicle (rego, VIN, title), contact, dates and sightings (each time " +
    "the car was seen listed for sale).",
  access: "read",
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: { customer_id: customerId, region },
  output: { customer: customerOut },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(
      ctx,
      { resource: "customer", id: args.customer_id, region: reg },
      async () => {
        const customer = customerView(
          await ctx.client.customers.retrieve(args.customer_id, { region: reg }),
          ctx,
        );
        return { ok: true, data: { customer }, text: json(customer) };
      },
    );
  },
});

// ---------------------------------------------------------------- update customer

const updateOutput = {
  customer: customerOut,
  result: z.enum(["updated", "deleted", "deleted_on_expiry"]),
};
type UpdateOut = z.infer<z.ZodObject<typeof updateOutput>>;

/** The plan of a call that deletes `id`: the customer, described (masked) for a person. */
async function deletionPlan(
  ctx: ToolContext,
  reg: Region,
  id: string,
  how: string,
): Promise<ToolOutcome<EffectPlan>> {
  const customer = customerView(await ctx.client.customers.retrieve(id, { region: reg }), ctx);
  return {
    ok: true,
    data: {
      region: reg,
      resourceId: id,
      effects: [{
        kind: "delete",
        what: `${describeCustomer(customer)} in region ${reg} is deleted${how}; their car is no ` +
          "longer tracked",
      }],
    },
    text: "",
  };
}

const updateCustomer = defineTool({
  name: "recapture_update_customer",
  title: "Update customer",
  description:
    "Change a customer's client_name, mobile_number, sale_date or expiry_date. Only the " +
    'fields given change; "" clears one. The API deletes a customer on its expiry_date, so an ' +
    "expiry_date of today or earlier deletes it: a person confirms that first.",
  access: "write",
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: {
    customer_id: customerId,
    client_name: z.string().max(200).optional().describe("New name."),
    mobile_number: z.string().max(40).optional().describe("New mobile number."),
    sale_date: z.string().max(10).optional().describe("YYYY-MM-DD."),
    expiry_date: z.string().max(10).optional().describe("YYYY-MM-DD."),
    confirmation_token: confirmationToken,
    region,
  },
  output: updateOutput,
  async plan(args, ctx) {
    const reg = regionOf(args, ctx);
    const expiry = args.expiry_date;
    if (expiry === undefined || !expiresImmediately(expiry, { now: new Date(ctx.now()) })) {
      return noEffect(reg, args.customer_id);
    }
    return await guarded(
      ctx,
      { resource: "customer", id: args.customer_id, region: reg },
      () =>
        deletionPlan(
          ctx,
          reg,
          args.customer_id,
          ` (its new expiry_date ${expiry} is today or earlier, and the API deletes a customer ` +
            "on its expiry date)",
        ),
    );
  },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded<UpdateOut>(
      ctx,
      { resource: "customer", id: args.customer_id, region: reg },
      async () => {
        const { customer_id: id, region: _r, confirmation_token: _t, ...changes } = args;
        const params = Object.fromEntries(
          Object.entries(changes).filter(([, v]) => v !== undefined),
        ) as {
          client_name?: string;
          mobile_number?: string;
          sale_date?: string;
          expiry_date?: string;
        };
        if (Object.keys(params).length === 0) {
          failure(
            "invalid_arguments",
            "give at least one of client_name, mobile_number, sale_date, expiry_date.",
          );
        }
        const customer = customerView(
          await ctx.client.customers.update(id, params, { region: reg }),
          ctx,
        );
        const changed = Object.keys(params).join(", ");
        const expiry = params.expiry_date;
        if (expiry === undefined || !expiresImmediately(expiry, { now: new Date(ctx.now()) })) {
          return {
            ok: true,
            data: { customer, result: "updated" as const },
            text: `Updated ${changed}.\n${json(customer)}`,
          };
        }
        // Ask the API whether the customer still exists: report what happened, not the plan.
        let gone = false;
        try {
          await ctx.client.customers.retrieve(id, { region: reg });
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          gone = true;
        }
        return {
          ok: true,
          data: { customer, result: gone ? "deleted" as const : "deleted_on_expiry" as const },
          text: gone
            ? `Updated ${changed}; the customer is now deleted (expiry_date ${expiry} has ` +
              `passed where the API counts it). The record as it was:\n${json(customer)}`
            : `Updated ${changed}; the API still holds the customer and deletes it when ` +
              `expiry_date ${expiry} arrives in its time zone (within a day).\n${json(customer)}`,
        };
      },
    );
  },
});

// ---------------------------------------------------------------- delete customer

const deleteCustomer = defineTool({
  name: "recapture_delete_customer",
  title: "Delete customer",
  description: "Delete a customer permanently; their car stops being tracked. A person " +
    "confirms first.",
  access: "write",
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  input: { customer_id: customerId, confirmation_token: confirmationToken, region },
  output: { action: z.enum(["deleted"]), customer: customerOut },
  async plan(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(
      ctx,
      { resource: "customer", id: args.customer_id, region: reg },
      () => deletionPlan(ctx, reg, args.customer_id, " permanently"),
    );
  },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(
      ctx,
      { resource: "customer", id: args.customer_id, region: reg },
      async () => {
        const customer = customerView(
          await ctx.client.customers.delete(args.customer_id, { region: reg }),
          ctx,
        );
        return {
          ok: true,
          data: { action: "deleted" as const, customer },
          text: `Deleted customer ${customer.id}.`,
        };
      },
    );
  },
});

/** The registry, in the order tools are listed. */
export const TOOLS: readonly RegisteredToolSpec[] = [
  uploadCustomers,
  uploadStatus,
  waitForUpload,
  cancelUpload,
  listCustomers,
  getCustomer,
  updateCustomer,
  deleteCustomer,
];

/** The names of every tool in the registry. */
export const TOOL_NAMES: readonly string[] = TOOLS.map((t) => t.name);
