/**
 * The `code` toolset (opt-in, local servers only): `recapture_run_script` runs an agent's
 * TypeScript against the SDK in its own sealed process (see `_runner.ts`), and only the
 * script's result enters the context; `recapture_search_docs` finds the SDK's symbols,
 * signatures and examples to write it with.
 *
 * @module
 */
import * as z from "zod";
import { maskRecord } from "../_mask.ts";
import type { Webhook } from "../../mod.ts";
import { webhookView } from "../tools/alerts.ts";
import { API_PAGE_MAX, defineTool, READ_ONLY } from "../tools/_tool.ts";
import type { RegisteredToolSpec, ToolContext } from "../tools/_tool.ts";
import { createBridge } from "./_bridge.ts";
import { DEFAULT_LIMITS, runScript } from "./_runner.ts";
import type { ScriptLimits } from "./_runner.ts";
import { sdkDocs, searchDocs } from "./_docs.ts";

/** Personal data masked in what a script reads, when the server masks (customers). */
function masked(ctx: ToolContext, method: string, value: unknown): unknown {
  // Webhook endpoints hold their secret token: cut as the alert tools cut it, masking or not.
  if (method.startsWith("webhooks.") && typeof value === "object" && value !== null) {
    const list = value as { webhooks?: unknown };
    return Array.isArray(list.webhooks)
      ? { ...list, webhooks: list.webhooks.map((w) => webhookView(w as Webhook, ctx)) }
      : webhookView(value as Webhook, ctx);
  }
  if (!ctx.mask.enabled || !method.startsWith("customers.")) return value;
  const one = (c: unknown) =>
    typeof c === "object" && c !== null ? maskRecord(c as Record<string, unknown>, ctx.mask) : c;
  if (method === "customers.list" && typeof value === "object" && value !== null) {
    const page = value as { customers?: unknown[] };
    return { ...page, customers: (page.customers ?? []).map(one) };
  }
  return one(value);
}

/** Limits of the script tool; tests shorten them. */
export const CODE_LIMITS: ScriptLimits = { ...DEFAULT_LIMITS };

/** The longest time a call may give a script (`timeout_seconds`), in seconds. */
export const MAX_SCRIPT_SECONDS = 60;

const runScriptTool = defineTool({
  name: "recapture_run_script",
  title: "Run a script against the SDK",
  description:
    "Runs TypeScript against the Recapture SDK in a sealed process; only what it returns comes " +
    `back (JSON, <=${DEFAULT_LIMITS.resultChars / 1000}k chars), so loop, filter and count in ` +
    "the script. The script is the body of `async (client) => {...}`. client: " +
    "uploads.create/retrieve/cancel; " +
    `customers.list({offset,limit<=${API_PAGE_MAX},upload_id}) -> {customers,total}, ` +
    "customers.iterate({pageSize}) (async iterator), customers.retrieve/update/delete; " +
    "webhooks.list/retrieve; a last argument may be {region}. No imports, files, env or network. " +
    `Limits: ${DEFAULT_LIMITS.timeMs / 1000} s, ${DEFAULT_LIMITS.calls} calls. Writes only ` +
    "where the server allows; deletes ask the user. Field names: recapture_search_docs.",
  access: "read",
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  },
  input: {
    script: z.string().min(1).max(20_000),
    timeout_seconds: z.number().int().min(1).max(MAX_SCRIPT_SECONDS).optional(),
  },
  output: {
    result: z.unknown(),
    calls: z.number(),
    ms: z.number(),
    logs: z.array(z.string()).optional(),
  },
  // Each destructive client call of the script is confirmed with a person as it is made
  // (`ctx.confirm`); nothing is known before the script runs.
  plan: (_args, ctx) =>
    Promise.resolve({
      ok: true,
      text: "",
      data: { region: ctx.region, resourceId: "", effects: [] },
    }),
  async run(args, ctx) {
    const handle = createBridge(ctx.client, {
      write: !ctx.readOnly,
      region: ctx.region,
      confirm: (plan, method, callArgs) =>
        ctx.confirm(plan, `recapture_run_script (client.${method})`, { args: callArgs }),
    });
    const out = await runScript(
      args.script,
      async (method, callArgs) => masked(ctx, method, await handle(method, callArgs)),
      {
        ...CODE_LIMITS,
        ...(args.timeout_seconds ? { timeMs: args.timeout_seconds * 1000 } : {}),
      },
    );
    if (!out.ok) {
      const all = out.logs.join("\n");
      const shown = all.length > 2000
        ? `${all.slice(0, 2000)}... (${all.length - 2000} more characters of logs cut)`
        : all;
      const logs = out.logs.length > 0 ? `\nlogs:\n${shown}` : "";
      return { ok: false, text: `${out.message} (after ${out.calls} client calls)${logs}` };
    }
    return {
      ok: true,
      text: JSON.stringify(out.result),
      data: {
        result: out.result,
        calls: out.calls,
        ms: out.ms,
        ...(out.logs.length > 0 ? { logs: out.logs } : {}),
      },
    };
  },
});

const docMatch = z.object({
  name: z.string(),
  kind: z.string(),
  signature: z.string(),
  doc: z.string(),
  example: z.string().optional(),
  script_call: z.string().optional(),
});

const searchDocsTool = defineTool({
  name: "recapture_search_docs",
  title: "Search the SDK docs",
  description:
    "Searches the SDK's documentation (symbols, signatures, fields, examples) to write " +
    "recapture_run_script scripts; script_call says how a script calls a method.",
  access: "read",
  annotations: READ_ONLY,
  input: {
    query: z.string().min(1).max(200),
    limit: z.number().int().min(1).max(10).optional(),
  },
  output: { matches: z.array(docMatch) },
  async run(args) {
    let entries;
    try {
      entries = await sdkDocs();
    } catch (error) {
      return { ok: false, text: `docs_unavailable: ${(error as Error).message}` };
    }
    const matches = searchDocs(entries, args.query, args.limit ?? 5).map((e) => ({
      ...e,
      signature: e.signature.slice(0, 600),
      doc: e.doc.slice(0, 400),
      ...(e.example ? { example: e.example.slice(0, 600) } : {}),
    }));
    return {
      ok: true,
      text: matches.length === 0
        ? `No match for "${args.query}".`
        : matches.map((m) => `${m.script_call ?? m.name}: ${m.signature}`).join("\n"),
      data: { matches },
    };
  },
});

/** The `code` toolset, opt-in: the script tool and the docs search. */
export const CODE_TOOLS: readonly RegisteredToolSpec[] = [runScriptTool, searchDocsTool];
