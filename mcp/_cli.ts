/**
 * Command-line flags shared by the stdio and HTTP entry points. Unknown flags fail at start-up.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Region, REGIONS } from "../mod.ts";
import { RecaptureMcpConfigError } from "./mod.ts";
import type { RecaptureMcpServerOptions } from "./mod.ts";
import {
  CLIENT_ENV,
  DEFAULT_SANDBOX_PATH,
  resolveRegion,
  SANDBOX_PATH_ENV,
} from "../src/config/mod.ts";
import { randomHex } from "../src/_internal/hex.ts";
import { selectTools } from "./_registry.ts";

/** What the flags say, for either transport. */
export interface EntryConfig {
  /** Options for `createRecaptureMcpServer` (without `mode`, known only once the client opens). */
  server: RecaptureMcpServerOptions;
  /** The default region (also the client's). */
  region: Region | undefined;
  /** The sandbox KV file, when running without an API key. */
  sandboxPath: string | undefined;
  /** Stdio only: folders the upload tool may read CSV files from (besides the client's roots). */
  filesDirs: string[];
  /** HTTP only: where to listen. */
  hostname: string;
  port: number;
  /** HTTP only: extra Host header values to accept (e.g. a reverse proxy's name). */
  allowedHosts: string[];
  /** HTTP only: browser origins to accept. */
  allowedOrigins: string[];
  /** HTTP only: where the bearer token is kept when `RECAPTURE_MCP_TOKEN` is unset. */
  tokenFile: string;
  /**
   * Token mode without `RECAPTURE_MCP_CONFIRM_SECRET`: the file the confirmation secret is kept
   * in (made up on first use, owner-only), so tokens survive a restart.
   */
  confirmSecretFile: string | undefined;
}

/** HTTP only: where the server listens unless told. */
const DEFAULT_HOSTNAME = "127.0.0.1";
const DEFAULT_PORT = 8765;
/** HTTP only: where the bearer token is kept when `RECAPTURE_MCP_TOKEN` is unset. */
const DEFAULT_TOKEN_FILE = ".recapture/mcp_token";
/** The confirmation secret's file: beside the sandbox file, else here. */
const CONFIRM_SECRET_NAME = "mcp_confirm_secret";
const DEFAULT_CONFIRM_SECRET_FILE = `.recapture/${CONFIRM_SECRET_NAME}`;

/** Usage text for `--help`. */
export const USAGE = `Options:
  --read-only            serve only the reading tools
  --tools a,b            serve only these tools (recapture_* names)
  --toolsets a,b         serve these toolsets: uploads, customers (default both), alerts,
                         code (scripts; local only) (default: RECAPTURE_MCP_TOOLSETS)
  --alerts               also serve the alerts toolset (webhook tools; opt-in)
  ${`--region ${REGIONS.join("|")}`.padEnd(23)}default region (default: RECAPTURE_REGION, else au)
  --mask-pii             mask personal data in results (allowlist: ids, region, dates,
                         counts, state, status, vehicle title pass; the rest is masked)
  --mask-show-rego       with --mask-pii, show rego and VIN in clear
  --confirm MODE         who confirms deletes and cancels: person (default; the client asks
                         the user, MCP elicitation) or token-unverified (a token from a first
                         call, NOT proof of a person; secret from RECAPTURE_MCP_CONFIRM_SECRET
                         or kept in --confirm-secret-file)
  --confirm-secret-file FILE  token mode: where the secret is kept (default beside the
                         sandbox file, else ${DEFAULT_CONFIRM_SECRET_FILE})
  --files-dir DIR        stdio: the upload tool may read CSV files in DIR (repeatable;
                         the client's roots are always open; over HTTP files are refused)
  --sandbox-path FILE    sandbox KV file when no API credentials are set
                         (default ${SANDBOX_PATH_ENV}, else ${DEFAULT_SANDBOX_PATH})
HTTP only:
  --hostname HOST        listen address (default ${DEFAULT_HOSTNAME})
  --port N               listen port (default ${DEFAULT_PORT})
  --allowed-host NAME    also accept this Host header (repeatable)
  --allowed-origin URL   accept this browser Origin (repeatable)
  --token-file FILE      bearer token file when RECAPTURE_MCP_TOKEN is unset
                         (default ${DEFAULT_TOKEN_FILE}, created owner-only)
Environment: RECAPTURE_API_KEY, or RECAPTURE_CLIENT_ID + RECAPTURE_CLIENT_SECRET (real API;
unset = sandbox), RECAPTURE_BASE_URL, RECAPTURE_REGION, RECAPTURE_SANDBOX_PATH,
RECAPTURE_MCP_TOKEN (HTTP bearer token), RECAPTURE_MCP_CONFIRM_SECRET (shared key for
confirmation tokens), RECAPTURE_MCP_TOOLSETS (like --toolsets).`;

/** The environment variables the MCP servers read (through `readEnv` in src/config). */
export const MCP_ENV = [
  ...CLIENT_ENV,
  "RECAPTURE_MCP_TOKEN",
  "RECAPTURE_MCP_CONFIRM_SECRET",
  "RECAPTURE_MCP_TOOLSETS",
] as const;

/**
 * Parses `args` and the environment. Throws {@linkcode RecaptureMcpConfigError} naming an unknown
 * flag or a bad value.
 */
export function parseEntryArgs(
  args: readonly string[],
  env: Record<string, string | undefined>,
): EntryConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        "read-only": { type: "boolean" },
        tools: { type: "string" },
        toolsets: { type: "string" },
        alerts: { type: "boolean" },
        region: { type: "string" },
        "mask-pii": { type: "boolean" },
        "mask-show-rego": { type: "boolean" },
        confirm: { type: "string" },
        "confirm-secret-file": { type: "string" },
        "sandbox-path": { type: "string" },
        "files-dir": { type: "string", multiple: true },
        hostname: { type: "string" },
        port: { type: "string" },
        "allowed-host": { type: "string", multiple: true },
        "allowed-origin": { type: "string", multiple: true },
        "token-file": { type: "string" },
      },
    }));
  } catch (error) {
    throw new RecaptureMcpConfigError(`${(error as Error).message}\n${USAGE}`);
  }
  let region: Region | undefined;
  try {
    region = resolveRegion(values.region, env);
  } catch (error) {
    throw new RecaptureMcpConfigError((error as Error).message);
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RecaptureMcpConfigError(`--port must be an integer from 0 to 65535`);
  }
  const server: RecaptureMcpServerOptions = {};
  if (values["read-only"]) server.readOnly = true;
  if (values.alerts) server.alerts = true;
  const toolsets = values.toolsets ?? env.RECAPTURE_MCP_TOOLSETS;
  if (toolsets !== undefined) {
    server.toolsets = toolsets.split(",").map((t) => t.trim()).filter((t) => t !== "");
    try {
      selectTools({
        toolsets: server.toolsets,
        readOnly: false,
        tools: undefined,
        mode: "sandbox",
      });
    } catch (error) {
      const source = values.toolsets === undefined ? "RECAPTURE_MCP_TOOLSETS" : "--toolsets";
      throw new RecaptureMcpConfigError(`${source}: ${(error as Error).message}`);
    }
  }
  if (values.tools !== undefined) {
    server.tools = values.tools.split(",").map((t) => t.trim()).filter((t) => t !== "");
  }
  if (region !== undefined) server.region = region;
  if (values["mask-show-rego"] && !values["mask-pii"]) {
    throw new RecaptureMcpConfigError("--mask-show-rego needs --mask-pii");
  }
  if (values["mask-pii"]) {
    server.maskPii = values["mask-show-rego"] ? { showVehicleIds: true } : true;
  }
  const confirm = values.confirm ?? "person";
  if (confirm !== "person" && confirm !== "token-unverified") {
    throw new RecaptureMcpConfigError(
      `--confirm must be person or token-unverified (got ${JSON.stringify(confirm)})`,
    );
  }
  if (values["confirm-secret-file"] !== undefined && confirm !== "token-unverified") {
    throw new RecaptureMcpConfigError("--confirm-secret-file needs --confirm=token-unverified");
  }
  server.confirm = confirm;
  const confirmSecret = env.RECAPTURE_MCP_CONFIRM_SECRET;
  if (confirmSecret && confirm === "token-unverified") server.confirmationSecret = confirmSecret;
  const sandboxFile = values["sandbox-path"] ?? env.RECAPTURE_SANDBOX_PATH;
  const besideData = sandboxFile && sandboxFile !== ":memory:" && sandboxFile.includes("/")
    ? `${sandboxFile.slice(0, sandboxFile.lastIndexOf("/"))}/${CONFIRM_SECRET_NAME}`
    : DEFAULT_CONFIRM_SECRET_FILE;
  server.secrets = [
    env.RECAPTURE_API_KEY,
    env.RECAPTURE_CLIENT_SECRET,
    env.RECAPTURE_MCP_TOKEN,
    confirmSecret,
  ].filter((s): s is string => typeof s === "string" && s.length > 0);
  return {
    server,
    region,
    sandboxPath: values["sandbox-path"],
    filesDirs: (values["files-dir"] ?? []).map((dir) =>
      dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`
    ),
    hostname: values.hostname ?? DEFAULT_HOSTNAME,
    port,
    allowedHosts: values["allowed-host"] ?? [],
    allowedOrigins: values["allowed-origin"] ?? [],
    tokenFile: values["token-file"] ?? DEFAULT_TOKEN_FILE,
    confirmSecretFile: confirm === "token-unverified" && !confirmSecret
      ? values["confirm-secret-file"] ?? besideData
      : undefined,
  };
}

/** How {@linkcode secretFromFile} judges and makes a secret. */
export interface SecretFileOptions {
  /** Random bytes of a new secret (written as hex, twice as many characters). */
  bytes: number;
  /** The fewest characters an existing secret may have; a shorter one is replaced. */
  minLength: number;
}

/**
 * A secret kept in `file`: read, or made up and written there (owner-only) on first use, so it
 * stays the same across restarts and is never printed. The confirmation secret and the HTTP
 * entry's local bearer token are both kept so.
 *
 * @example
 * ```ts ignore
 * const secret = await secretFromFile(".recapture/mcp_confirm_secret", { bytes: 32, minLength: 32 });
 * ```
 */
export async function secretFromFile(file: string, options: SecretFileOptions): Promise<string> {
  try {
    const existing = (await Deno.readTextFile(file)).trim();
    if (existing.length >= options.minLength) return existing;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const secret = randomHex(options.bytes);
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}

/** `config.server` with the confirmation secret read from its file when token mode needs it. */
export async function serverOptions(config: EntryConfig): Promise<RecaptureMcpServerOptions> {
  if (config.confirmSecretFile === undefined) return config.server;
  const secret = await secretFromFile(config.confirmSecretFile, { bytes: 32, minLength: 32 });
  return {
    ...config.server,
    confirmationSecret: secret,
    secrets: [...(config.server.secrets ?? []), secret],
  };
}
