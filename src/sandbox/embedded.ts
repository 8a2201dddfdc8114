/**
 * The embedded default: a `RecaptureClient` on the real API when `RECAPTURE_API_KEY` is set,
 * else on an in-process sandbox (no port, no network) keeping its data in a local KV file: the
 * given path, else `RECAPTURE_SANDBOX_PATH`, else `.recapture/sandbox.kv` (see
 * {@linkcode sandboxPath}), the same rule `deno task sandbox` and the CLI follow, so all of them
 * see the same data.
 *
 * @example
 * ```ts
 * import { openClient } from "./embedded.ts";
 *
 * const { client, mode, close } = await openClient({ path: ":memory:", env: {} });
 * console.log(mode); // "sandbox" when RECAPTURE_API_KEY is unset
 * const page = await client.customers.list({ limit: 10 });
 * console.log(page.total);
 * await close();
 * ```
 * @module
 */
import { RecaptureClient } from "../client.ts";
import type { Region } from "../schemas.ts";
import { createSandbox, type Sandbox, SANDBOX_API_KEY } from "./mod.ts";

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
 * import { sandboxPath } from "./embedded.ts";
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
  /** The client's default region (default `au`). */
  region?: Region;
  /**
   * Environment to read `RECAPTURE_API_KEY`, `RECAPTURE_BASE_URL` and `RECAPTURE_SANDBOX_PATH`
   * from (default: the process environment).
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
 * import { openClient } from "./embedded.ts";
 *
 * const opened = await openClient({ path: ":memory:", env: {} });
 * console.log(opened.mode); // "sandbox"
 * await opened.close();
 * ```
 */
export async function openClient(options: OpenClientOptions = {}): Promise<OpenedClient> {
  const env = options.env ?? readEnv();
  const apiKey = env.RECAPTURE_API_KEY?.trim();
  if (apiKey) {
    const client = new RecaptureClient({
      apiKey,
      region: options.region,
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
    region: options.region,
    baseUrl: "http://sandbox.recapture.local",
    fetch: sandbox.fetch,
  });
  return { client, mode: "sandbox", sandbox, close: () => sandbox.close() };
}

function readEnv(): Record<string, string | undefined> {
  const read = (name: string): string | undefined => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined; // no --allow-env: treat as unset
    }
  };
  return {
    RECAPTURE_API_KEY: read("RECAPTURE_API_KEY"),
    RECAPTURE_BASE_URL: read("RECAPTURE_BASE_URL"),
    [SANDBOX_PATH_ENV]: read(SANDBOX_PATH_ENV),
  };
}
