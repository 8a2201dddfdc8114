/**
 * The narrow public types of the MCP entry point. The objects behind them come from
 * `@modelcontextprotocol/sdk` and Hono, whose own types stay out of the public API (JSR's
 * `deno doc --lint` rejects references to an npm package's types).
 *
 * @module
 */

/**
 * An MCP transport, as `McpServer.connect` takes it: any transport of
 * `@modelcontextprotocol/sdk` (`StdioServerTransport`, `InMemoryTransport`,
 * `WebStandardStreamableHTTPServerTransport`...) fits.
 *
 * @example
 * ```ts
 * import type { McpTransport } from "@recapture/sdk/mcp";
 *
 * function describe(transport: McpTransport): string {
 *   return typeof transport.send === "function" ? "a transport" : "not a transport";
 * }
 * ```
 */
export interface McpTransport {
  /** Starts the transport (called by `connect`). */
  start(): Promise<void>;
  /** Sends one JSON-RPC message. */
  send(message: object, options?: object): Promise<void>;
  /** Closes the transport. */
  close(): Promise<void>;
}

/**
 * The MCP server {@linkcode createRecaptureMcpServer} builds: an `McpServer` of
 * `@modelcontextprotocol/sdk`, typed by what callers use.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createRecaptureMcpServer, type RecaptureMcpServer } from "@recapture/sdk/mcp";
 *
 * const server: RecaptureMcpServer = createRecaptureMcpServer(
 *   new RecaptureClient({ apiKey: "sec_example" }),
 * );
 * console.log(server.isConnected()); // false until `connect(transport)`
 * ```
 */
export interface RecaptureMcpServer {
  /** Connects the server to a transport and starts serving on it. */
  connect(transport: McpTransport): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
  /** Whether the server is connected to a transport. */
  isConnected(): boolean;
}

/**
 * The Hono app {@linkcode createMcpHttpApp} builds, typed by what callers use: serve it with
 * `Deno.serve(app.fetch)`, `export default app` on Workers, or mount it in another Hono app.
 *
 * @example
 * ```ts
 * import type { McpHttpApp } from "@recapture/sdk/mcp";
 *
 * async function health(app: McpHttpApp): Promise<number> {
 *   const res = await app.fetch(new Request("http://127.0.0.1/mcp", { method: "GET" }));
 *   return res.status; // 401 without the bearer token
 * }
 * ```
 */
export interface McpHttpApp {
  /** Serves one request. */
  fetch(request: Request, env?: unknown, executionCtx?: unknown): Response | Promise<Response>;
}
