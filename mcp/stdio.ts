/**
 * The MCP server over stdio, for Claude Desktop, Claude Code, Cursor and other local clients:
 * `deno task mcp [--read-only] [--tools a,b] [--region nz] [--mask-pii]`. Without
 * `RECAPTURE_API_KEY` it serves an in-process sandbox on a local Deno KV file. Nothing but
 * protocol messages goes to stdout; notes go to stderr.
 *
 * @example
 * ```ts ignore
 * import { serveStdio } from "@recapture/sdk/mcp/stdio";
 * const running = await serveStdio(["--read-only"], Deno.env.toObject());
 * await running.closed; // until the client disconnects
 * ```
 * @module
 */
import process from "node:process";
import { Transform } from "node:stream";
import type { Readable, TransformCallback } from "node:stream";
import { openClient, readEnv, sandboxPath } from "../src/config/mod.ts";
import { MCP_ENV, parseEntryArgs, serverOptions, USAGE } from "./_cli.ts";
import { createRecaptureMcpServer, RecaptureMcpConfigError } from "./mod.ts";
import { StdioServerTransport } from "./_sdk_stdio.ts";

/** A server running on stdio. */
export interface RunningStdioServer {
  /** `"api"` or `"sandbox"`. */
  mode: "api" | "sandbox";
  /** Resolves once the client has gone (stdin closed) and everything is closed. */
  closed: Promise<void>;
  /** Disconnects and closes the client (and the sandbox). */
  close(): Promise<void>;
}

/**
 * JSON-RPC batches are gone from MCP (2025-06-18) and the SDK's stdio transport drops an array
 * line without a word. This filter passes every other line through unchanged and answers a batch
 * line on stdout with one JSON-RPC error (`-32600`), as the HTTP transport refuses one.
 */
function refuseBatches(input: Readable): Readable {
  let pending = "";
  const filter = new Transform({
    transform(chunk: Buffer, _encoding: string, done: TransformCallback) {
      pending += chunk.toString("utf8");
      let out = "";
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline + 1);
        pending = pending.slice(newline + 1);
        if (line.trimStart().startsWith("[")) {
          process.stdout.write(
            JSON.stringify({
              jsonrpc: "2.0",
              id: null,
              error: {
                code: -32600,
                message: "Invalid Request: JSON-RPC batches are not supported; send one " +
                  "message per line",
              },
            }) + "\n",
          );
        } else {
          out += line;
        }
      }
      done(null, out === "" ? undefined : out);
    },
    flush(done: TransformCallback) {
      done(null, pending === "" ? undefined : pending);
    },
  });
  input.pipe(filter);
  return filter;
}

/**
 * Starts the stdio entry point from flags and the environment. Throws
 * {@linkcode RecaptureMcpConfigError} for an unknown flag, option or tool name.
 *
 * @param args flags such as `--read-only --region nz`
 * @param env the environment (`RECAPTURE_API_KEY`...)
 * @returns the running server
 *
 * @example
 * ```ts ignore
 * import { serveStdio } from "@recapture/sdk/mcp/stdio";
 * await serveStdio([], Deno.env.toObject());
 * ```
 */
export async function serveStdio(
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<RunningStdioServer> {
  const config = parseEntryArgs(args, env);
  const options = await serverOptions(config);
  const opened = await openClient({ path: config.sandboxPath, region: config.region, env });
  let server;
  try {
    server = createRecaptureMcpServer(opened.client, {
      ...options,
      // On the user's machine: files in their roots (or --files-dir) can be uploaded by path.
      fileInput: { dirs: config.filesDirs },
      mode: opened.mode,
      sandboxPath: sandboxPath(config.sandboxPath, env),
    });
  } catch (error) {
    await opened.close();
    throw error;
  }
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    closing ??= (async () => {
      process.stdin.off("end", onEnd);
      await server.close().catch(() => {});
      await opened.close();
      resolve();
    })();
  const onEnd = () => void close();
  process.stdin.once("end", onEnd);
  await server.connect(new StdioServerTransport(refuseBatches(process.stdin), process.stdout));
  return { mode: opened.mode, closed, close };
}

if (import.meta.main) {
  try {
    if (Deno.args.includes("--help")) {
      console.error(`deno task mcp [options]\n${USAGE}`);
      Deno.exit(0);
    }
    const running = await serveStdio(Deno.args, readEnv(MCP_ENV));
    const stop = () => void running.close();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await running.closed;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    Deno.exit(0);
  } catch (error) {
    if (error instanceof RecaptureMcpConfigError) {
      console.error(`recapture MCP: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}
