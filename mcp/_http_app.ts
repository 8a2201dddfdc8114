/**
 * The Hono app that serves MCP over stateless Streamable HTTP: bearer-token auth and Host/Origin
 * checks against DNS rebinding, a fresh server and transport per request. Re-exported from
 * `mod.ts`; `http.ts` is the entry point that listens.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { RecaptureMcpConfigError } from "./_config_error.ts";
import { WebStandardStreamableHTTPServerTransport } from "./_sdk.ts";
import type { McpHttpApp, RecaptureMcpServer } from "./_types.ts";
import { randomHex } from "../src/_internal/hex.ts";
import { readBodyLimited } from "../src/_internal/body.ts";
import { createOAuthGuard } from "./_oauth.ts";
import type { OAuthGrant, OAuthOptions } from "./_oauth.ts";

/**
 * Options of {@linkcode createMcpHttpApp}.
 *
 * @example
 * ```ts
 * import type { McpHttpAppOptions } from "@recapture/sdk/mcp";
 *
 * const options: McpHttpAppOptions = {
 *   token: "0123456789abcdef0123",
 *   allowedHosts: ["mcp.internal.example"],
 * };
 * ```
 */
export interface McpHttpAppOptions {
  /**
   * The shared bearer token callers must send (`Authorization: Bearer <token>`); 16+
   * characters. For local use: refused (a start-up error) together with `oauth`.
   */
  token?: string;
  /**
   * Serve as an OAuth 2.1 resource server instead (see `docs/mcp.md`, "Remote server"): JWT
   * access tokens from this issuer, for this canonical URL, whose scopes choose the toolsets
   * and read-only mode each request's server gets. Its host is accepted in `Host`.
   */
  oauth?: OAuthOptions;
  /**
   * Host names accepted in the `Host` header, besides `127.0.0.1`, `localhost` and `[::1]`.
   * Any other host is refused (403), which defeats DNS rebinding.
   */
  allowedHosts?: readonly string[];
  /**
   * Browser origins accepted in an `Origin` header, besides `http(s)://localhost`,
   * `127.0.0.1` and `[::1]` on any port. A request without `Origin` (not from a browser) passes.
   */
  allowedOrigins?: readonly string[];
  /** The path served. Default `/mcp`. */
  path?: string;
}

const LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** A `Host` header's name, lower case: `name`, `name:port`, `[v6]` or `[v6]:port`; else "". */
function hostnameOf(host: string): string {
  if (!/^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return "";
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end === -1 ? host : host.slice(0, end + 1).toLowerCase();
  }
  const colon = host.lastIndexOf(":");
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

/** Compares two strings in time independent of where they differ. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** The MCP SDK transport's default request-body bound, kept where this app reads a body. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

function jsonRpcError(c: Context, status: 401 | 403 | 405 | 413, message: string): Response {
  return c.json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }, status);
}

/** Calls `onDone` once the body has been read to the end or cancelled. */
function onBodyDone(response: Response, onDone: () => void): Response {
  if (!response.body) {
    onDone();
    return response;
  }
  const reader = response.body.getReader();
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      onDone();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          finish();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        controller.error(error);
        finish();
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
      finish();
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

/** A question in flight: the transport of the request that asked it, and the id it used. */
interface Asked {
  transport: WebStandardStreamableHTTPServerTransport;
  id: string | number;
}

/**
 * Delivers the JSON-RPC responses in `body` to the transports whose questions they answer. True
 * when the body was nothing but such answers (all delivered); false for anything else, which is
 * then served as usual.
 */
function deliverAnswers(body: Uint8Array, asked: Map<string, Asked>): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return false;
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  const answers = messages.filter((m): m is { id: string } =>
    typeof m === "object" && m !== null && !("method" in m) &&
    ("result" in m || "error" in m) && typeof (m as { id?: unknown }).id === "string" &&
    asked.has((m as { id: string }).id)
  );
  if (answers.length === 0 || answers.length !== messages.length) return false;
  for (const answer of answers) {
    const entry = asked.get(answer.id);
    if (!entry) continue;
    asked.delete(answer.id);
    entry.transport.onmessage?.(
      { ...answer, id: entry.id } as Parameters<
        NonNullable<typeof entry.transport.onmessage>
      >[0],
    );
  }
  return true;
}

/**
 * A Hono app serving MCP at `path` over stateless Streamable HTTP. `makeServer` is called once
 * per request (stateless mode needs a fresh server and transport each time).
 *
 * @param makeServer builds the server for one request, e.g. `() => createRecaptureMcpServer(client)`;
 * under `oauth` it gets the request's grant (the toolsets and read-only mode its token's scopes allow)
 * @param options bearer token, accepted hosts and origins
 * @returns the Hono app; serve it with `Deno.serve(app.fetch)` or pass `app.fetch` around
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createMcpHttpApp, createRecaptureMcpServer } from "@recapture/sdk/mcp";
 *
 * const client = new RecaptureClient({ apiKey: "sec_example" });
 * const app = createMcpHttpApp(() => createRecaptureMcpServer(client), {
 *   token: "0123456789abcdef0123",
 *   allowedHosts: ["mcp.internal.example"],
 * });
 * ```
 */
export function createMcpHttpApp(
  makeServer: (grant: OAuthGrant | undefined) => RecaptureMcpServer,
  options: McpHttpAppOptions,
): McpHttpApp {
  if (options.oauth !== undefined && options.token !== undefined) {
    throw new RecaptureMcpConfigError(
      "the shared bearer token is for local use and is refused while OAuth is on: " +
        "unset the token (RECAPTURE_MCP_TOKEN) or OAuth",
    );
  }
  const guard = options.oauth === undefined ? undefined : createOAuthGuard(options.oauth);
  const token = options.token;
  if (!guard && (typeof token !== "string" || token.length < 16)) {
    throw new RecaptureMcpConfigError("the HTTP bearer token must be at least 16 characters");
  }
  const hosts = new Set([
    ...LOCAL_HOSTS,
    ...(options.allowedHosts ?? []).map(hostnameOf),
    ...(guard ? [new URL(guard.resource).host].map(hostnameOf) : []),
  ]);
  hosts.delete(""); // a malformed allowed name never matches a malformed `Host`
  const origins = new Set(options.allowedOrigins ?? []);
  const path = options.path ?? "/mcp";
  const app = new Hono<{ Variables: { oauthGrant: OAuthGrant } }>();

  if (guard) {
    for (const metadataPath of guard.metadataPaths) {
      app.get(metadataPath, (c) => guard.metadataResponse(c));
    }
  }

  app.use(path, async (c, next) => {
    const host = c.req.header("host");
    if (!host || !hosts.has(hostnameOf(host))) {
      return jsonRpcError(c, 403, "Forbidden: Host not allowed");
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && !origins.has(origin)) {
      let local = false;
      try {
        const url = new URL(origin);
        local = (url.protocol === "http:" || url.protocol === "https:") &&
          LOCAL_HOSTS.includes(url.hostname);
      } catch {
        local = false;
      }
      if (!local) return jsonRpcError(c, 403, "Forbidden: Origin not allowed");
    }
    if (guard) return await guard.middleware(c, next);
    const auth = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!match || !(await sameSecret(match[1], token ?? ""))) {
      c.header("WWW-Authenticate", 'Bearer realm="recapture-mcp"');
      return jsonRpcError(c, 401, "Unauthorized: send Authorization: Bearer <token>");
    }
    return await next();
  });

  // Questions servers of this app asked clients (elicitation) during a request still open, by
  // the id the client sees: a random one, since each fresh server numbers its requests from 0.
  const asked = new Map<string, Asked>();

  app.post(path, async (c) => {
    // A client answering a question arrives as a POST of its own; hand the answer to the server
    // that asked, whose request is still open. Only looked for while a question is pending.
    let request = c.req.raw;
    if (asked.size > 0 && request.body) {
      // Read here only while a question is pending, with the transport's own bound (4 MiB).
      const body = await readBodyLimited(request, MAX_REQUEST_BYTES);
      if (body === null) {
        return jsonRpcError(c, 413, `Request body too large: at most ${MAX_REQUEST_BYTES} bytes`);
      }
      if (deliverAnswers(body, asked)) return c.body(null, 202);
      request = new Request(request.url, { method: "POST", headers: request.headers, body });
    }
    const server = makeServer(guard ? c.get("oauthGrant") : undefined);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
    });
    await server.connect(transport);
    const mine: string[] = [];
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if ("method" in message && "id" in message) {
        const wireId = `ask_${randomHex(16)}`;
        asked.set(wireId, { transport, id: message.id });
        mine.push(wireId);
        return send({ ...message, id: wireId }, options);
      }
      return send(message, options);
    };
    const response = await transport.handleRequest(request);
    return onBodyDone(response, () => {
      for (const id of mine) asked.delete(id);
      void server.close().catch(() => {});
    });
  });

  // Stateless: no server-initiated stream to GET, no session to DELETE.
  app.on(["GET", "DELETE"], path, (c) => {
    c.header("Allow", "POST");
    return jsonRpcError(c, 405, "Method not allowed: this server is stateless; use POST");
  });

  return app;
}
