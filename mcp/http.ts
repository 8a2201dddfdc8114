/**
 * The MCP server over stateless Streamable HTTP, on Hono: `POST /mcp`, bearer-token auth, and
 * Host/Origin checks against DNS rebinding. Each request gets a fresh server and transport, so
 * any number of instances can serve behind one URL (confirmation tokens are stateless too; share
 * `RECAPTURE_MCP_CONFIRM_SECRET` between instances).
 *
 * Run it with `deno task mcp:http` (127.0.0.1:8765 by default). Without `RECAPTURE_API_KEY` it
 * serves the embedded sandbox; without `RECAPTURE_MCP_TOKEN` it makes up a token and keeps it in
 * `.recapture/mcp_token` (owner-only), never printing it. With `RECAPTURE_MCP_RESOURCE`,
 * `RECAPTURE_MCP_OAUTH_ISSUER` and `RECAPTURE_MCP_OAUTH_JWKS_URL` it is an OAuth 2.1 resource
 * server instead (docs/mcp.md, "Remote server"), and a shared token is refused.
 *
 * @example
 * ```ts ignore
 * import { serveHttp } from "./mcp/http.ts";
 * const running = await serveHttp(["--port", "0"], { RECAPTURE_MCP_TOKEN: "0123456789abcdef" });
 * console.log(running.url);
 * await running.close();
 * ```
 * @module
 */
import { openClient, readEnv, sandboxPath } from "../src/config/mod.ts";
import { MCP_ENV, parseEntryArgs, secretFromFile, serverOptions, USAGE } from "./_cli.ts";
import { createRecaptureMcpServer, RecaptureMcpConfigError } from "./mod.ts";
import type { RecaptureMcpServerOptions } from "./mod.ts";
import { createMcpHttpApp } from "./_http_app.ts";
import type { OAuthOptions } from "./_oauth.ts";
import { DEFAULT_TOOLSETS } from "./_registry.ts";
import type { McpHttpApp } from "./_types.ts";

/**
 * OAuth settings from the environment, or undefined when none of its variables is set. Any one
 * set turns OAuth on; a missing one is then a start-up error (from `createOAuthGuard`).
 */
function oauthFromEnv(
  env: Record<string, string | undefined>,
  options: RecaptureMcpServerOptions,
): OAuthOptions | undefined {
  const resource = env.RECAPTURE_MCP_RESOURCE ?? "";
  const issuer = env.RECAPTURE_MCP_OAUTH_ISSUER ?? "";
  const jwksUrl = env.RECAPTURE_MCP_OAUTH_JWKS_URL ?? "";
  if (resource === "" && issuer === "" && jwksUrl === "") return undefined;
  if (options.tools !== undefined) {
    throw new RecaptureMcpConfigError(
      "--tools cannot be combined with OAuth: the token's scopes choose the tools (use --toolsets)",
    );
  }
  const toolsets = options.toolsets ??
    (options.alerts ? [...DEFAULT_TOOLSETS, "alerts"] : DEFAULT_TOOLSETS);
  return {
    resource,
    issuer,
    jwksUrl,
    serverToolsets: toolsets,
    serverReadOnly: options.readOnly === true,
  };
}

/** A running HTTP server. */
export interface RunningMcpHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8765/mcp`. */
  url: string;
  /** The shared bearer token in force; undefined under OAuth. */
  token: string | undefined;
  /** `"api"` or `"sandbox"`. */
  mode: "api" | "sandbox";
  /** Stops listening and closes the client (and the sandbox). */
  close(): Promise<void>;
}

/**
 * Starts the HTTP entry point from command-line flags and the environment (see `--help`).
 *
 * @param args flags such as `--port 8765 --read-only`
 * @param env the environment (`RECAPTURE_API_KEY`, `RECAPTURE_MCP_TOKEN`...)
 * @returns the running server
 *
 * @example
 * ```ts ignore
 * import { serveHttp } from "./mcp/http.ts";
 * const running = await serveHttp(["--port", "0"], { RECAPTURE_MCP_TOKEN: "0123456789abcdef" });
 * console.log(running.url);
 * await running.close();
 * ```
 */
export async function serveHttp(
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<RunningMcpHttpServer> {
  const config = parseEntryArgs(args, env);
  if (config.filesDirs.length > 0) {
    throw new RecaptureMcpConfigError(
      "--files-dir is for the stdio server: over HTTP the server cannot read the user's files",
    );
  }
  const options = await serverOptions(config);
  const oauth = oauthFromEnv(env, options);
  if (oauth && env.RECAPTURE_MCP_TOKEN) {
    throw new RecaptureMcpConfigError(
      "RECAPTURE_MCP_TOKEN: the shared bearer token is for local use and is refused while " +
        "OAuth is on (RECAPTURE_MCP_RESOURCE / _OAUTH_ISSUER / _OAUTH_JWKS_URL); unset one",
    );
  }
  // Without RECAPTURE_MCP_TOKEN, a token kept in the token file (made on first use, reused).
  const token = oauth ? undefined : env.RECAPTURE_MCP_TOKEN ||
    await secretFromFile(config.tokenFile, { bytes: 24, minLength: 16 });
  const opened = await openClient({ path: config.sandboxPath, region: config.region, env });
  const perRequest = {
    ...options,
    secrets: [...(options.secrets ?? []), ...(token ? [token] : [])],
    mode: opened.mode,
    sandboxPath: sandboxPath(config.sandboxPath, env),
    // Stateless: each request meets a fresh server, with nowhere to send an update later.
    subscriptions: false,
  };
  let app: McpHttpApp;
  try {
    // Built once up front so a bad option fails at start-up, not on the first request.
    createRecaptureMcpServer(opened.client, perRequest);
    app = createMcpHttpApp(
      (grant) =>
        createRecaptureMcpServer(
          opened.client,
          grant
            ? {
              ...perRequest,
              alerts: undefined,
              toolsets: grant.toolsets,
              readOnly: grant.readOnly,
            }
            : perRequest,
        ),
      {
        ...(oauth ? { oauth } : { token }),
        allowedHosts: config.allowedHosts,
        allowedOrigins: config.allowedOrigins,
      },
    );
  } catch (error) {
    await opened.close();
    throw error;
  }
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const httpServer = Deno.serve({
    hostname: config.hostname,
    port: config.port,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
  }, app.fetch);
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `http://${host}:${addr.port}/mcp`;
  console.error(
    `recapture MCP (${opened.mode === "sandbox" ? "sandbox" : "live API"}) on ${url}; ` +
      (oauth
        ? `OAuth 2.1 (issuer ${oauth.issuer}, audience ${oauth.resource})`
        : env.RECAPTURE_MCP_TOKEN
        ? "bearer token from RECAPTURE_MCP_TOKEN"
        : `bearer token in ${config.tokenFile} (set RECAPTURE_MCP_TOKEN to choose one)`),
  );
  return {
    url,
    token,
    mode: opened.mode,
    async close() {
      await httpServer.shutdown();
      await opened.close();
    },
  };
}

if (import.meta.main) {
  try {
    if (Deno.args.includes("--help")) {
      console.error(`deno task mcp:http [options]\n${USAGE}`);
      Deno.exit(0);
    }
    const running = await serveHttp(Deno.args, readEnv(MCP_ENV));
    const stop = () => void running.close().then(() => Deno.exit(0));
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  } catch (error) {
    if (error instanceof RecaptureMcpConfigError) {
      console.error(`recapture MCP: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}
