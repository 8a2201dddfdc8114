/**
 * `deno task sandbox`: serves the sandbox on 127.0.0.1 with its data in a KV file and prints the
 * development API key.
 *
 * Flags (a flag wins over its environment variable):
 * - `--port N`, or `RECAPTURE_SANDBOX_PORT`; default 8787; 0 picks a free port;
 * - `--path FILE`, or `RECAPTURE_SANDBOX_PATH`; default `.recapture/sandbox.kv` in the working
 *   directory (the project's, under `deno task`). The CLI (`--sandbox-path`), the MCP server and
 *   `openClient` locate the file by the same rule (`sandboxPath` in `src/config/mod.ts`), so they all
 *   see the same data;
 * - `--chunk-size N`;
 * - `--host ADDRESS`: the address to bind (default 127.0.0.1). Beyond loopback the console asks
 *   for an admin token, written to a file readable only by the user (its path is printed);
 * - `--console-host NAME` (repeatable): a `Host` name accepted besides loopback and the bound
 *   address. Every served request (API and console) with another `Host` gets 403, so a hostile
 *   page cannot reach the sandbox through DNS rebinding;
 * - `--no-console`: serve the API only.
 *
 * The console (`/console`) is on for `deno task sandbox` and off by default for
 * {@linkcode serveSandbox}; the embedded sandbox and the edge adapter never serve it.
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
import { sandboxPath } from "../config/mod.ts";
import { createSandbox, type Sandbox, SANDBOX_API_KEY } from "./mod.ts";
import { type Console, createConsole, isLoopbackAddress } from "./_console.ts";
import { hostAllowlist } from "./_host_check.ts";
import {
  observePushes,
  type PushAttempt,
  type RequestEntry,
  requestEntry,
  Ring,
} from "./_console_log.ts";
import { randomHex } from "../_internal/hex.ts";

/** The port the sandbox listens on unless told (0 picks a free one). */
const DEFAULT_PORT = 8787;

/** Options of the console served by {@linkcode serveSandbox}. */
export interface SandboxConsoleOptions {
  /** Added to {@linkcode ServeSandboxOptions.allowedHosts} (they apply to every request). */
  allowedHosts?: string[];
  /**
   * Where the admin token is written when the console can be reached beyond loopback (default:
   * `console-token` beside the KV file; a temporary file for `:memory:`). Removed at shutdown.
   */
  tokenFile?: string;
  /** Decides whether an address is loopback (a test seam; default: 127.0.0.0/8, ::1, localhost). */
  isLoopback?: (address: string) => boolean;
}

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
  /** The address to bind (default `127.0.0.1`). */
  hostname?: string;
  /**
   * `Host` names accepted besides `localhost`, `127.0.0.1`, `[::1]` and `hostname`: any other
   * `Host` gets 403 on every path, API and console (a guard against DNS rebinding).
   */
  allowedHosts?: string[];
  /** Serve the console at `/console` (default false; `deno task sandbox` turns it on). */
  console?: boolean | SandboxConsoleOptions;
  /** Awaited before each chunk is processed: a test hook (see `SandboxOptions.beforeChunk`). */
  beforeChunk?: (uploadId: string, index: number) => Promise<void>;
}

/** A sandbox served over HTTP. */
export interface ServedSandbox {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The sandbox. */
  sandbox: Sandbox;
  /** The console's address, when it is served. */
  consoleUrl?: string;
  /** The file holding the console's admin token, when one is needed. */
  tokenFile?: string;
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
  const hostname = options.hostname ?? "127.0.0.1";
  const consoleOptions = options.console === true ? {} : options.console || null;
  const allowsHost = hostAllowlist(hostname, [
    ...(options.allowedHosts ?? []),
    ...(consoleOptions?.allowedHosts ?? []),
  ]);
  const requests = new Ring<RequestEntry>(200);
  const pushes = new Ring<PushAttempt>(200);
  const sandbox = await createSandbox({
    path,
    chunkSize: options.chunkSize,
    beforeChunk: options.beforeChunk,
    pushFetch: consoleOptions ? observePushes((request) => fetch(request), pushes) : undefined,
  });
  let console_: Console | null = null;
  let tokenFile: string | undefined;
  if (consoleOptions) {
    const isLoopback = consoleOptions.isLoopback ?? isLoopbackAddress;
    const adminToken = randomHex(24);
    if (!isLoopback(hostname)) {
      tokenFile = consoleOptions.tokenFile ??
        (path === ":memory:"
          ? await Deno.makeTempFile({ prefix: "recapture-console-token-" })
          : `${/[\\/]/.test(path) ? path.replace(/[\\/][^\\/]*$/, "") || "/" : "."}/console-token`);
      await Deno.writeTextFile(tokenFile, `${adminToken}\n`, { mode: 0o600 });
      await Deno.chmod(tokenFile, 0o600);
    }
    console_ = createConsole({
      kv: sandbox.kv,
      fetch: sandbox.fetch,
      requests,
      pushes,
      hostname,
      adminToken,
      isLoopback,
    });
  }
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port: options.port ?? DEFAULT_PORT,
    onListen: (addr) => ready.resolve(addr as Deno.NetAddr),
  }, async (request, info) => {
    if (!allowsHost(request.headers.get("Host") ?? undefined)) {
      return Response.json({
        error: true,
        message: "This Host is not allowed for the sandbox; start it with --console-host <name> " +
          "(serveSandbox: allowedHosts) to allow it",
      }, { status: 403, headers: { "Cache-Control": "no-store" } });
    }
    const at = new URL(request.url).pathname;
    if (console_ && (at === "/console" || at.startsWith("/console/"))) {
      return await console_.fetch(request, {
        remoteAddr: (info.remoteAddr as Deno.NetAddr).hostname,
      });
    }
    if (!console_) return await sandbox.app.fetch(request);
    const started = performance.now();
    const response = await sandbox.app.fetch(request);
    requests.push(requestEntry(request, response, performance.now() - started));
    return response;
  });
  const addr = await ready.promise;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${host}:${addr.port}`;
  // A wildcard bind is reached here through loopback (other names need --console-host).
  const wildcard = ["0.0.0.0", "::", "[::]"].includes(hostname);
  const consoleUrl = console_
    ? `${wildcard ? `http://127.0.0.1:${addr.port}` : url}/console`
    : undefined;
  if (!options.quiet) {
    console.log(`Recapture sandbox listening on ${url}`);
    console.log(`Data: ${path}`);
    console.log(`Development API key: ${SANDBOX_API_KEY}`);
    console.log(
      `Try: curl -H "ApiKey: ${SANDBOX_API_KEY}" "${url}/v2/recapture/customers?region=au"`,
    );
    if (consoleUrl) console.log(`Console: ${consoleUrl}`);
    if (tokenFile) {
      console.log(
        `Console admin token: in ${tokenFile} (readable only by you; asked for beyond loopback)`,
      );
    }
  }
  let stopping: Promise<void> | null = null;
  return {
    url,
    sandbox,
    consoleUrl,
    tokenFile,
    shutdown() {
      stopping ??= (async () => {
        await console_?.close();
        await server.shutdown();
        await sandbox.close();
        if (tokenFile) await Deno.remove(tokenFile).catch(() => {});
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
      host: { type: "string" },
      "console-host": { type: "string", multiple: true },
      "no-console": { type: "boolean" },
    },
  });
  let envPort: string | undefined;
  try {
    envPort = Deno.env.get("RECAPTURE_SANDBOX_PORT");
  } catch {
    envPort = undefined;
  }
  const port = portFrom(values.port, "--port") ??
    portFrom(envPort, "RECAPTURE_SANDBOX_PORT") ?? DEFAULT_PORT;
  const chunkSize = values["chunk-size"] ? Number(values["chunk-size"]) : undefined;
  const served = await serveSandbox({
    port,
    path: values.path,
    chunkSize,
    hostname: values.host,
    allowedHosts: values["console-host"] ?? [],
    console: !values["no-console"],
  });
  const stop = () => {
    served.shutdown().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
