/**
 * The remote MCP server on Deno Deploy (or any Deno host), behind OAuth 2.1: the same app as the
 * Worker (`_mcp_remote.ts` lists the variables). It refuses to start without its canonical URL,
 * issuer, JWKS URL and API key. Deploy this file; its default export is served, as with
 * `deno serve`:
 *
 * ```sh
 * deno serve --allow-env --allow-net examples/mcp_deno_deploy.ts
 * ```
 *
 * @module
 */
import { remoteMcpApp } from "./_mcp_remote.ts";

export default { fetch: remoteMcpApp(Deno.env.toObject()).fetch };
