/**
 * Test fixture for the MCP tests: a real sandbox (Deno KV in memory), a real SDK client on its
 * `fetch`, the MCP server, and a real MCP `Client` linked over `InMemoryTransport`.
 *
 * @module
 */
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import type { Sandbox, SandboxOptions } from "../../src/sandbox/mod.ts";
import { createRecaptureMcpServer } from "../../mcp/mod.ts";
import type { RecaptureMcpServerOptions } from "../../mcp/mod.ts";
import {
  Client,
  ElicitRequestSchema,
  InMemoryTransport,
  ListRootsRequestSchema,
} from "../../mcp/_sdk.ts";
import type { CallToolResult, ElicitRequest, ElicitResult } from "../../mcp/_sdk.ts";

/** A client's answer to the server's question (elicitation), given the question. */
export type Elicitor = (request: ElicitRequest["params"]) => Promise<ElicitResult>;

/**
 * A real MCP client; with `elicit` it declares elicitation support and answers with it.
 */
export function mcpClient(elicit?: Elicitor, roots?: readonly string[]): Client {
  const client = new Client(
    { name: "recapture-test", version: "1.0.0" },
    {
      capabilities: {
        ...(elicit ? { elicitation: { form: {} } } : {}),
        ...(roots ? { roots: {} } : {}),
      },
    },
  );
  if (elicit) client.setRequestHandler(ElicitRequestSchema, (req) => elicit(req.params));
  if (roots) {
    client.setRequestHandler(ListRootsRequestSchema, () => ({
      roots: roots.map((uri) => ({ uri })),
    }));
  }
  return client;
}

/** A connected MCP client over a sandbox. */
export interface Harness {
  client: Client;
  sandbox: Sandbox;
  sdk: RecaptureClient;
  /** Calls a tool and returns its result (tool errors come back as `isError` results). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Options of {@linkcode connect}. */
export interface HarnessOptions {
  server?: RecaptureMcpServerOptions;
  sandbox?: SandboxOptions;
  /** The SDK client's API key (default the sandbox key). */
  apiKey?: string;
  /** Wraps the sandbox's fetch (to inject faults). */
  fetch?: (
    sandboxFetch: (req: Request) => Promise<Response>,
  ) => (req: Request) => Promise<Response>;
  /** The client answers the server's questions with this (and declares elicitation). */
  elicit?: Elicitor;
  /** The client shares these roots (`file://` URIs) and declares the roots capability. */
  roots?: readonly string[];
}

/** Starts a sandbox, an MCP server on it and a client connected to that server. */
export async function connect(options: HarnessOptions = {}): Promise<Harness> {
  const sandbox = await createSandbox({ rateLimit: false, ...options.sandbox });
  const sandboxFetch = (req: Request) => sandbox.fetch(req);
  const sdk = new RecaptureClient({
    apiKey: options.apiKey ?? SANDBOX_API_KEY,
    fetch: options.fetch ? options.fetch(sandboxFetch) : sandboxFetch,
    maxRetries: 0,
  });
  const server = createRecaptureMcpServer(sdk, { pollIntervalMs: 20, ...options.server });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = mcpClient(options.elicit, options.roots);
  await server.connect(serverSide);
  await client.connect(clientSide);
  return {
    client,
    sandbox,
    sdk,
    call: (name, args) => callTool(client, name, args),
    async close() {
      await client.close();
      await server.close();
      await sandbox.idle();
      await sandbox.close();
    },
  };
}

/** A raw JSON-RPC `initialize` request, for tests that speak to a transport without a client. */
export const INITIALIZE_REQUEST = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw", version: "1" },
  },
} as const;

/** Calls a tool through a connected client (tool errors come back as `isError` results). */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return await client.callTool({ name, arguments: args }) as CallToolResult;
}

/** The text of a result's first content block. */
export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  if (!first || first.type !== "text") throw new Error("result has no text content");
  return first.text;
}

/** The structured content of a successful result (throws on an error result). */
export function dataOf(result: CallToolResult): Record<string, unknown> {
  if (result.isError) throw new Error(`tool failed: ${textOf(result)}`);
  if (!result.structuredContent) throw new Error("result has no structuredContent");
  return result.structuredContent;
}

/** `n` valid AU customer rows. */
export function rows(n: number, start = 0): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    rego: `TST${String(start + i).padStart(3, "0")}`,
    state: "NSW",
    client_name: `Jane Citizen ${start + i}`,
    mobile_number: "0412 345 678",
    sale_date: "2024-03-01",
  }));
}

/** Uploads rows through the tool and waits for the upload to finish; returns its id. */
export async function uploadAndWait(h: Harness, n: number, region = "au"): Promise<string> {
  const created = dataOf(
    await h.call("recapture_upload_customers", { name: "fixture", customers: rows(n), region }),
  );
  const id = created.upload_id as string;
  const waited = dataOf(await h.call("recapture_wait_for_upload", { upload_id: id, region }));
  if (waited.done !== true) throw new Error("upload did not finish in the fixture");
  return id;
}
