/**
 * The MCP HTTP app (`createMcpHttpApp`, `mcp/_http_app.ts`) as a Worker module, for the servers
 * matrix: every request is answered by a Recapture MCP server (read-only tools) whose client
 * talks to `RECAPTURE_BASE_URL` with `RECAPTURE_API_KEY`, behind the bearer token `MCP_TOKEN`.
 * Bundled once with `deno bundle --platform=browser`; served by workerd, `Bun.serve` and Node
 * (`_serve.mjs`), and imported as source by `Deno.serve`.
 *
 * @module
 */
import { RecaptureClient } from "../../mod.ts";
import { createMcpHttpApp, createRecaptureMcpServer, type McpHttpApp } from "../../mcp/mod.ts";

/** The bindings the Worker reads. */
export interface McpWorkerEnv {
  RECAPTURE_API_KEY: string;
  RECAPTURE_BASE_URL: string;
  MCP_TOKEN: string;
}

let app: McpHttpApp | undefined;

/** The Worker: the app is built on the first request, from the bindings. */
const worker: { fetch(request: Request, env: McpWorkerEnv): Promise<Response> } = {
  fetch(request, env) {
    app ??= (() => {
      const client = new RecaptureClient({
        apiKey: env.RECAPTURE_API_KEY,
        baseUrl: env.RECAPTURE_BASE_URL,
      });
      return createMcpHttpApp(() => createRecaptureMcpServer(client, { readOnly: true }), {
        token: env.MCP_TOKEN,
      });
    })();
    return Promise.resolve(app.fetch(request));
  },
};
export default worker;
