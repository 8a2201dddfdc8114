/**
 * `recapture_find_customers`: finds customers by rego, VIN or name. The API has no search, so the
 * server pages through the account itself, up to {@linkcode MAX_SCANNED} customers per call, and
 * says how far it got ("searched N of M") and where to continue.
 *
 * @module
 */
import * as z from "zod";
import type { Customer } from "../../mod.ts";
import {
  API_PAGE_MAX,
  customerOut,
  customerView,
  defineTool,
  guarded,
  READ_ONLY,
  region,
  regionOf,
  resourceLink,
} from "./_tool.ts";
import type { CustomerOut, RegisteredToolSpec } from "./_tool.ts";

/** Most customers one find call scans (50 pages of 1,000). */
export const MAX_SCANNED = 50_000;
/** Most matches one find call returns. */
export const MAX_MATCHES = 25;

/** Rego and VIN compare without case, spaces or dashes. */
function plate(value: unknown): string {
  return typeof value === "string" ? value.toUpperCase().replace(/[\s-]/g, "") : "";
}

/** The words of a name, lower case (`Quintessa-Farnsworth` is two). */
function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{M}\p{N}'’]+/u).filter((w) => w !== "");
}

/**
 * Whether `customer` matches: rego or VIN exactly, or a name containing the query. With masking
 * on, a name matches only when every word of the query is a whole word of it: a substring search
 * would spell out a masked name one letter at a time.
 */
function matcher(query: string, by: "rego" | "vin" | "name" | undefined, masked: boolean) {
  const id = plate(query);
  const name = query.trim().toLowerCase();
  const words = wordsOf(query);
  const nameMatches = (clientName: string): boolean => {
    if (!masked) return clientName.toLowerCase().includes(name);
    const whole = new Set(wordsOf(clientName));
    return words.length > 0 && words.every((w) => whole.has(w));
  };
  return (c: Customer): boolean =>
    ((by === undefined || by === "rego") && id !== "" && plate(c.rego) === id) ||
    ((by === undefined || by === "vin") && id !== "" && plate(c.vin) === id) ||
    ((by === undefined || by === "name") && name !== "" &&
      typeof c.client_name === "string" && nameMatches(c.client_name));
}

/** The fields a match carries: enough to pick one and act on it. */
function brief(c: CustomerOut): CustomerOut {
  const { id, rego, vin, vehicle_title, client_name, upload_id } = c;
  return Object.fromEntries(
    Object.entries({ id, rego, vin, vehicle_title, client_name, upload_id })
      .filter(([, v]) => v !== undefined && v !== null && v !== ""),
  ) as CustomerOut;
}

const findCustomers = defineTool({
  name: "recapture_find_customers",
  title: "Find customers",
  description: `Find customers by rego, VIN or name, ${MAX_SCANNED} scanned per call; call ` +
    "again with next_offset while set.",
  access: "read",
  annotations: READ_ONLY,
  input: {
    query: z.string().min(1).max(200).describe("Rego, VIN or (part of) a name."),
    by: z.enum(["rego", "vin", "name"]).optional().describe("Default: any."),
    upload_id: z.string().min(1).max(200).optional().describe("Only this upload's."),
    offset: z.number().int().min(0).max(1e9).optional().describe("Default 0."),
    region,
  },
  output: {
    matches: z.array(customerOut),
    searched: z.number(),
    total: z.number().nullable(),
    next_offset: z.number().nullable(),
  },
  async run(args, ctx, extra) {
    const reg = regionOf(args, ctx);
    const start = args.offset ?? 0;
    const progressToken = extra._meta?.progressToken;
    const matches = matcher(args.query, args.by, ctx.mask.enabled);
    return await guarded(ctx, { region: reg }, async () => {
      const found: CustomerOut[] = [];
      let position = start;
      // null while the API has not said how many there are (the total is not documented).
      let total: number | null = null;
      let full = false;
      while (!full && position - start < MAX_SCANNED) {
        const limit = Math.min(API_PAGE_MAX, MAX_SCANNED - (position - start));
        const page = await ctx.client.customers.list({
          offset: position,
          limit,
          ...(args.upload_id ? { upload_id: args.upload_id } : {}),
        }, { region: reg });
        total = page.total ?? null;
        for (const customer of page.customers) {
          position++;
          if (matches(customer)) found.push(brief(customerView(customer, ctx)));
          if (found.length === MAX_MATCHES) {
            full = true;
            break;
          }
        }
        if (page.customers.length === 0 || (total !== null && position >= total)) break;
        // A long scan reports as it goes: a log line and, when asked for, progress.
        const searched = position - start;
        const bound = total === null ? MAX_SCANNED : Math.min(MAX_SCANNED, total - start);
        await ctx.log("info", `find: searched ${searched} of ${bound}, ${found.length} match(es)`);
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: searched, total: bound },
          }).catch(() => {});
        }
      }
      const searched = position - start;
      // Without a total, a scan that stopped short of an empty page may have more after it.
      const next = (total === null
          ? searched === MAX_SCANNED || found.length === MAX_MATCHES
          : position < total)
        ? position
        : null;
      const head =
        `${found.length} match(es); searched ${searched} of ${
          total ?? "an unknown number of"
        } customers` +
        (start > 0 ? ` (from offset ${start})` : "");
      return {
        ok: true,
        data: { matches: found, searched, total, next_offset: next },
        text: next === null
          ? `${head}: the whole account.`
          : `${head}. More to search: call again with offset ${next}.`,
        links: found.map((c) =>
          resourceLink("customer", c.id, reg)
        ),
      };
    });
  },
});

/** The find tool (served with the `customers` toolset). */
export const FIND_TOOLS: readonly RegisteredToolSpec[] = [findCustomers];
