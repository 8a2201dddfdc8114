/**
 * `mcp-remote` (the stdio bridge stdio-only MCP clients use for remote servers) connects to the
 * MCP HTTP app through OAuth: it reads the 401's `resource_metadata`, registers, sends the user
 * to the authorization server (a `BROWSER` stand-in follows the redirect to its callback, as a
 * browser would), exchanges the code, and serves the remote tools over stdio to the official SDK
 * client (`connectThroughMcpRemote`; the same connection under workerd is in
 * `oauth_workerd_test.ts`).
 */
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { createMcpHttpApp, createRecaptureMcpServer } from "../../mcp/mod.ts";
import { connectThroughMcpRemote, startAuthServer } from "./_oauth_server.ts";

Deno.test("mcp-remote connects through OAuth and serves the granted tools", async () => {
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
  try {
    const remote = await connectThroughMcpRemote(mcpUrl);
    try {
      const names = (await remote.client.listTools()).tools.map((t) => t.name);
      assert(names.includes("recapture_list_customers"), remote.log().slice(-2000));
      assert(!names.includes("recapture_delete_customer"), "recapture:read: no writing tool");
      const listed = await remote.client.callTool({
        name: "recapture_list_customers",
        arguments: {},
      });
      assertEquals(listed.isError, undefined, JSON.stringify(listed.content));
      assertEquals(as.tokensIssued, 1, "one sign-in through the browser stand-in");
      assert(as.jwksFetches > 0, "the server checked the token against the JWKS");
    } finally {
      await remote.close();
    }
  } finally {
    await server.shutdown();
    await as.close();
    await sandbox.idle();
    await sandbox.close();
  }
});
