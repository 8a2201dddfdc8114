/**
 * `deno task sandbox`: serves the sandbox on 127.0.0.1 with its data in a KV file and prints the
 * development API key.
 *
 * Flags (a flag wins over its environment variable):
 * - `--port N`, or `RECAPTURE_SANDBOX_PORT`; default 8787; 0 picks a free port;
 * - `--path FILE`, or `RECAPTURE_SANDBOX_PATH`; default `.recapture/sandbox.kv` in the working
 *   directory (the project's, under `deno task`). The CLI (`--sandbox-path`), the MCP server and
 *   `openClient` locate the file by the same rule (`sandboxPath` in `embedded.ts`), so they all
 *   see the same data;
 * - `--chunk-size N`.
 *
 * @example
 * ```ts
 * import { serveSandbox } from "./serve.ts";
 *
 * const server = await serveSandbox({ port: 0, path: ":memory:", quiet: true });
 * console.log(server.url); // http://127.0.0.1:<port>
 * await server.shutdown();
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { sandboxPath } from "./embedded.ts";
import { createSandbox, type Sandbox, SANDBOX_API_KEY } from "./mod.ts";

/** Options of {@linkcode serveSandbox}. */
export interface ServeSandboxOptions {
  /** The port (0 picks a free one; default 8787). */
  port?: number;
  /** The KV file (default: `RECAPTURE_SANDBOX_PATH`, else `.recapture/sandbox.kv`). */
  path?: string;
  /** Customers per processing chunk. */
  chunkSize?: number;
  /** Print nothing. */
  quiet?: boolean;
}

/** A sandbox served over HTTP. */
export interface ServedSandbox {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The sandbox. */
  sandbox: Sandbox;
  /** Stops the server and closes the sandbox. */
  shutdown(): Promise<void>;
}

/**
 * Serves a sandbox on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { serveSandbox } from "./serve.ts";
 *
 * const server = await serveSandbox({ port: 0, path: ":memory:", quiet: true });
 * await server.shutdown();
 * ```
 */
export async function serveSandbox(options: ServeSandboxOptions = {}): Promise<ServedSandbox> {
  const path = sandboxPath(options.path);
  if (path !== ":memory:") {
    const dir = path.replace(/[\\/][^\\/]*$/, "");
    if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
  }
  const sandbox = await createSandbox({ path, chunkSize: options.chunkSize });
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 8787,
    onListen: (addr) => ready.resolve(addr as Deno.NetAddr),
  }, (request) => sandbox.app.fetch(request));
  const addr = await ready.promise;
  const url = `http://127.0.0.1:${addr.port}`;
  if (!options.quiet) {
    console.log(`Recapture sandbox listening on ${url}`);
    console.log(`Data: ${path}`);
    console.log(`Development API key: ${SANDBOX_API_KEY}`);
    console.log(
      `Try: curl -H "ApiKey: ${SANDBOX_API_KEY}" "${url}/v2/recapture/customers?region=au"`,
    );
  }
  let stopping: Promise<void> | null = null;
  return {
    url,
    sandbox,
    shutdown() {
      stopping ??= (async () => {
        await server.shutdown();
        await sandbox.close();
      })();
      return stopping;
    },
  };
}

function portFrom(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${what} must be a port number from 0 to 65535 (got "${value}")`);
  }
  return port;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string" },
      path: { type: "string" },
      "chunk-size": { type: "string" },
    },
  });
  let envPort: string | undefined;
  try {
    envPort = Deno.env.get("RECAPTURE_SANDBOX_PORT");
  } catch {
    envPort = undefined;
  }
  const port = portFrom(values.port, "--port") ??
    portFrom(envPort, "RECAPTURE_SANDBOX_PORT") ?? 8787;
  const chunkSize = values["chunk-size"] ? Number(values["chunk-size"]) : undefined;
  const served = await serveSandbox({ port, path: values.path, chunkSize });
  const stop = () => {
    served.shutdown().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
