/**
 * The embedded default: a `RecaptureClient` on the real API when `RECAPTURE_API_KEY` (or
 * `RECAPTURE_CLIENT_ID` + `RECAPTURE_CLIENT_SECRET`, for OAuth) is set, else on an in-process
 * sandbox (no port, no network) keeping its data in a local KV file: the
 * given path, else `RECAPTURE_SANDBOX_PATH`, else `.recapture/sandbox.kv` (see
 * {@linkcode sandboxPath}), the same rule `deno task sandbox` and the CLI follow, so all of them
 * see the same data.
 *
 * @example
 * ```ts
 * import { openClient } from "./mod.ts";
 *
 * const { client, mode, close } = await openClient({ path: ":memory:", env: {} });
 * console.log(mode); // "sandbox" when RECAPTURE_API_KEY is unset
 * const page = await client.customers.list({ limit: 10 });
 * console.log(page.total);
 * await close();
 * ```
 * @module
 */
import { RecaptureClient } from "../sdk/client.ts";
import { isRegion, type Region, REGIONS } from "../sdk/schemas.ts";
import { createSandbox, type Sandbox, SANDBOX_API_KEY } from "../sandbox/mod.ts";

/** The default KV file of the embedded sandbox (shared with `deno task sandbox`). */
export const DEFAULT_SANDBOX_PATH = ".recapture/sandbox.kv";

/** The environment variable naming the sandbox's KV file. */
export const SANDBOX_PATH_ENV = "RECAPTURE_SANDBOX_PATH";

/**
 * Where the local sandbox keeps its data: `given` (a `--path` / `--sandbox-path` flag), else
 * `RECAPTURE_SANDBOX_PATH` (when set and not empty), else `.recapture/sandbox.kv` (relative to
 * the working directory: `deno task` runs in the project's). `deno task sandbox`, the CLI and
 * {@linkcode openClient} all use this rule.
 *
 * @example
 * ```ts
 * import { sandboxPath } from "./mod.ts";
 *
 * console.log(sandboxPath(undefined, { RECAPTURE_SANDBOX_PATH: "/tmp/shared.kv" })); // "/tmp/shared.kv"
 * console.log(sandboxPath("mine.kv", { RECAPTURE_SANDBOX_PATH: "/tmp/shared.kv" })); // "mine.kv"
 * console.log(sandboxPath(undefined, {})); // ".recapture/sandbox.kv"
 * ```
 */
export function sandboxPath(
  given?: string,
  env: Record<string, string | undefined> = readEnv(),
): string {
  return given || env[SANDBOX_PATH_ENV] || DEFAULT_SANDBOX_PATH;
}

/** Options of {@linkcode openClient}. */
export interface OpenClientOptions {
  /**
   * The sandbox's KV file (`":memory:"` for none; default: `RECAPTURE_SANDBOX_PATH`, else
   * `.recapture/sandbox.kv`).
   */
  path?: string;
  /** The client's default region (default: `RECAPTURE_REGION`, else `au`). */
  region?: Region;
  /**
   * Environment to read `RECAPTURE_API_KEY`, `RECAPTURE_CLIENT_ID`, `RECAPTURE_CLIENT_SECRET`,
   * `RECAPTURE_BASE_URL`, `RECAPTURE_REGION` and `RECAPTURE_SANDBOX_PATH` from (default: the
   * process environment).
   */
  env?: Record<string, string | undefined>;
}

/** A client and how to release it. */
export interface OpenedClient {
  /** The SDK client. */
  client: RecaptureClient;
  /** `"api"`: the real API; `"sandbox"`: an in-process sandbox. */
  mode: "api" | "sandbox";
  /** The sandbox, in sandbox mode. */
  sandbox?: Sandbox;
  /** Closes the sandbox, if any. */
  close(): Promise<void>;
}

/**
 * Opens a client: the real API with `RECAPTURE_API_KEY`, else an in-process sandbox.
 *
 * @example
 * ```ts
 * import { openClient } from "./mod.ts";
 *
 * const opened = await openClient({ path: ":memory:", env: {} });
 * console.log(opened.mode); // "sandbox"
 * await opened.close();
 * ```
 */
export async function openClient(options: OpenClientOptions = {}): Promise<OpenedClient> {
  const env = options.env ?? readEnv();
  const region = options.region ?? resolveRegion(undefined, env);
  const apiKey = env.RECAPTURE_API_KEY?.trim();
  const clientId = env.RECAPTURE_CLIENT_ID?.trim();
  const clientSecret = env.RECAPTURE_CLIENT_SECRET?.trim();
  if (apiKey && (clientId || clientSecret)) {
    throw new TypeError(
      "Set either RECAPTURE_API_KEY or RECAPTURE_CLIENT_ID + RECAPTURE_CLIENT_SECRET, not both",
    );
  }
  if (!apiKey && Boolean(clientId) !== Boolean(clientSecret)) {
    throw new TypeError(
      `OAuth needs both RECAPTURE_CLIENT_ID and RECAPTURE_CLIENT_SECRET; ${
        clientId ? "RECAPTURE_CLIENT_SECRET" : "RECAPTURE_CLIENT_ID"
      } is not set`,
    );
  }
  if (apiKey || clientId) {
    const client = new RecaptureClient({
      ...(apiKey ? { apiKey } : { clientId, clientSecret }),
      region,
      ...(env.RECAPTURE_BASE_URL ? { baseUrl: env.RECAPTURE_BASE_URL } : {}),
    });
    return { client, mode: "api", close: () => Promise.resolve() };
  }
  const path = sandboxPath(options.path, env);
  if (path !== ":memory:") {
    const dir = path.replace(/[\\/][^\\/]*$/, "");
    if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
  }
  const sandbox = await createSandbox({ path });
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    region,
    baseUrl: "https://sandbox.recapture.local",
    fetch: sandbox.fetch,
  });
  return { client, mode: "sandbox", sandbox, close: () => sandbox.close() };
}

/** The environment variables {@linkcode openClient} and {@linkcode resolveRegion} read. */
export const CLIENT_ENV = [
  "RECAPTURE_API_KEY",
  "RECAPTURE_CLIENT_ID",
  "RECAPTURE_CLIENT_SECRET",
  "RECAPTURE_BASE_URL",
  "RECAPTURE_REGION",
  SANDBOX_PATH_ENV,
] as const;

/**
 * Reads environment variables: the entry points' one reader. A variable that is unset, empty,
 * or not readable (no `--allow-env`) is `undefined`.
 *
 * @param names the variables to read (default {@linkcode CLIENT_ENV})
 * @returns each name with its value
 *
 * @example
 * ```ts
 * import { readEnv } from "./mod.ts";
 *
 * const env = readEnv(["RECAPTURE_REGION"]);
 * console.log(env.RECAPTURE_REGION ?? "au");
 * ```
 */
export function readEnv(
  names: readonly string[] = CLIENT_ENV,
): Record<string, string | undefined> {
  const read = (name: string): string | undefined => {
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined; // no --allow-env: treat as unset
    }
  };
  return Object.fromEntries(names.map((name) => [name, read(name)]));
}

/**
 * The region a command works in: its `--region` flag, else `RECAPTURE_REGION` (case and spaces
 * ignored), else `undefined` (the client's default, `au`). The demo, the CLI, the MCP servers and
 * {@linkcode openClient} all use this rule. A value outside the four throws a `TypeError` naming
 * where it came from.
 *
 * @example
 * ```ts
 * import { resolveRegion } from "./mod.ts";
 *
 * console.log(resolveRegion(undefined, { RECAPTURE_REGION: " NZ " })); // "nz"
 * console.log(resolveRegion("uk", { RECAPTURE_REGION: "nz" })); // "uk"
 * console.log(resolveRegion(undefined, {})); // undefined
 * ```
 */
export function resolveRegion(
  flag: string | undefined,
  env: Record<string, string | undefined> = readEnv(),
): Region | undefined {
  const source = flag !== undefined ? "--region" : "RECAPTURE_REGION";
  const value = flag ?? (env.RECAPTURE_REGION?.trim().toLowerCase() || undefined);
  if (value === undefined) return undefined;
  if (!isRegion(value)) {
    throw new TypeError(`${source} must be one of ${REGIONS.join(", ")}, got "${value}"`);
  }
  return value;
}
