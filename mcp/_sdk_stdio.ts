/**
 * The stdio transports of `@modelcontextprotocol/sdk`, apart from `_sdk.ts`: they import
 * `node:process`, `node:stream` and `node:child_process`, which a Worker bundle of the HTTP
 * server must not carry (workerd refuses `node:*` without `nodejs_compat`).
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/stdio"
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
export { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
