/**
 * `@recapture/sdk/mcp`: every Customer Recapture operation as a tool for AI agents (Claude
 * Desktop, Claude Code, Cursor, any MCP client), served over stdio (`mcp/stdio.ts`) or stateless
 * Streamable HTTP (`mcp/http.ts`).
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createRecaptureMcpServer } from "@recapture/sdk/mcp";
 *
 * const client = new RecaptureClient({ apiKey: "sec_example" });
 * const server = createRecaptureMcpServer(client, { readOnly: true, maskPii: true });
 * // await server.connect(transport);
 * ```
 * @module
 */
import * as z from "zod";
import { isRegion, REGIONS } from "../mod.ts";
import type { RecaptureClient, Region } from "../mod.ts";
import { createConfirmationTokens } from "./_confirm.ts";
import type { ConfirmationTokens } from "./_confirm.ts";
import { redact } from "./_errors.ts";
import { Scrubber } from "./_mask.ts";
import type { MaskSettings } from "./_mask.ts";
import { confirmEffects } from "./_gate.ts";
import type { ConfirmMode, GateVerdict, PersonAnswer } from "./_gate.ts";
import {
  ElicitResultSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  McpServer,
  SetLevelRequestSchema,
} from "./_sdk.ts";
import type { CallToolResult, LoggingLevel } from "./_sdk.ts";
import { ALL_TOOLS, DEFAULT_TOOLSETS, selectTools, TOOLSETS } from "./_registry.ts";
import { RecaptureMcpConfigError } from "./_config_error.ts";
import { parseResourceUri, registerResources, rememberUpload } from "./_resources.ts";
import { registerPrompts } from "./_prompts.ts";
import { readAllowedFile, rootPaths } from "./_files.ts";
import type { AllowedDirs } from "./_files.ts";

export { RecaptureMcpConfigError };
export { createMcpHttpApp } from "./_http_app.ts";
export type { McpHttpAppOptions } from "./_http_app.ts";
export type { OAuthGrant, OAuthOptions } from "./_oauth.ts";
export type { McpHttpApp, McpTransport, RecaptureMcpServer } from "./_types.ts";
import type { RecaptureMcpServer } from "./_types.ts";
import type { RegisterFn, ToolContext, ToolExtra, ToolOutcome } from "./tools/_tool.ts";
import { MAX_WAIT_SECONDS } from "./tools/_tool.ts";
import { VERSION } from "../src/sdk/version.ts";

/**
 * Options of {@linkcode createRecaptureMcpServer}. Unknown keys are rejected.
 *
 * @example
 * ```ts
 * import type { RecaptureMcpServerOptions } from "@recapture/sdk/mcp";
 *
 * const options: RecaptureMcpServerOptions = {
 *   readOnly: true,
 *   region: "nz",
 *   maskPii: { showVehicleIds: true },
 * };
 * ```
 */
export interface RecaptureMcpServerOptions {
  /** Serve only the read tools (status, wait, list, get). Default `false`. */
  readOnly?: boolean;
  /**
   * The toolsets served (names in {@linkcode RECAPTURE_TOOLSETS}): `uploads`, `customers`
   * (default: these two) and the opt-in `alerts` and `code` (code mode, local servers only).
   */
  toolsets?: readonly string[];
  /** Serve only these tools, from the served toolsets. Default: all of them. */
  tools?: readonly string[];
  /**
   * Also serve the `alerts` toolset (create, list, delete and ping webhooks; in sandbox mode,
   * simulate a listing; names in {@linkcode RECAPTURE_ALERT_TOOL_NAMES}). Default `false`.
   */
  alerts?: boolean;
  /**
   * Let the upload tool read CSV files the user names (`file`): only inside `dirs` or the
   * client's `roots`, symlinks resolved and re-checked, regular files up to 2 MB. For servers on
   * the user's machine (stdio); leave unset over HTTP, where `file` is refused. Default: unset.
   */
  fileInput?: { dirs?: readonly string[] };
  /**
   * Offer `resources/subscribe` on uploads. It needs a connection that holds a session (stdio,
   * stateful HTTP); a server built per request (stateless HTTP) should say `false`, and then
   * refuses subscriptions with the reason. Default `true`.
   */
  subscriptions?: boolean;
  /**
   * Whether the server may ask the person (MCP elicitation) to confirm a destructive effect.
   * `false` where a question's answer cannot be routed back to the instance that asked
   * (Cloudflare Workers, Deno Deploy, any instances behind a balancer without affinity): such
   * calls are then refused (`confirmation_unavailable`), never done unconfirmed. Default `true`.
   */
  elicitation?: boolean;
  /** Region used when a call names none. Default `"au"`. */
  region?: Region;
  /**
   * Mask personal data in every result, preview and error: only fields known to be safe (ids,
   * region, dates, counts, state, status, vehicle title) pass in clear; names keep initials,
   * mobile numbers their last three digits, every other value (all of `additional_fields`)
   * becomes `[masked]`. `{ showVehicleIds: true }` masks but shows rego and VIN. Default `false`.
   */
  maskPii?: boolean | { showVehicleIds?: boolean };
  /**
   * Who confirms a call that deletes, cancels or removes (a delete, a cancel, an expiry date of
   * today or earlier). `"person"` (default): the server asks the person through the client (MCP
   * elicitation) and refuses when the client cannot ask. `"token-unverified"`: a client that
   * cannot ask gets a token to send back; that proves only that a preview was fetched, not that
   * a person agreed. Needs `confirmationSecret`.
   */
  confirm?: "person" | "token-unverified";
  /** What the client talks to, said in the server instructions. Default `"api"`. */
  mode?: "api" | "sandbox";
  /** Where the sandbox keeps its data, said in the instructions in sandbox mode. */
  sandboxPath?: string;
  /**
   * HMAC key for confirmation tokens in token mode (at least 16 bytes). Servers sharing it,
   * or one server restarted with it, accept each other's tokens.
   */
  confirmationSecret?: string | Uint8Array;
  /** How long a confirmation token stays valid, in seconds. Default 300. */
  confirmationTtlSeconds?: number;
  /** Longest a wait call blocks, in seconds (1..25). Default 25. */
  maxWaitSeconds?: number;
  /** Poll interval of the wait tool, in milliseconds. Default 1000. */
  pollIntervalMs?: number;
  /** Strings that must never appear in a result (e.g. the API key); replaced if they do. */
  secrets?: readonly string[];
  /**
   * Clock in milliseconds, for confirmation tokens and for which expiry dates delete at once.
   * Default `Date.now`.
   */
  now?: () => number;
}

/**
 * The names of the tools served by default (the `uploads` and `customers` toolsets), in listing
 * order; {@linkcode RECAPTURE_TOOLSETS} has every toolset.
 *
 * @example
 * ```ts
 * import { RECAPTURE_TOOL_NAMES } from "@recapture/sdk/mcp";
 * console.log(RECAPTURE_TOOL_NAMES.includes("recapture_list_customers")); // true
 * ```
 */
export const RECAPTURE_TOOL_NAMES: readonly string[] = DEFAULT_TOOLSETS
  .flatMap((set) => TOOLSETS[set] ?? []).map((t) => t.name);

/**
 * The toolsets and their tools' names, in listing order (`uploads` and `customers` are served
 * by default, `alerts` on request).
 *
 * @example
 * ```ts
 * import { RECAPTURE_TOOLSETS } from "@recapture/sdk/mcp";
 * console.log(Object.keys(RECAPTURE_TOOLSETS)); // ["uploads", "customers", "alerts", "code"]
 * ```
 */
export const RECAPTURE_TOOLSETS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(TOOLSETS).map(([set, tools]) => [set, tools.map((t) => t.name)]),
);

/**
 * The names of the default tools that only read, the ones served in read-only mode.
 *
 * @example
 * ```ts
 * import { RECAPTURE_READ_TOOL_NAMES } from "@recapture/sdk/mcp";
 * console.log(RECAPTURE_READ_TOOL_NAMES.length);
 * ```
 */
export const RECAPTURE_READ_TOOL_NAMES: readonly string[] = RECAPTURE_TOOL_NAMES
  .filter((name) => ALL_TOOLS.find((t) => t.name === name)?.access === "read");

/**
 * The names of the opt-in alert tools (served with `alerts: true`; the last one only in
 * sandbox mode).
 *
 * @example
 * ```ts
 * import { RECAPTURE_ALERT_TOOL_NAMES } from "@recapture/sdk/mcp";
 * console.log(RECAPTURE_ALERT_TOOL_NAMES.includes("recapture_create_webhook")); // true
 * ```
 */
export const RECAPTURE_ALERT_TOOL_NAMES: readonly string[] = RECAPTURE_TOOLSETS.alerts ?? [];

/** How long the server waits for a person to answer a confirmation question. */
const ASK_TIMEOUT_MS = 10 * 60_000;
/** JSON-RPC "method not found": what a client without elicitation answers a question with. */
const METHOD_NOT_FOUND = -32601;

const OPTION_KEYS: ReadonlySet<string> = new Set([
  "readOnly",
  "fileInput",
  "subscriptions",
  "elicitation",
  "toolsets",
  "tools",
  "alerts",
  "region",
  "maskPii",
  "confirm",
  "mode",
  "sandboxPath",
  "confirmationSecret",
  "confirmationTtlSeconds",
  "maxWaitSeconds",
  "pollIntervalMs",
  "secrets",
  "now",
]);

function secretBytes(
  secret: string | Uint8Array | undefined,
  confirm: ConfirmMode,
): Uint8Array | undefined {
  if (secret === undefined) {
    if (confirm === "token-unverified") {
      throw new RecaptureMcpConfigError(
        'confirm: "token-unverified" needs confirmationSecret (so tokens survive restarts)',
      );
    }
    return undefined;
  }
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < 16) {
    throw new RecaptureMcpConfigError("confirmationSecret must be at least 16 bytes long");
  }
  return bytes;
}

function numberOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new RecaptureMcpConfigError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

function maskSettings(option: RecaptureMcpServerOptions["maskPii"]): MaskSettings {
  if (option === undefined || option === false) return { enabled: false, clearVehicleIds: false };
  if (option === true) return { enabled: true, clearVehicleIds: false };
  if (typeof option !== "object" || option === null) {
    throw new RecaptureMcpConfigError("maskPii must be a boolean or { showVehicleIds }");
  }
  for (const key of Object.keys(option)) {
    if (key !== "showVehicleIds") {
      throw new RecaptureMcpConfigError(`unknown maskPii option: ${key} (known: showVehicleIds)`);
    }
  }
  return { enabled: true, clearVehicleIds: option.showVehicleIds === true };
}

/** The settled configuration of one server, every option checked. */
interface Settings {
  served: readonly string[];
  subscriptions: boolean;
  elicitation: boolean;
  fileDirs: readonly string[] | undefined;
  readOnly: boolean;
  region: Region;
  mask: MaskSettings;
  confirm: ConfirmMode;
  mode: "api" | "sandbox";
  sandboxPath: string | undefined;
  secret: Uint8Array | undefined;
  ttlSeconds: number;
  maxWaitSeconds: number;
  pollIntervalMs: number;
  secrets: readonly string[];
  now: () => number;
}

function settle(options: RecaptureMcpServerOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new RecaptureMcpConfigError("options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new RecaptureMcpConfigError(
        `unknown option: ${key} (known: ${[...OPTION_KEYS].join(", ")})`,
      );
    }
  }
  const readOnly = options.readOnly ?? false;
  if (typeof readOnly !== "boolean") {
    throw new RecaptureMcpConfigError("readOnly must be a boolean");
  }
  const region = options.region ?? "au";
  if (!isRegion(region)) {
    throw new RecaptureMcpConfigError(`unknown region: ${region} (known: ${REGIONS.join(", ")})`);
  }
  const mode = options.mode ?? "api";
  if (mode !== "api" && mode !== "sandbox") {
    throw new RecaptureMcpConfigError(`mode must be "api" or "sandbox"`);
  }
  const alerts = options.alerts ?? false;
  if (typeof alerts !== "boolean") throw new RecaptureMcpConfigError("alerts must be a boolean");
  const toolsets = options.toolsets ?? (alerts ? [...DEFAULT_TOOLSETS, "alerts"] : undefined);
  if (alerts && toolsets && !toolsets.includes("alerts")) {
    throw new RecaptureMcpConfigError('alerts: true contradicts toolsets without "alerts"');
  }
  const served = selectTools({ toolsets, readOnly, tools: options.tools, mode })
    .map((t) => t.name);
  const confirm = options.confirm ?? "person";
  if (confirm !== "person" && confirm !== "token-unverified") {
    throw new RecaptureMcpConfigError(`confirm must be "person" or "token-unverified"`);
  }
  const secrets = options.secrets ?? [];
  if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== "string")) {
    throw new RecaptureMcpConfigError("secrets must be a list of strings");
  }
  const fileInput = options.fileInput;
  if (
    fileInput !== undefined &&
    (typeof fileInput !== "object" || fileInput === null ||
      Object.keys(fileInput).some((k) => k !== "dirs") ||
      (fileInput.dirs !== undefined &&
        (!Array.isArray(fileInput.dirs) ||
          fileInput.dirs.some((d) => typeof d !== "string" || !d.startsWith("/")))))
  ) {
    throw new RecaptureMcpConfigError("fileInput must be { dirs?: absolute folder paths }");
  }
  const subscriptions = options.subscriptions ?? true;
  if (typeof subscriptions !== "boolean") {
    throw new RecaptureMcpConfigError("subscriptions must be a boolean");
  }
  const elicitation = options.elicitation ?? true;
  if (typeof elicitation !== "boolean") {
    throw new RecaptureMcpConfigError("elicitation must be a boolean");
  }
  return {
    served,
    subscriptions,
    elicitation,
    fileDirs: fileInput ? [...(fileInput.dirs ?? [])] : undefined,
    readOnly,
    region,
    mask: maskSettings(options.maskPii),
    confirm,
    mode,
    sandboxPath: options.sandboxPath,
    secret: secretBytes(options.confirmationSecret, confirm),
    ttlSeconds: numberOption(
      "confirmationTtlSeconds",
      options.confirmationTtlSeconds,
      300,
      10,
      3600,
    ),
    maxWaitSeconds: numberOption(
      "maxWaitSeconds",
      options.maxWaitSeconds,
      MAX_WAIT_SECONDS,
      1,
      MAX_WAIT_SECONDS,
    ),
    pollIntervalMs: numberOption("pollIntervalMs", options.pollIntervalMs, 1000, 10, 10_000),
    secrets,
    now: options.now ?? Date.now,
  };
}

function instructions(s: Settings): string {
  const lines = [
    "AutoGrab Customer Recapture: upload past customers' vehicles (rego or VIN) so the dealer " +
    "is alerted when one is listed for sale; follow uploads; manage tracked customers.",
    `Default region: ${s.region} (every tool takes region).`,
    s.mode === "sandbox"
      ? "Mode: SANDBOX. No RECAPTURE_API_KEY is set, so this server runs an in-process " +
        (s.sandboxPath && s.sandboxPath !== ":memory:"
          ? `sandbox of the API on a local Deno KV file (${s.sandboxPath}). `
          : "sandbox of the API in memory (data is lost when it stops). ") +
        "Nothing reaches AutoGrab, nothing is billed, lookups are simulated."
      : "Mode: live AutoGrab API. Rego lookups (enable_rego_lookups) are billed.",
    s.confirm === "person"
      ? "A call that deletes, cancels or removes (incl. an expiry_date of today or earlier) " +
        "acts only after the user accepts it in a question the server asks through the client."
      : "A call that deletes, cancels or removes (incl. an expiry_date of today or earlier) " +
        "first answers confirmation_required with a token; show it to the user and only with " +
        "their agreement call again with confirmation_token.",
  ];
  if (s.readOnly) lines.push("Read-only mode: only reading tools are available.");
  if (s.mask.enabled) {
    lines.push("Personal data is masked in results ([masked]; names as initials).");
  }
  return lines.join("\n");
}

/** The one exit of every tool result: secrets redacted, this call's personal values scrubbed. */
function toResult<T>(
  outcome: ToolOutcome<T>,
  secrets: readonly string[],
  scrub: Scrubber,
): CallToolResult {
  const text = scrub.text(redact(outcome.text, secrets));
  if (!outcome.ok) return { content: [{ type: "text", text }], isError: true };
  const data = secrets.length === 0
    ? outcome.data
    : JSON.parse(redact(JSON.stringify(outcome.data), secrets));
  return {
    content: [{ type: "text", text }, ...(outcome.links ?? [])],
    structuredContent: scrub.value(data) as Record<string, unknown>,
  };
}

/** Arguments that carry personal data: what a call sends must not come back in clear. */
function personalArgs(args: Record<string, unknown>): Record<string, unknown> {
  const csv = typeof args.csv === "string"
    ? args.csv.split(/\r?\n/).slice(1).join("\n")
    : undefined;
  return {
    customers: args.customers,
    csv_rows: csv,
    client_name: args.client_name,
    query: args.query,
    mobile_number: args.mobile_number,
  };
}

/**
 * Builds an MCP server whose tools drive `client`. Throws {@linkcode RecaptureMcpConfigError}
 * for an unknown option or tool name.
 *
 * @param client the SDK client the tools call (real API or sandbox).
 * @param options read-only mode, tool allowlist, default region, PII masking...
 * @returns the server (an `McpServer` of `@modelcontextprotocol/sdk`), ready to `connect` to a
 * transport.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createRecaptureMcpServer } from "@recapture/sdk/mcp";
 *
 * const server = createRecaptureMcpServer(new RecaptureClient({ apiKey: "sec_example" }), {
 *   tools: ["recapture_list_customers", "recapture_get_customer"],
 *   region: "nz",
 * });
 * ```
 */
export function createRecaptureMcpServer(
  client: RecaptureClient,
  options: RecaptureMcpServerOptions = {},
): RecaptureMcpServer {
  const s = settle(options);
  let tokens: Promise<ConfirmationTokens> | undefined;
  const secret = s.secret;
  const mintTokens = (): Promise<ConfirmationTokens> => {
    if (!secret) throw new Error("token mode without a secret"); // settle() prevents this
    return tokens ??= createConfirmationTokens(secret, s.ttlSeconds, s.now);
  };
  const base = {
    client,
    region: s.region,
    mask: s.mask,
    now: s.now,
    maxWaitSeconds: s.maxWaitSeconds,
    pollIntervalMs: s.pollIntervalMs,
    log: () => Promise.resolve(),
    readFile: (): Promise<string> => Promise.reject(new Error("no file input outside a call")),
    readOnly: s.readOnly,
    confirm: (): Promise<GateVerdict> =>
      Promise.resolve({ go: false, text: "confirmation_unavailable: not inside a call" }),
  };
  const server = new McpServer(
    { name: "recapture", title: "AutoGrab Customer Recapture", version: VERSION },
    {
      instructions: instructions(s),
      capabilities: {
        tools: { listChanged: false },
        logging: {},
        completions: {},
        prompts: { listChanged: false },
        resources: { subscribe: s.subscriptions, listChanged: false },
      },
    },
  );
  /** The folders a call may read files from: the operator's, and the client's roots. */
  const allowedDirs = (extra: ToolExtra): AllowedDirs | undefined => {
    const dirs = s.fileDirs;
    if (dirs === undefined) return undefined;
    return async () => {
      if (!server.server.getClientCapabilities()?.roots) return dirs;
      try {
        const { roots } = await extra.sendRequest(
          { method: "roots/list" },
          ListRootsResultSchema,
          { signal: extra.signal, timeout: 10_000 },
        );
        return [...dirs, ...rootPaths(roots.map((r) => r.uri))];
      } catch {
        return dirs;
      }
    };
  };
  /** Uploads this server created or read: resource lists and completions offer them. */
  const knownUploads = new Set<string>();
  registerResources(server, {
    base,
    mask: s.mask,
    secrets: s.secrets,
    knownUploads,
    subscriptions: s.subscriptions,
  });
  registerPrompts(server, knownUploads, s.now);
  // The client's log level (`logging/setLevel`); until it sets one, info and above.
  const levels = LoggingLevelSchema.options as readonly LoggingLevel[];
  let logLevel: LoggingLevel = "info";
  server.server.setRequestHandler(SetLevelRequestSchema, (request) => {
    logLevel = request.params.level;
    return {};
  });
  const logger = (extra: ToolExtra, scrub: Scrubber): ToolContext["log"] => (level, message) => {
    if (levels.indexOf(level) < levels.indexOf(logLevel)) return Promise.resolve();
    return extra.sendNotification({
      method: "notifications/message",
      params: { level, logger: "recapture", data: scrub.text(redact(message, s.secrets)) },
    }).catch(() => {});
  };
  /**
   * Asks the person through the client. A client that declared its capabilities without
   * elicitation is not asked; over stateless HTTP the capabilities are unknown (each request
   * meets a fresh server), so the question is sent and a "method not found" answer means the
   * client cannot ask.
   */
  const asker = (extra: ToolExtra) => {
    const capabilities = server.server.getClientCapabilities();
    if (!s.elicitation) return undefined;
    if (capabilities !== undefined && !capabilities.elicitation) return undefined;
    return async (message: string): Promise<PersonAnswer> => {
      let answer;
      try {
        answer = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message,
              requestedSchema: {
                type: "object",
                properties: {
                  confirm: { type: "boolean", title: "Yes, go ahead", description: message },
                },
                required: ["confirm"],
              },
            },
          },
          ElicitResultSchema,
          { signal: extra.signal, timeout: ASK_TIMEOUT_MS },
        );
      } catch (error) {
        if (error instanceof McpError && error.code === METHOD_NOT_FOUND) return "unavailable";
        // No answer in time, or the question could not be delivered: nobody accepted.
        return "cancel";
      }
      // Only an explicit accept with the box ticked counts.
      if (answer.action !== "accept") return answer.action;
      return answer.content?.confirm === true ? "accept" : "decline";
    };
  };
  const registerTool: RegisterFn = (spec) => {
    const input = z.object(spec.input);
    const output = z.object(spec.output);
    server.registerTool<typeof output, typeof input>(
      spec.name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: input,
        outputSchema: output,
        annotations: { ...spec.annotations },
      },
      async (args, extra) => {
        const scrub = new Scrubber(s.mask);
        scrub.collect(personalArgs(args));
        // One read per file per call: the plan a person confirms and the run see the same bytes.
        const reads = new Map<string, Promise<string>>();
        const ctx: ToolContext = {
          ...base,
          scrub,
          log: logger(extra, scrub),
          readFile: (path) => {
            const read = reads.get(path) ?? readAllowedFile(path, allowedDirs(extra));
            reads.set(path, read);
            return read;
          },
          confirm: (plan, tool, bound) =>
            confirmEffects(plan, {
              tool,
              args: bound,
              token: undefined,
              mode: "person",
              ask: asker(extra),
              noAsk: s.elicitation ? "client" : "deployment",
              tokens: mintTokens,
            }),
        };
        if (spec.plan) {
          const planned = await spec.plan(args, ctx);
          if (!planned.ok) return toResult(planned, s.secrets, scrub);
          const { confirmation_token: token, ...bound } = args as Record<string, unknown>;
          const verdict = await confirmEffects(planned.data, {
            tool: spec.name,
            args: bound,
            token: typeof token === "string" ? token : undefined,
            mode: s.confirm,
            ask: asker(extra),
            noAsk: s.elicitation ? "client" : "deployment",
            tokens: mintTokens,
            // A second upload or create is a second effect: its token confirms one call.
            singleUse: spec.annotations.idempotentHint === false,
          });
          if (!verdict.go) return toResult({ ok: false, text: verdict.text }, s.secrets, scrub);
        }
        const outcome = await spec.run(args, ctx, extra);
        for (const link of outcome.ok ? outcome.links ?? [] : []) {
          const named = parseResourceUri(link.uri, s.region);
          if (named.kind === "upload") rememberUpload(knownUploads, named.id);
        }
        return toResult(outcome, s.secrets, scrub);
      },
    );
  };
  const served = ALL_TOOLS.filter((tool) => s.served.includes(tool.name));
  for (const tool of served) tool.register(registerTool);
  // The listing comes from the registry: the same schemas as the SDK's own handler would send,
  // without its `$schema` lines and `execution` defaults (~270 tokens of every client's context).
  const listing = { tools: served.map((tool) => tool.listing()) };
  server.server.setRequestHandler(ListToolsRequestSchema, () => listing);
  // McpServer advertises `listChanged: true` when the first tool registers; the list never
  // changes here, so say so.
  server.server.registerCapabilities({ tools: { listChanged: false } });
  return server;
}
