/**
 * What every tool is made of: the registry entry type, `defineTool`, and the schema pieces and
 * helpers the tool families share (regions, ids, upload summaries, customer views, errors).
 *
 * @module
 */
import * as z from "zod";
import type { Customer, RecaptureClient, Region, Upload } from "../../mod.ts";
import { IncorrectRegionError, isUploadDone, REGIONS } from "../../mod.ts";
import { CustomerSchema } from "../../src/sdk/schemas.ts";
import { explainError, ToolFailure } from "../_errors.ts";
import type { Resource } from "../_errors.ts";
import { maskRecord } from "../_mask.ts";
import type { MaskSettings, Scrubber } from "../_mask.ts";
import type { RequestHandlerExtra, ServerNotification, ServerRequest, Tool } from "../_sdk.ts";

/** The regions, from the SDK (the one list), as the tuple `z.enum` wants. */
const REGION_VALUES = REGIONS as readonly [Region, ...Region[]];

/**
 * The API's largest page of customers (the SDK refuses a larger `limit`; tests/facts_test.ts
 * holds the two together): the find tool's page, and code mode's bound on `limit`.
 */
export const API_PAGE_MAX = 1000;
/** The longest a wait call blocks, in seconds (the tool's bound and the server option's). */
export const MAX_WAIT_SECONDS = 25;
/** Most rows one upload call accepts; bigger lists belong to the CLI or SDK. */
export const MAX_UPLOAD_ROWS = 5000;
/** Most characters of CSV text one upload call accepts. */
export const MAX_CSV_CHARS = 2_000_000;
/** Most customers one list call returns. */
export const MAX_LIST_LIMIT = 100;
/** Default page size of the list tool. */
export const DEFAULT_LIST_LIMIT = 20;
/** Hard cap on the JSON size of one list result, in characters (about 2.5k tokens). */
export const MAX_LIST_RESULT_CHARS = 7_000;

/**
 * Most characters of one customer in a list or get result: a longer one is shortened (its
 * newest sightings and the start of its additional_fields kept) and says so, so a list page holds
 * at least one whole customer within {@linkcode MAX_LIST_RESULT_CHARS}.
 */
export const MAX_CUSTOMER_CHARS = 4_000;
/** Most characters of a shortened customer's additional_fields, and of each value in them. */
const SHORT_EXTRA = { total: 1_000, value: 200 } as const;

/** Customer fields the list tool can select (`id` always comes back). */
export const CUSTOMER_FIELDS = Object.keys(CustomerSchema.entries)
  .filter((f) => f !== "id") as [string, ...string[]];

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
  /**
   * Sends a log line of this call to the client (`notifications/message`, at or above the level
   * the client set), masked and redacted like a result. A no-op outside a call.
   */
  log(level: "debug" | "info" | "warning", message: string): Promise<void>;
  /** Reads a file the user named, after the checks of `_files.ts` (refused over HTTP). */
  readFile(path: string): Promise<string>;
  /** The server is read-only (code mode: scripts may then only read). */
  readOnly: boolean;
  /**
   * Confirms a plan with a person through the gate, for effects a tool finds while it runs
   * (code mode: each destructive client call of a script). Never token mode: a script cannot
   * carry a token back.
   */
  confirm(
    plan: EffectPlan,
    tool: string,
    args: Record<string, unknown>,
  ): Promise<{ go: true } | { go: false; text: string }>; // the gate's verdict (`_gate.ts`)
}

/** The request extras the SDK hands a tool handler. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A `resource_link` a result carries: the resource a call created or named. */
export interface ResourceLink {
  type: "resource_link";
  uri: string;
  name: string;
}

/**
 * What a handler returns: structured data plus a short text (and links to the resources it
 * created or named), or a failure text.
 */
export type ToolOutcome<T> =
  | { ok: true; data: T; text: string; links?: ResourceLink[] }
  | { ok: false; text: string };

/**
 * The URI of an upload or customer: `recapture://uploads/{id}`, with `?region=` when the region
 * is not the server's default (see `_resources.ts`, which reads them).
 */
export function resourceUri(kind: "upload" | "customer", id: string, region?: Region): string {
  return `recapture://${kind}s/${encodeURIComponent(id)}` + (region ? `?region=${region}` : "");
}

/** A `resource_link` to an upload or customer in `region`. */
export function resourceLink(
  kind: "upload" | "customer",
  id: string,
  region: Region,
): ResourceLink {
  return { type: "resource_link", uri: resourceUri(kind, id, region), name: `${kind} ${id}` };
}

/**
 * One thing a call would do that cannot be undone, in plain words for the person asked: data
 * deleted, cancelled or removed (a field cleared), or customer data sent to a third party.
 */
export interface Effect {
  kind: "delete" | "cancel" | "remove" | "send";
  /** E.g. `customer c_1 (2019 Toyota Corolla, rego [masked]) in region au is deleted`. */
  what: string;
}

/** What a call would do: the resource it acts on and its irreversible effects (maybe none). */
export interface EffectPlan {
  region: Region;
  resourceId: string;
  effects: Effect[];
  /**
   * What the effects were worked out from besides the arguments (a file's rows): a confirmation
   * token is bound to it too, so the same arguments over changed contents need a new one.
   */
  input?: unknown;
}

/** The four MCP tool annotations, all required here so none is left implicit. */
export interface ExplicitAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** The annotations of a tool that only reads the account. */
export const READ_ONLY: Readonly<ExplicitAnnotations> = Object.freeze({
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
});

/** The annotations of a tool that deletes or cancels one named thing (again: no change). */
export const DESTRUCTIVE_IDEMPOTENT: Readonly<ExplicitAnnotations> = Object.freeze({
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
});

/** The annotations of a tool that creates something AutoGrab then acts on (each call anew). */
export const WRITE_OPEN_WORLD: Readonly<ExplicitAnnotations> = Object.freeze({
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
});

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
 * Removes what says nothing at every depth: `additionalProperties: {}` and empty nested
 * `properties` (JSON Schema allows any property by default) and, in an output schema,
 * `additionalProperties: false` too (an output schema states what comes back; "nothing else"
 * adds tokens and no meaning).
 */
function dropSilent(node: unknown, io: "input" | "output", root = true): void {
  if (Array.isArray(node)) {
    for (const item of node) dropSilent(item, io, false);
  } else if (typeof node === "object" && node !== null) {
    const record = node as Record<string, unknown>;
    const isEmpty = (v: unknown) =>
      typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
    const extra = record.additionalProperties;
    if (isEmpty(extra) || (io === "output" && extra === false)) delete record.additionalProperties;
    if (!root && record.type === "object" && isEmpty(record.properties)) delete record.properties;
    for (const value of Object.values(record)) dropSilent(value, io, false);
  }
}

/**
 * A zod object as the JSON Schema `tools/list` carries, the way the SDK converts it (draft-7),
 * minus the `$schema` line the SDK adds to every schema (about 12 tokens each, twice per tool)
 * and the parts that say nothing (see `dropSilent`).
 */
function jsonSchema(shape: z.ZodRawShape, io: "input" | "output"): Tool["inputSchema"] {
  const schema: Record<string, unknown> = z.toJSONSchema(z.object(shape), {
    target: "draft-7",
    io,
  });
  delete schema.$schema;
  dropSilent(schema, io);
  return schema as Tool["inputSchema"];
}

/** What `register` needs: a function that registers one tool, given its parts. */
export type RegisterFn = <I extends z.ZodRawShape, O extends z.ZodRawShape>(
  spec: ToolSpec<I, O>,
) => void;

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

export const region = z.enum(REGION_VALUES).optional().describe("Default: server's.");
export const uploadId = z.string().min(1).max(200).describe("Upload id.");
export const customerId = z.string().min(1).max(200).describe("Customer id.");
// No length cap in the schema (tokens are checked by one anchored, bounded pattern).
export const confirmationToken = z.string().optional().describe(
  "If the user agreed: from confirmation_required.",
);

export const uploadSummary = z.object({
  upload_id: z.string(),
  status: z.string().nullable(),
  total_uploaded_customers: z.number(),
  total_processed_customers: z.number(),
  total_errors: z.number(),
  percent_complete: z.number(),
  done: z.boolean(),
});
export type UploadSummary = z.infer<typeof uploadSummary>;

/**
 * A customer in results: its `id`, and `CUSTOMER_FIELDS` passing through as they come. The
 * fields are named once in the list, in its `fields` enum; naming them again in each output
 * schema cost 25 tokens a tool and told the agent nothing a result does not show.
 */
export const customerOut = z.object({ id: z.string() }).loose();
export type CustomerOut = z.infer<typeof customerOut>;
/**
 * The customer as the reading tools (list, get) answer it: the fields an agent looks for are
 * named, tersely (the others named once, in the list tool's `fields` enum). Tools that only act
 * on a customer answer `customerOut`, to keep `tools/list` within its token budget.
 */
export const customerReadOut = z.object(
  {
    id: z.string(),
    rego: z.unknown().optional(),
    vin: z.unknown().optional(),
    vehicle_title: z.unknown().optional(),
    client_name: z.unknown().optional(),
    expiry_date: z.unknown().optional(),
  } satisfies Partial<Record<keyof typeof CustomerSchema.entries, z.ZodType>>, // the SDK's names
).loose();

export const issueOut = z.object({ index: z.number(), field: z.string(), reason: z.string() });

// ---------------------------------------------------------------- helpers

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

export function describeUpload(s: UploadSummary): string {
  return `Upload ${s.upload_id}: ${s.status ?? "unknown"}, ` +
    `${s.total_processed_customers}/${s.total_uploaded_customers} processed ` +
    `(${s.percent_complete}%), ${s.total_errors} error(s).`;
}

export function customerView(customer: Customer, ctx: ToolContext): CustomerOut {
  ctx.scrub.collect(customer);
  return maskRecord({ ...customer } as CustomerOut, ctx.mask);
}

/** `value` as text of at most `max` characters (JSON for other than strings), marked when cut. */
function shortValue(value: unknown, max: number): { value: unknown; cut: boolean } {
  const text = typeof value === "string" ? value : json(value) ?? "";
  if (text.length <= max) return { value, cut: false };
  return { value: `${text.slice(0, max)}...`, cut: true };
}

/**
 * `customer` within {@linkcode MAX_CUSTOMER_CHARS}: unchanged when it fits; else its
 * additional_fields cut short (values to 200 characters, 1,000 in all), then as many of its
 * newest sightings as fit, then any other long text cut, with a `shortened` note saying what was
 * cut and how much (the list and get tools show it in their text too).
 *
 * @example
 * ```ts ignore
 * const { customer, shortened } = boundCustomer(customerView(found, ctx));
 * ```
 */
export function boundCustomer(
  customer: CustomerOut,
): { customer: CustomerOut; shortened: string | null } {
  if (json(customer).length <= MAX_CUSTOMER_CHARS) return { customer, shortened: null };
  const out: CustomerOut = { ...customer };
  const notes: string[] = [];
  const extra = out.additional_fields;
  if (extra !== null && typeof extra === "object" && !Array.isArray(extra)) {
    const entries = Object.entries(extra);
    const kept: Record<string, unknown> = {};
    let size = 2;
    let cutValues = 0;
    for (const [key, raw] of entries) {
      const { value, cut } = shortValue(raw, SHORT_EXTRA.value);
      const s = json(key).length + json(value).length + 2;
      if (size + s > SHORT_EXTRA.total) break;
      kept[key] = value;
      size += s;
      if (cut) cutValues++;
    }
    const keptCount = Object.keys(kept).length;
    if (keptCount < entries.length || cutValues > 0) {
      out.additional_fields = kept;
      notes.push(
        `additional_fields: ${keptCount} of ${entries.length} kept` +
          (cutValues > 0 ? ` (${cutValues} value(s) cut to ${SHORT_EXTRA.value} characters)` : ""),
      );
    }
  }
  const sightings = out.sightings;
  if (Array.isArray(sightings) && sightings.length > 0) {
    // Newest first by `at` (ISO 8601 sorts as text; a later place breaks ties), kept in order.
    const at = (i: number) => String((sightings[i] as { at?: unknown } | null)?.at ?? "");
    const newest = sightings.map((_, i) => i).sort((a, b) =>
      at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : b - a
    );
    out.sightings = [];
    let size = json(out).length + 200; // room for the note
    const keep = new Set<number>();
    for (const i of newest) {
      const s = json(sightings[i]).length + 1;
      if (size + s > MAX_CUSTOMER_CHARS) break;
      keep.add(i);
      size += s;
    }
    out.sightings = sightings.filter((_, i) => keep.has(i));
    if (keep.size < sightings.length) {
      notes.push(`sightings: newest ${keep.size} of ${sightings.length} kept`);
    }
  }
  if (json(out).length > MAX_CUSTOMER_CHARS - 200) {
    let cutFields = 0;
    for (const [key, raw] of Object.entries(out)) {
      if (key === "id" || key === "sightings" || key === "additional_fields") continue;
      const { value, cut } = shortValue(raw, SHORT_EXTRA.value);
      if (cut) {
        out[key] = value;
        cutFields++;
      }
    }
    if (cutFields > 0) {
      notes.push(`${cutFields} other field(s) cut to ${SHORT_EXTRA.value} characters`);
    }
  }
  const shortened = `shortened to fit ${MAX_CUSTOMER_CHARS} characters (was ${
    json(customer).length
  }): ${notes.join("; ")}`;
  out.shortened = shortened;
  return { customer: out, shortened };
}

/**
 * The fields of a customer update that clear (given as `""`: the API sets them to null), in the
 * order of `fields`, the update's own fields.
 *
 * @example
 * ```ts ignore
 * clearedFields({ client_name: "", sale_date: "2024-01-01" }, ["client_name", "sale_date"]); // ["client_name"]
 * ```
 */
export function clearedFields(
  changes: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): string[] {
  return fields.filter((field) => changes[field] === "");
}

/**
 * What clearing `fields` of `who` removes, in words for the person asked (an update tool's or a
 * script's `remove` effect).
 *
 * @example
 * ```ts ignore
 * clearingWhat("customer c_1", "au", ["mobile_number"]);
 * ```
 */
export function clearingWhat(who: string, region: string, fields: readonly string[]): string {
  return `${who} in region ${region} has its ${fields.join(", ")} cleared: what ` +
    `${fields.length === 1 ? "it holds is" : "they hold is"} removed`;
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}

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

/**
 * Runs `action` on one named upload, customer or webhook, in the call's region (`args.region`,
 * else the server's), through `guarded`: an API failure becomes a failure outcome, and a
 * wrong-region one names the region the resource is in.
 *
 * @example
 * ```ts ignore
 * return await onResource(ctx, args, "upload", args.upload_id, async (reg) => {
 *   const upload = await ctx.client.uploads.retrieve(args.upload_id, { region: reg });
 *   return { ok: true, data: summarizeUpload(upload), text: "" };
 * });
 * ```
 */
export function onResource<T>(
  ctx: ToolContext,
  args: { region?: Region },
  resource: Resource,
  id: string,
  action: (region: Region) => Promise<ToolOutcome<T>>,
): Promise<ToolOutcome<T>> {
  const region = regionOf(args, ctx);
  return guarded(ctx, { resource, id, region }, () => action(region));
}

/** A plan with no effect: the call needs no confirmation. */
export function noEffect(region: Region, resourceId: string): ToolOutcome<EffectPlan> {
  return { ok: true, data: { region, resourceId, effects: [] }, text: "" };
}

/** A short, masked description of a customer for a person: id, vehicle, rego. */
export function describeCustomer(c: CustomerOut): string {
  const parts = [c.vehicle_title, c.rego ? `rego ${c.rego}` : null, c.vin ? `VIN ${c.vin}` : null]
    .filter((p): p is string => typeof p === "string" && p !== "");
  return `customer ${c.id}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

// ---------------------------------------------------------------- upload customers
