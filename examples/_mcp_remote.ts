/**
 * The remote MCP server both hosted examples share (`mcp_worker.ts` for Cloudflare Workers,
 * `mcp_deno_deploy.ts` for Deno Deploy): the MCP HTTP app as an OAuth 2.1 resource server in
 * front of the real API, configured from the environment:
 *
 * - `RECAPTURE_API_KEY` (secret): the server's own key; it never leaves the server.
 * - `RECAPTURE_MCP_RESOURCE`: this server's canonical URL, e.g. `https://mcp.example.com/mcp`
 *   (the audience tokens must name; required).
 * - `RECAPTURE_MCP_OAUTH_ISSUER`, `RECAPTURE_MCP_OAUTH_JWKS_URL`: your identity provider.
 * - optional: `RECAPTURE_MCP_TOOLSETS` (default `uploads,customers`; `alerts` opt-in; `code`
 *   is refused here, runtimes without processes cannot run scripts), `RECAPTURE_MCP_READ_ONLY`
 *   (`true`), `RECAPTURE_REGION`, `RECAPTURE_BASE_URL`, `RECAPTURE_MCP_ALLOWED_ORIGINS`.
 *
 * Each request gets a fresh server (stateless): no subscriptions, and no elicitation, since a
 * person's answer may reach another instance: destructive calls are refused there
 * (`confirmation_unavailable`), never done unconfirmed.
 *
 * @module
 */
import { RecaptureClient } from "../mod.ts";
import type { Region } from "../mod.ts";
import { createMcpHttpApp, createRecaptureMcpServer } from "../mcp/mod.ts";
import type { McpHttpApp } from "../mcp/mod.ts";

/** The environment the remote server reads (Workers bindings or `Deno.env`). */
export type RemoteEnv = Record<string, unknown>;

function text(env: RemoteEnv, name: string): string | undefined {
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function list(value: string | undefined): string[] | undefined {
  return value?.split(",").map((v) => v.trim()).filter((v) => v !== "");
}

/**
 * Builds the remote MCP app from `env`. Throws `RecaptureMcpConfigError` (the message names the
 * variable) when the API key, canonical URL, issuer or JWKS URL is missing or unsafe, or when
 * `code` is asked for.
 *
 * @example
 * ```ts ignore
 * const app = remoteMcpApp(Deno.env.toObject());
 * Deno.serve(app.fetch);
 * ```
 */
export function remoteMcpApp(env: RemoteEnv): McpHttpApp {
  const apiKey = text(env, "RECAPTURE_API_KEY");
  if (!apiKey) throw new Error("RECAPTURE_API_KEY is required (the server's own API key)");
  const toolsets = list(text(env, "RECAPTURE_MCP_TOOLSETS")) ?? ["uploads", "customers"];
  if (toolsets.includes("code")) {
    throw new Error(
      "RECAPTURE_MCP_TOOLSETS: code mode runs scripts as processes, which this runtime cannot " +
        "start; serve it from a local server (deno task mcp)",
    );
  }
  const readOnly = text(env, "RECAPTURE_MCP_READ_ONLY") === "true";
  const region = (text(env, "RECAPTURE_REGION") ?? "au") as Region;
  const baseUrl = text(env, "RECAPTURE_BASE_URL");
  // A client per request: on Workers, the SDK client's shared timeout timer belongs to the
  // request that started it, and another request touching it fails ("Cannot perform I/O on
  // behalf of a different request").
  const server = (grantToolsets: readonly string[], grantReadOnly: boolean) =>
    createRecaptureMcpServer(new RecaptureClient({ apiKey, region, baseUrl }), {
      toolsets: grantToolsets,
      readOnly: grantReadOnly,
      region,
      subscriptions: false,
      elicitation: false,
      secrets: [apiKey],
    });
  server(toolsets, readOnly); // a bad toolset fails now, not on the first request
  return createMcpHttpApp(
    (grant) => server(grant?.toolsets ?? toolsets, grant?.readOnly ?? true),
    {
      oauth: {
        resource: text(env, "RECAPTURE_MCP_RESOURCE") ?? "",
        issuer: text(env, "RECAPTURE_MCP_OAUTH_ISSUER") ?? "",
        jwksUrl: text(env, "RECAPTURE_MCP_OAUTH_JWKS_URL") ?? "",
        serverToolsets: toolsets,
        serverReadOnly: readOnly,
      },
      allowedOrigins: list(text(env, "RECAPTURE_MCP_ALLOWED_ORIGINS")),
    },
  );
}
