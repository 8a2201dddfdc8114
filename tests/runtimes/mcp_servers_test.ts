/**
 * The MCP HTTP app (`createMcpHttpApp`, as `_mcp_worker.ts` builds it) under every server: `Deno.serve`
 * (the source, in this process), `Bun.serve` and `@hono/node-server` on Node 20 (`_serve.mjs`,
 * the bundle), and workerd (the bundle, with `nodejs_compat`). On each, the official MCP SDK
 * client connects over Streamable HTTP with the bearer token, lists the read-only tools and reads
 * a customer the upstream sandbox holds; a request without the token gets 401 and one from a
 * foreign browser origin 403.
 *
 * Needs the tools `deno task setup` installs (miniflare, bun, hono_node_server).
 */
import { assertEquals } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { RECAPTURE_READ_TOOL_NAMES } from "../../mcp/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../mcp/_sdk.ts";
import type { CallToolResult } from "../../mcp/_sdk.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import {
  bundleWorker,
  startHarness,
  startWorkerd,
  withHarness,
  type Workerd,
} from "../_miniflare.ts";
import { toolDir } from "../_tools/mod.ts";
import { startUpstream, type Upstream } from "../edge/_helpers.ts";
import worker, { type McpWorkerEnv } from "./_mcp_worker.ts";
import { BUN, NODE_20, type Runtime } from "./_runtimes.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const MCP_TOKEN = "mcp_servers_token_0123456789";

const bundle = (): Promise<string> =>
  bundleWorker("tests/runtimes/_mcp_worker.ts", "mcp_worker", { nodeCompat: true });

function bindings(upstream: Upstream): McpWorkerEnv {
  return {
    RECAPTURE_API_KEY: SANDBOX_API_KEY,
    RECAPTURE_BASE_URL: upstream.url,
    MCP_TOKEN,
  };
}

/** An upstream sandbox holding one customer, `MCP001`. */
async function seededUpstream(): Promise<Upstream> {
  const upstream = await startUpstream();
  const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, baseUrl: upstream.url });
  const upload = await client.uploads.create({
    name: "mcp servers",
    customers: [{ rego: "MCP001", state: "NSW" }],
  });
  await upstream.sandbox.idle();
  assertEquals((await client.uploads.retrieve(upload.id)).total_processed_customers, 1);
  return upstream;
}

/** What every server must answer at `${url}/mcp`. */
async function checkMcp(url: string): Promise<void> {
  const endpoint = `${url}/mcp`;
  // Refused before the body is read: any JSON-RPC request will do.
  const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const noToken = await fetch(endpoint, { method: "POST", headers, body: initialize });
  await noToken.body?.cancel();
  assertEquals(noToken.status, 401, "no token");
  const foreign = await fetch(endpoint, {
    method: "POST",
    headers: { ...headers, authorization: `Bearer ${MCP_TOKEN}`, origin: "https://evil.test" },
    body: initialize,
  });
  await foreign.body?.cancel();
  assertEquals(foreign.status, 403, "foreign origin");

  const client = new Client({ name: "servers-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(endpoint), {
      requestInit: { headers: { Authorization: `Bearer ${MCP_TOKEN}` } },
    }),
  );
  try {
    const { tools } = await client.listTools();
    assertEquals(tools.map((t) => t.name).sort(), [...RECAPTURE_READ_TOOL_NAMES].sort());
    const result = await client.callTool({
      name: "recapture_list_customers",
      arguments: { limit: 5 },
    }) as CallToolResult;
    assertEquals(result.isError ?? false, false, JSON.stringify(result.content));
    const data = result.structuredContent as { total: number; customers: { rego?: string }[] };
    assertEquals([data.total, data.customers.map((c) => c.rego)], [1, ["MCP001"]]);
  } finally {
    await client.close();
  }
}

Deno.test("MCP servers: the HTTP app under Deno.serve", async () => {
  const upstream = await seededUpstream();
  const env = bindings(upstream);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => worker.fetch(request, env),
  );
  try {
    await checkMcp(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
    await upstream.close();
  }
});

/** `_serve.mjs` on a runtime: `Bun.serve` on Bun, `@hono/node-server` on Node. */
const served = (runtime: Runtime) => (script: string, env: McpWorkerEnv): Promise<Workerd> =>
  startHarness(
    runtime.exec(),
    [`${ROOT}tests/runtimes/_serve.mjs`, script, toolDir("hono_node_server")],
    { WORKER_BINDINGS: JSON.stringify(env) },
  );

/** The servers of the bundle: how each starts, given the Worker's bindings. */
const SERVERS: {
  server: string;
  start: (script: string, env: McpWorkerEnv) => Promise<Workerd>;
}[] = [
  { server: `Bun.serve on ${BUN.label}`, start: served(BUN) },
  { server: `@hono/node-server on ${NODE_20.label}`, start: served(NODE_20) },
  {
    server: "workerd (nodejs_compat)",
    start: (script, env) =>
      startWorkerd({ script, bindings: { ...env }, compatibilityFlags: ["nodejs_compat"] }),
  },
];

for (const { server, start } of SERVERS) {
  Deno.test(`MCP servers: the HTTP app (bundled) under ${server}`, async () => {
    const script = await bundle();
    const upstream = await seededUpstream();
    try {
      await withHarness(() => start(script, bindings(upstream)), (served) => checkMcp(served.url));
    } finally {
      await upstream.close();
    }
  });
}
