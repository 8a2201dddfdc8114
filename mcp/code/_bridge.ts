/**
 * The server side of a script's `client`: a fixed table of methods and argument shapes (strict:
 * no `baseUrl`, `fetch`, `headers`, `signal` or any option that changes where or how a request
 * goes; only `region`), each made with the server's own SDK client under the server's policy:
 * writes only when allowed, destructive effects through the confirmation gate.
 *
 * @module
 */
import * as z from "zod";
import type {
  CustomerUpdateParams,
  RecaptureClient,
  Region,
  UploadCreateParams,
} from "../../mod.ts";
import { expiresImmediately, REGIONS } from "../../mod.ts";
import { CustomerUpdateParamsSchema } from "../../src/sdk/schemas.ts";
import { API_PAGE_MAX, clearedFields, clearingWhat, MAX_UPLOAD_ROWS } from "../tools/_tool.ts";
import type { confirmEffects, GateVerdict } from "../_gate.ts";
import { ScriptCallError } from "./_runner.ts";
import type { CallHandler } from "./_runner.ts";
import { CLIENT_METHODS } from "./_prelude.ts";
import type { ClientMethod } from "./_prelude.ts";

/** A plan of effects, as the gate takes it. */
type EffectPlan = Parameters<typeof confirmEffects>[0];

/** What a script's calls may do. */
export interface BridgePolicy {
  /** Whether writing methods may run (the server is not read-only and the grant allows it). */
  write: boolean;
  /** Confirms a destructive plan (the gate, with the tool call's way to ask a person). */
  confirm(plan: EffectPlan, method: string, args: unknown[]): Promise<GateVerdict>;
  /** The default region. */
  region: string;
}

const Region = z.enum(REGIONS as unknown as [string, ...string[]]);
const Options = z.strictObject({ region: Region.optional() });
const Id = z.string().min(1).max(200);
const Str = z.string().max(500);

interface Method {
  args: z.ZodType<unknown[]>;
  write: boolean;
  run(client: RecaptureClient, args: unknown[]): Promise<unknown>;
  plan?(args: unknown[], region: string): EffectPlan | undefined;
}

type Opt = { region?: string } | undefined;

function regionOf(options: unknown, fallback: string): string {
  return (options as Opt)?.region ?? fallback;
}

// deno-lint-ignore no-explicit-any
type AnyFn = (...a: any[]) => Promise<unknown>;
const call = (fn: AnyFn, args: unknown[]) => fn(...args);

/** The arguments of a method that names one resource: its id, then the options. */
const ById = z.tuple([Id, Options.optional()]);

/**
 * `uploads.create`'s body: exactly the SDK's upload fields (`satisfies` refuses a missing or an
 * extra one), at most as many rows as one upload tool call takes.
 */
const UploadBody = z.strictObject(
  {
    name: Str,
    customers: z.array(z.record(z.string(), z.unknown())).max(MAX_UPLOAD_ROWS),
    enable_rego_lookups: z.boolean().optional(),
    monitor_start_date: Str.optional(),
    monitor_end_date: Str.optional(),
  } satisfies Record<keyof UploadCreateParams, z.ZodType>,
);

/** The fields `customers.update` changes: the SDK's update schema's. */
const UPDATE_FIELDS: readonly string[] = Object.keys(CustomerUpdateParamsSchema.entries);

/** `customers.update`'s changes: the fields of the SDK's update schema, each a string. */
const UpdateBody = z.strictObject(
  Object.fromEntries(UPDATE_FIELDS.map((field) => [field, Str.optional()])),
);

/**
 * The plan of a method taking `(id, options)` whose one effect is `kind`, described by `what`.
 */
function effectOnId(
  kind: "delete" | "cancel",
  what: (id: string) => string,
): NonNullable<Method["plan"]> {
  return (a, region) =>
    ({
      region: regionOf(a[1], region),
      resourceId: a[0] as string,
      effects: [{ kind, what: what(a[0] as string) }],
    }) as EffectPlan;
}

/** How many rows of an `uploads.create` call expire at once (today or earlier, UTC+14). */
function expiringRows(args: unknown[]): number {
  const rows = (args[0] as { customers: { expiry_date?: unknown }[] }).customers;
  return rows.filter((r) => typeof r.expiry_date === "string" && expiresImmediately(r.expiry_date))
    .length;
}

/** The methods a script can call, and nothing else: exactly the keys of `CLIENT_METHODS`. */
const METHODS: Readonly<Record<ClientMethod, Method>> = {
  "uploads.create": {
    args: z.tuple([
      UploadBody,
      z.strictObject({ region: Region.optional(), dropInvalid: z.boolean().optional() })
        .optional(),
    ]),
    write: true,
    // Rows expiring at once go up only after the gate asked the person (the plan names them, as
    // the SDK will read the date: trimmed); any other past date is still refused by the SDK.
    run: (c, a) =>
      call(c.uploads.create.bind(c.uploads) as AnyFn, [
        a[0],
        { ...(a[1] as object | undefined), allowPastExpiry: expiringRows(a) > 0 },
      ]),
    plan: (a, region) => {
      const n = expiringRows(a);
      return n === 0 ? undefined : {
        region: regionOf(a[1], region),
        resourceId: "new upload",
        effects: [{
          kind: "delete",
          what: `${n} uploaded customer(s) expire at once and are deleted`,
        }],
      } as EffectPlan;
    },
  },
  "uploads.retrieve": {
    args: ById,
    write: false,
    run: (c, a) => call(c.uploads.retrieve.bind(c.uploads) as AnyFn, a),
  },
  "uploads.cancel": {
    args: ById,
    write: true,
    run: (c, a) => call(c.uploads.cancel.bind(c.uploads) as AnyFn, a),
    plan: effectOnId("cancel", (id) => `upload ${id} is cancelled`),
  },
  "customers.list": {
    args: z.tuple([
      z.strictObject({
        offset: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(API_PAGE_MAX).optional(),
        upload_id: Id.optional(),
      }).optional(),
      Options.optional(),
    ]),
    write: false,
    run: (c, a) => call(c.customers.list.bind(c.customers) as AnyFn, a),
  },
  "customers.retrieve": {
    args: ById,
    write: false,
    run: (c, a) => call(c.customers.retrieve.bind(c.customers) as AnyFn, a),
  },
  "customers.update": {
    args: z.tuple([Id, UpdateBody, Options.optional()]),
    write: true,
    // A past expiry_date passes the plan's confirmation gate before it runs, so it is sent.
    run: (c, a) =>
      c.customers.update(a[0] as string, a[1] as CustomerUpdateParams, {
        ...(a[2] as { region?: Region } | undefined),
        allowPastExpiry: true,
      }),
    // A clear ("" sets a field to null) removes what the field held: asked like a delete, so
    // a loop over many customers asks for each.
    plan: (a, region) => {
      const changes = a[1] as Record<string, unknown>;
      const expiry = changes.expiry_date;
      const reg = regionOf(a[2], region);
      const deletes = typeof expiry === "string" && expiry !== "" && expiresImmediately(expiry);
      const cleared = clearedFields(changes, UPDATE_FIELDS);
      if (!deletes && cleared.length === 0) return undefined;
      return {
        region: reg,
        resourceId: a[0] as string,
        effects: deletes
          ? [{
            kind: "delete",
            what: `customer ${a[0]} expires at once (${expiry}) and is deleted`,
          }]
          : [{ kind: "remove", what: clearingWhat(`customer ${a[0]}`, reg, cleared) }],
      } as EffectPlan;
    },
  },
  "customers.delete": {
    args: ById,
    write: true,
    run: (c, a) => call(c.customers.delete.bind(c.customers) as AnyFn, a),
    plan: effectOnId("delete", (id) => `customer ${id} is deleted`),
  },
  "webhooks.list": {
    args: z.tuple([Options.optional()]),
    write: false,
    run: (c, a) => call(c.webhooks.list.bind(c.webhooks) as AnyFn, a),
  },
  "webhooks.retrieve": {
    args: ById,
    write: false,
    run: (c, a) => call(c.webhooks.retrieve.bind(c.webhooks) as AnyFn, a),
  },
};

/** The names of the methods a script can call. */
export const BRIDGE_METHODS: readonly string[] = CLIENT_METHODS;

function describeIssues(method: string, error: z.ZodError): string {
  return error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.length === 0
      ? "arguments"
      : `argument ${Number(issue.path[0]) + 1}${
        issue.path.length > 1 ? "." + issue.path.slice(1).join(".") : ""
      }`;
    const extra = issue.code === "unrecognized_keys"
      ? `: ${issue.keys.join(", ")} ${issue.keys.length > 1 ? "are" : "is"} not allowed`
      : `: ${issue.message}`;
    return `client.${method} ${where}${extra}`;
  }).join("; ");
}

/**
 * The call handler for a run: checks each call against the table and the policy, then makes it
 * with `client`. Results are plain JSON (the SDK's response metadata dropped).
 *
 * @param client the server's own SDK client (its key never reaches the script)
 * @param policy writes allowed or not, the confirmation gate, the default region
 * @returns the handler to pass to `runScript`
 *
 * @example
 * ```ts ignore
 * const handle = createBridge(client, { write: false, region: "au", confirm });
 * await handle("customers.list", [{ limit: 10 }]);
 * ```
 */
export function createBridge(client: RecaptureClient, policy: BridgePolicy): CallHandler {
  return async (method, rawArgs) => {
    if (!Object.hasOwn(METHODS, method)) {
      throw new ScriptCallError(
        "unknown_method",
        `client.${method} does not exist (methods: ${BRIDGE_METHODS.join(", ")})`,
      );
    }
    const spec = METHODS[method as ClientMethod];
    // `undefined` arguments arrive as null.
    const args = rawArgs.map((a) => a === null ? undefined : a);
    const parsed = spec.args.safeParse(args);
    if (!parsed.success) {
      throw new ScriptCallError("invalid_call", describeIssues(method, parsed.error));
    }
    if (spec.write && !policy.write) {
      throw new ScriptCallError(
        "read_only",
        `client.${method} changes data, and scripts on this server may only read (writes ` +
          "need a server not in read-only mode and, over OAuth, the recapture:write scope)",
      );
    }
    const plan = spec.plan?.(parsed.data, policy.region);
    if (plan && plan.effects.length > 0) {
      const verdict = await policy.confirm(plan, method, parsed.data);
      if (!verdict.go) {
        // The gate's text is "code: explanation": the code becomes the error's name.
        const colon = verdict.text.indexOf(": ");
        throw new ScriptCallError(
          colon > 0 ? verdict.text.slice(0, colon) : "not_confirmed",
          colon > 0 ? verdict.text.slice(colon + 2) : verdict.text,
        );
      }
    }
    try {
      const value = await spec.run(client, parsed.data);
      return JSON.parse(JSON.stringify(value ?? null));
    } catch (error) {
      const e = error as Error & { status?: number };
      throw Object.assign(new ScriptCallError(e.name ?? "Error", e.message), {
        status: e.status,
      });
    }
  };
}
