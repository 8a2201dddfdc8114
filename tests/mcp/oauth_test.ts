/**
 * The MCP HTTP app as an OAuth 2.1 resource server, on Deno: the official SDK client connects
 * through the whole flow against a local authorization server (`_oauth_server.ts`); every
 * kind of bad token is refused with the right status and `WWW-Authenticate`; scopes limit the
 * tool list and calls; the shared bearer token is refused while OAuth is on; the client's token
 * never reaches the API.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import * as jose from "jose";
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { createRecaptureMcpServer, RecaptureMcpConfigError } from "../../mcp/mod.ts";
import { createMcpHttpApp } from "../../mcp/_http_app.ts";
import { createOAuthGuard } from "../../mcp/_oauth.ts";
import type { OAuthGrant } from "../../mcp/_oauth.ts";
import { connectWithOAuth, startAuthServer } from "./_oauth_server.ts";
import { remoteMcpApp } from "../../examples/_mcp_remote.ts";
import { serveHttp } from "../../mcp/http.ts";

const SHARED_TOKEN = "0123456789abcdef-shared";

/** One authorization server, sandbox and MCP server for the whole file. */
async function setup() {
  const as = await startAuthServer();
  const sandbox = await createSandbox({ rateLimit: false });
  const upstreamAuth: string[] = [];
  const sdk = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    maxRetries: 0,
    fetch: (req: Request) => {
      upstreamAuth.push(
        [...req.headers].map(([k, v]) => `${k}: ${v}`).join("\n"),
      );
      return sandbox.fetch(req);
    },
  });
  const grants: OAuthGrant[] = [];
  // The app needs the port (its canonical URL), known once listening.
  const served: { app?: ReturnType<typeof createMcpHttpApp> } = {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => served.app ? served.app.fetch(req) : new Response("starting", { status: 503 }),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  served.app = createMcpHttpApp((grant) => {
    if (!grant) throw new Error("no grant with OAuth on");
    grants.push(grant);
    return createRecaptureMcpServer(sdk, {
      mode: "sandbox",
      readOnly: grant.readOnly,
      toolsets: grant.toolsets,
      subscriptions: false,
    });
  }, {
    oauth: {
      resource: `${origin}/mcp`,
      issuer: as.issuer,
      jwksUrl: as.jwksUrl,
      serverToolsets: ["uploads", "customers", "alerts", "code"],
    },
  });
  return {
    as,
    origin,
    mcpUrl: `${origin}/mcp`,
    grants,
    upstreamAuth,
    async close() {
      await server.shutdown();
      await as.close();
      await sandbox.idle();
      await sandbox.close();
    },
  };
}

async function post(url: string, token: string | undefined): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });
}

Deno.test("MCP over OAuth (Deno)", async (t) => {
  const env = await setup();
  const now = () => Math.floor(Date.now() / 1000);
  const good = () => ({
    iss: env.as.issuer,
    aud: env.mcpUrl,
    sub: "u1",
    scope: "recapture:read",
    exp: now() + 300,
  });
  try {
    await t.step("publishes RFC 9728 metadata, path-aware and at the root", async () => {
      for (const path of ["/mcp", ""]) {
        const res = await fetch(`${env.origin}/.well-known/oauth-protected-resource${path}`);
        assertEquals(res.status, 200);
        const body = await res.json();
        assertEquals(body.resource, env.mcpUrl);
        assertEquals(body.authorization_servers, [env.as.issuer]);
        assert(body.scopes_supported.includes("recapture:code"));
      }
    });

    await t.step("no token: 401 naming the metadata", async () => {
      const res = await post(env.mcpUrl, undefined);
      await res.body?.cancel();
      assertEquals(res.status, 401);
      assertEquals(
        res.headers.get("www-authenticate"),
        `Bearer resource_metadata="${env.origin}/.well-known/oauth-protected-resource/mcp"`,
      );
    });

    await t.step("the official SDK client connects through the whole flow", async () => {
      env.as.grantScope = "recapture:read";
      const client = await connectWithOAuth(env.mcpUrl);
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert(names.includes("recapture_list_customers"));
      assert(!names.includes("recapture_delete_customer"), "read scope: no writing tool");
      assert(!names.includes("recapture_list_webhooks"), "no alerts scope: no alert tools");
      const refused = await client.callTool({
        name: "recapture_delete_customer",
        arguments: { customer_id: "cus_1" },
      });
      assert(refused.isError, "a tool outside the grant cannot be called");
      const listed = await client.callTool({ name: "recapture_list_customers", arguments: {} });
      assert(!listed.isError);
      await client.close();
      assertEquals(env.grants.at(-1)?.readOnly, true);
    });

    await t.step("write and alerts scopes widen the list", async () => {
      env.as.grantScope = "recapture:write recapture:alerts";
      const client = await connectWithOAuth(env.mcpUrl);
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert(names.includes("recapture_delete_customer"));
      assert(names.includes("recapture_list_webhooks"));
      await client.close();
    });

    await t.step("recapture:code alone serves the code toolset, read-only", async () => {
      const token = await env.as.sign({ ...good(), scope: "recapture:code" });
      const res = await post(env.mcpUrl, token);
      const text = await res.text();
      assertEquals(res.status, 200);
      assert(text.includes("recapture_run_script") && text.includes("recapture_search_docs"));
      assert(!text.includes("recapture_list_customers"), "no other toolset without its scope");
      assertEquals(env.grants.at(-1)?.readOnly, true, "code without recapture:write: read-only");
    });

    await t.step("the client's token never reaches the API", () => {
      assert(env.upstreamAuth.length > 0);
      for (const headers of env.upstreamAuth) {
        assert(!/eyJ/.test(headers), "a JWT went upstream");
        assert(headers.includes(SANDBOX_API_KEY), "the server's own key is used");
      }
    });

    const { privateKey: otherKey } = await jose.generateKeyPair("RS256");
    const { publicKey: attackerPublic, privateKey: attackerKey } = await jose.generateKeyPair(
      "RS256",
      { extractable: true },
    );
    const b64 = (o: unknown) => jose.base64url.encode(JSON.stringify(o));
    const cases: [string, () => Promise<string>, 401 | 403, RegExp][] = [
      ["wrong issuer", () => env.as.sign({ ...good(), iss: "http://evil.example" }), 401, /issued/],
      [
        "wrong audience",
        () => env.as.sign({ ...good(), aud: "http://127.0.0.1:1/mcp" }),
        401,
        /audience/,
      ],
      ["another key's signature", () => env.as.sign(good(), {}, otherKey), 401, /signature/],
      [
        "alg none",
        () => Promise.resolve(`${b64({ alg: "none" })}.${b64(good())}.`),
        401,
        /algorithm none/,
      ],
      [
        "HS256",
        () =>
          new jose.SignJWT(good()).setProtectedHeader({ alg: "HS256", kid: "test-key" })
            .sign(new TextEncoder().encode("a shared secret of 32 bytes!!!!!")),
        401,
        /algorithm HS256/,
      ],
      ["a jku header", () => env.as.sign(good(), { jku: "http://evil.example/jwks" }), 401, /jku/],
      [
        "an embedded jwk",
        async () => env.as.sign(good(), { jwk: await jose.exportJWK(attackerPublic) }, attackerKey),
        401,
        /jwk/,
      ],
      ["not yet valid", () => env.as.sign({ ...good(), nbf: now() + 120 }), 401, /not valid yet/],
      ["expired", () => env.as.sign({ ...good(), exp: now() - 120 }), 401, /expired/],
      ["no exp", () => env.as.sign({ ...good(), exp: undefined }), 401, /exp/],
      ["missing scope", () => env.as.sign({ ...good(), scope: "openid profile" }), 403, /scope/],
      ["the shared bearer token", () => Promise.resolve(SHARED_TOKEN), 401, /not a JWT/],
    ];
    for (const [name, make, status, why] of cases) {
      await t.step(`refused: ${name} (${status})`, async () => {
        const res = await post(env.mcpUrl, await make());
        const body = await res.json();
        assertEquals(res.status, status);
        const header = res.headers.get("www-authenticate") ?? "";
        assertMatch(
          header,
          status === 401 ? /^Bearer error="invalid_token"/ : /^Bearer error="insufficient_scope"/,
        );
        assertMatch(header, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\//);
        assertMatch(body.error.message, why);
      });
    }

    await t.step("within the stated 30 s skew: accepted", async () => {
      const res = await post(env.mcpUrl, await env.as.sign({ ...good(), exp: now() - 10 }));
      await res.body?.cancel();
      assertEquals(res.status, 200);
    });

    await t.step("scope tokens are separated by spaces only (RFC 6749 3.3)", async () => {
      // A tab, NBSP, line feed or other Unicode space is no separator: the text around it is one
      // (unknown) scope, which grants nothing.
      for (const odd of ["\t", "\u00a0", "\n", "\u2003", "\u3000", "\u2028"]) {
        const token = await env.as.sign({
          ...good(),
          scope: `recapture:read recapture:code${odd}recapture:write`,
        });
        const res = await post(env.mcpUrl, token);
        const text = await res.text();
        assertEquals(res.status, 200, JSON.stringify(odd));
        assert(!text.includes("recapture_delete_customer"), `${JSON.stringify(odd)}: no write`);
        assertEquals(env.grants.at(-1)?.readOnly, true, JSON.stringify(odd));
      }
    });

    await t.step("scp (a list) works like scope", async () => {
      const token = await env.as.sign({ ...good(), scope: undefined, scp: ["recapture:read"] });
      const res = await post(env.mcpUrl, token);
      await res.body?.cancel();
      assertEquals(res.status, 200);
    });
  } finally {
    await env.close();
  }
});

Deno.test("MCP OAuth configuration is refused at start-up when unsafe", async () => {
  const make = () => createRecaptureMcpServer(new RecaptureClient({ apiKey: "sec_x" }));
  const oauth = {
    resource: "https://mcp.example.com/mcp",
    issuer: "https://login.example.com",
    jwksUrl: "https://login.example.com/jwks",
    serverToolsets: ["uploads", "customers"],
  };
  assertThrows(
    () => createMcpHttpApp(make, { token: SHARED_TOKEN, oauth }),
    RecaptureMcpConfigError,
    "refused while OAuth is on",
  );
  assertThrows(
    () => createMcpHttpApp(make, { oauth: { ...oauth, resource: "" } }),
    RecaptureMcpConfigError,
    "resource (this server's canonical URL) is required",
  );
  assertThrows(
    () => createMcpHttpApp(make, { oauth: { ...oauth, algorithms: ["HS256"] } }),
    RecaptureMcpConfigError,
    "HS256 is not allowed",
  );
  assertThrows(
    () => createMcpHttpApp(make, { oauth: { ...oauth, resource: "http://mcp.example.com/mcp" } }),
    RecaptureMcpConfigError,
    "must be https",
  );
  // The Host of a request never becomes the audience: the configured host is accepted, others not.
  const app = createMcpHttpApp(make, { oauth });
  const res = await app.fetch(
    new Request("https://evil.example/mcp", { method: "POST", headers: { host: "evil.example" } }),
  );
  assertEquals(res.status, 403);
  await res.body?.cancel();
});

Deno.test("the remote examples refuse to start without what OAuth needs, and refuse code", () => {
  const env = {
    RECAPTURE_API_KEY: "sec_example_key_000",
    RECAPTURE_MCP_RESOURCE: "https://mcp.example.com/mcp",
    RECAPTURE_MCP_OAUTH_ISSUER: "https://login.example.com/",
    RECAPTURE_MCP_OAUTH_JWKS_URL: "https://login.example.com/jwks",
  };
  remoteMcpApp(env); // complete: starts
  assertThrows(
    () => remoteMcpApp({ ...env, RECAPTURE_MCP_RESOURCE: "" }),
    RecaptureMcpConfigError,
    "resource (this server's canonical URL) is required",
  );
  assertThrows(
    () => remoteMcpApp({ ...env, RECAPTURE_MCP_OAUTH_JWKS_URL: undefined }),
    RecaptureMcpConfigError,
    "jwksUrl is required",
  );
  assertThrows(() => remoteMcpApp({ ...env, RECAPTURE_API_KEY: "" }), Error, "RECAPTURE_API_KEY");
  assertThrows(
    () => remoteMcpApp({ ...env, RECAPTURE_MCP_TOOLSETS: "customers,code" }),
    Error,
    "cannot start",
  );
});

Deno.test("deno task mcp:http: OAuth from the environment; the shared token refused with it", async () => {
  const oauthEnv = {
    RECAPTURE_MCP_RESOURCE: "http://127.0.0.1:1/mcp",
    RECAPTURE_MCP_OAUTH_ISSUER: "http://127.0.0.1:2",
    RECAPTURE_MCP_OAUTH_JWKS_URL: "http://127.0.0.1:2/jwks",
  };
  const args = ["--port", "0", "--sandbox-path", ":memory:"];
  await assertRejects(
    () => serveHttp(args, { ...oauthEnv, RECAPTURE_MCP_TOKEN: SHARED_TOKEN }),
    RecaptureMcpConfigError,
    "refused while OAuth is on",
  );
  await assertRejects(
    () => serveHttp(args, { ...oauthEnv, RECAPTURE_MCP_OAUTH_JWKS_URL: undefined }),
    RecaptureMcpConfigError,
    "jwksUrl is required",
  );
  await assertRejects(
    () => serveHttp([...args, "--tools", "recapture_list_customers"], oauthEnv),
    RecaptureMcpConfigError,
    "--tools cannot be combined with OAuth",
  );
  const running = await serveHttp(args, oauthEnv);
  try {
    assertEquals(running.token, undefined);
    for (const token of [undefined, SHARED_TOKEN]) {
      const res = await post(running.url, token);
      await res.body?.cancel();
      assertEquals(res.status, 401);
      assertMatch(
        res.headers.get("www-authenticate") ?? "",
        /resource_metadata="http:\/\/127\.0\.0\.1:1\/\.well-known\/oauth-protected-resource\/mcp"/,
      );
    }
  } finally {
    await running.close();
  }
});

Deno.test("a JWKS that fails is 503, not a 401 that sends the user to sign in again", async () => {
  const as = await startAuthServer();
  // Answers 500, a body that is no JWKS, keys that cannot be read, a JWKS over 256 KiB.
  const answers = [
    () => new Response("down", { status: 500 }),
    () => new Response("<html>", { status: 200 }),
    () => Response.json({ keys: "none" }),
    () => Response.json({ keys: [], padding: "x".repeat(300_000) }),
  ];
  let served = 0;
  const jwks = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => answers[served++ % answers.length](),
  );
  try {
    const token = await as.sign({
      iss: as.issuer,
      aud: "http://127.0.0.1:1/mcp",
      scope: "recapture:read",
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    for (let i = 0; i < answers.length; i++) {
      // A guard per answer: jose keeps a fetched set, and waits before fetching again.
      const guard = createOAuthGuard({
        resource: "http://127.0.0.1:1/mcp",
        issuer: as.issuer,
        jwksUrl: `http://127.0.0.1:${jwks.addr.port}/jwks`,
        serverToolsets: ["uploads", "customers"],
      });
      const result = await guard.check(`Bearer ${token}`);
      assert(!result.ok);
      assertEquals(result.status, 503, `answer ${i}`);
      assertEquals(result.challenge, undefined);
      assertMatch(result.message, /keys could not be fetched/);
    }
    assertEquals(served, answers.length);
    assertEquals(as.jwksFetches, 0, "the token's own issuer was not asked for keys");
  } finally {
    await jwks.shutdown();
    await as.close();
  }
});
