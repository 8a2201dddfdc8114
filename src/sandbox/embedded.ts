/**
 * The embedded default: a `RecaptureClient` on the real API when `RECAPTURE_API_KEY` is set,
 * else on an in-process sandbox (no port, no network) keeping its data in `.recapture/sandbox.kv`,
 * the same file `deno task sandbox` serves.
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

/** Options of {@linkcode openClient}. */
export interface OpenClientOptions {
  /** The sandbox's KV file (default `.recapture/sandbox.kv`; `":memory:"` for none). */
  path?: string;
  /** The client's default region (default `au`). */
  region?: Region;
  /**
   * Environment to read `RECAPTURE_API_KEY` and `RECAPTURE_BASE_URL` from (default: the
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
  const path = options.path ?? DEFAULT_SANDBOX_PATH;
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
  };
}
