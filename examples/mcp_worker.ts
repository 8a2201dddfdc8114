/**
 * The remote MCP server on Cloudflare Workers, behind OAuth 2.1 (see `_mcp_remote.ts` for the
 * variables, the root `wrangler.mcp.toml` to deploy, and docs/mcp.md "Remote server"). Built on the first
 * request of each isolate; a missing or unsafe setting answers 500 with what to fix (and nothing
 * is served).
 *
 * @module
 */
import { remoteMcpApp } from "./_mcp_remote.ts";
import type { McpHttpApp } from "../mcp/mod.ts";

let app: McpHttpApp | undefined;
let broken: string | undefined;

export default {
  fetch(request: Request, env: Record<string, unknown>, ctx: unknown): Promise<Response> {
    if (!app && broken === undefined) {
      try {
        app = remoteMcpApp(env);
      } catch (error) {
        broken = (error as Error).message;
      }
    }
    if (!app) {
      return Promise.resolve(
        Response.json({ error: `recapture MCP is misconfigured: ${broken}` }, { status: 500 }),
      );
    }
    return Promise.resolve(app.fetch(request, env, ctx));
  },
};
