/**
 * A test-only MCP server for the official conformance suite: our server (registry, resources,
 * prompts, logging, completions, the confirmation gate) on a sandbox, plus the suite's fixture
 * tools, resources and prompts, over stateful Streamable HTTP (sessions, so subscriptions and
 * log lines have somewhere to go) with Host/Origin checks against DNS rebinding. Never shipped.
 *
 * Run by hand: `deno run -A tests/mcp/conformance_server.ts` prints its URL.
 *
 * @module
 */
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import type { Sandbox } from "../../src/sandbox/mod.ts";
import { createRecaptureMcpServer } from "../../mcp/mod.ts";
import type { RecaptureMcpServerOptions } from "../../mcp/mod.ts";
import {
  ListToolsRequestSchema,
  WebStandardStreamableHTTPServerTransport,
} from "../../mcp/_sdk.ts";
import type { McpServer, Tool } from "../../mcp/_sdk.ts";
import { selectTools } from "../../mcp/_registry.ts";
import { addConformanceFixtures } from "./conformance_fixtures.ts";

/** A running conformance server. */
export interface ConformanceServer {
  url: string;
  sandbox: Sandbox;
  close(): Promise<void>;
}

const LOCAL = new Set(["127.0.0.1", "localhost", "[::1]"]);

function local(value: string | null, parse: (v: string) => string): boolean {
  if (value === null) return true;
  try {
    return LOCAL.has(parse(value));
  } catch {
    return false;
  }
}

/** Starts the server on 127.0.0.1, a free port; `fixtures: false` serves ours alone. */
export async function serveConformance(
  options: { fixtures?: boolean; server?: RecaptureMcpServerOptions } = {},
): Promise<ConformanceServer> {
  const sandbox = await createSandbox({ rateLimit: false });
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    fetch: (req: Request) => sandbox.fetch(req),
    maxRetries: 0,
  });
  const serverOptions: RecaptureMcpServerOptions = {
    mode: "sandbox",
    pollIntervalMs: 20,
    ...options.server,
  };
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const servers: McpServer[] = [];
  const ac = new AbortController();
  const http = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
  }, async (request) => {
    // DNS rebinding: only local Host names, and browsers only from local origins.
    if (
      !local(request.headers.get("host"), (h) => new URL(`http://${h}`).hostname) ||
      !local(request.headers.get("origin"), (o) => new URL(o).hostname)
    ) {
      return Response.json({
        jsonrpc: "2.0",
        error: { code: -32000, message: "forbidden host or origin" },
        id: null,
      }, { status: 403 });
    }
    const id = request.headers.get("mcp-session-id");
    const known = id ? sessions.get(id) : undefined;
    if (known) return await known.handleRequest(request);
    if (id || request.method !== "POST") {
      return new Response("unknown or missing session", { status: id ? 404 : 400 });
    }
    const server = createRecaptureMcpServer(client, serverOptions) as unknown as McpServer;
    servers.push(server);
    if (options.fixtures !== false) {
      const ours = selectTools({
        toolsets: serverOptions.toolsets,
        readOnly: serverOptions.readOnly ?? false,
        tools: serverOptions.tools,
        mode: "sandbox",
      }).map((t) => t.listing());
      addConformanceFixtures(server);
      // The fixtures' tools as the SDK lists them, after ours (our handler lists ours only).
      const registered = (server as unknown as {
        _registeredTools: Record<string, { description?: string }>;
      })._registeredTools;
      const fixtures: Tool[] = Object.entries(registered)
        .filter(([name]) => !name.startsWith("recapture_"))
        .map(([name, tool]) => ({
          name,
          description: tool.description,
          inputSchema: { type: "object", properties: {} },
        }));
      server.server.setRequestHandler(ListToolsRequestSchema, () => ({
        tools: [...ours, ...fixtures],
      }));
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return await transport.handleRequest(request);
  });
  const { port } = http.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sandbox,
    async close() {
      for (const server of servers) await server.close().catch(() => {});
      ac.abort();
      await http.finished;
      await sandbox.close();
    },
  };
}

if (import.meta.main) {
  const server = await serveConformance({ fixtures: !Deno.args.includes("--ours") });
  console.log(server.url);
}
