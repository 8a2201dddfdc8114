// The HTTP entry point on a real 127.0.0.1 port: a real MCP Client over Streamable HTTP, plus
// the bearer-token and Host/Origin checks seen from plain fetch.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { serveHttp } from "../../mcp/http.ts";
import { RecaptureMcpConfigError } from "../../mcp/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../mcp/_sdk.ts";
import type { CallToolResult } from "../../mcp/_sdk.ts";
import { callTool, dataOf, INITIALIZE_REQUEST } from "./_fixture.ts";

const TOKEN = "test-bearer-token-0123456789";

async function start(args: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "recapture_mcp_http_" });
  const running = await serveHttp(
    ["--port", "0", "--sandbox-path", `${dir}/sandbox.kv`, ...args],
    { RECAPTURE_MCP_TOKEN: TOKEN },
  );
  return {
    ...running,
    async stop() {
      await running.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A client connected to `server` over Streamable HTTP with the bearer token. */
async function httpClient(server: { url: string }): Promise<Client> {
  const client = new Client({ name: "http-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
  return client;
}

function post(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify(INITIALIZE_REQUEST),
  });
}

Deno.test("http: a client lists tools and follows an upload with progress", async () => {
  const server = await start(["--confirm", "token-unverified"]);
  const client = await httpClient(server);
  try {
    assertEquals(server.mode, "sandbox");
    assert(server.url.startsWith("http://127.0.0.1:"));
    assertStringIncludes(client.getInstructions() ?? "", "SANDBOX");
    const { tools } = await client.listTools();
    assertEquals(tools.length, 9);

    const created = dataOf(
      await callTool(client, "recapture_upload_customers", {
        name: "http",
        customers: Array.from({ length: 20 }, (_, i) => ({ rego: `HTP${i}`, state: "QLD" })),
      }),
    );
    const id = created.upload_id as string;
    // Over HTTP the server cannot read the user's files: a path is refused, saying what to send.
    const byPath = await callTool(client, "recapture_upload_customers", {
      name: "http",
      file: "/etc/hostname",
    });
    assertEquals(byPath.isError, true);
    assertStringIncludes(
      (byPath.content[0] as { text: string }).text,
      "file_input_unavailable: this server is reached over HTTP",
    );
    // Stateless: no subscriptions (nowhere to send updates later), said so; reads work.
    assertEquals(client.getServerCapabilities()?.resources?.subscribe, false);
    await assertRejects(
      () => client.subscribeResource({ uri: `recapture://uploads/${id}` }),
      Error,
      "this server is stateless HTTP: it cannot send updates later",
    );
    const read = await client.readResource({ uri: `recapture://uploads/${id}` });
    assertStringIncludes((read.contents[0] as { text: string }).text, `"upload_id":"${id}"`);
    const progress: number[] = [];
    const waited = dataOf(
      await client.callTool(
        { name: "recapture_wait_for_upload", arguments: { upload_id: id, max_wait_seconds: 10 } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      ) as CallToolResult,
    );
    assertEquals(waited.done, true);
    assertEquals(waited.total_processed_customers, 20);
    assert(progress.length >= 1 && progress.at(-1) === 20, `progress ${progress}`);

    // Token mode: the confirmation works across requests, each on a fresh server instance.
    const page = dataOf(
      await callTool(client, "recapture_list_customers", { limit: 1 }),
    );
    const customerId = (page.customers as { id: string }[])[0].id;
    const preview = await callTool(client, "recapture_delete_customer", {
      customer_id: customerId,
    });
    const text = (preview.content[0] as { text: string }).text;
    assert(text.startsWith("confirmation_required: "), text);
    const confirmationToken = /confirmation_token "([^"]+)"/.exec(text)?.[1];
    const deleted = dataOf(
      await callTool(client, "recapture_delete_customer", {
        customer_id: customerId,
        confirmation_token: confirmationToken,
      }),
    );
    assertEquals(deleted.action, "deleted");
    assert(!JSON.stringify(deleted).includes(TOKEN));
  } finally {
    await client.close();
    await server.stop();
  }
});

/** Sends an initialize request with the given Host header over a raw TCP connection. */
async function statusWithHost(url: string, host: string): Promise<number> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify(INITIALIZE_REQUEST);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const request = `POST /mcp HTTP/1.1\r\nHost: ${host}\r\n` +
      `Authorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nConnection: close\r\n` +
      `Content-Length: ${new TextEncoder().encode(body).length}\r\n\r\n${body}`;
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(64);
    let head = "";
    while (!head.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    return Number(head.split(" ")[1]);
  } finally {
    conn.close();
  }
}

Deno.test("http: bearer token, Host and Origin are checked; GET is refused", async () => {
  const server = await start(["--allowed-origin", "https://app.example.com"]);
  try {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const none = await post(server.url, {});
    assertEquals(none.status, 401);
    assertStringIncludes(none.headers.get("www-authenticate") ?? "", "Bearer");
    await none.body?.cancel();
    const wrong = await post(server.url, { Authorization: "Bearer not-the-token-000000" });
    assertEquals(wrong.status, 401);
    assert(!(await wrong.text()).includes(TOKEN));

    // fetch() will not send a forged Host header, so speak HTTP/1.1 over a plain socket.
    assertEquals(await statusWithHost(server.url, "evil.example:80"), 403);
    // Not a host[:port] at all, though a local name is in it: userinfo, trailing text after an
    // IPv6 literal, a path, query or fragment (Deno puts a Host's bytes into Request.url).
    for (
      const host of ["[::1]evil.example", "[::1]@evil.example", "localhost:1?x", "localhost:1#x"]
    ) {
      assertEquals(await statusWithHost(server.url, host), 403, host);
    }
    assertEquals(await statusWithHost(server.url, "localhost"), 200);
    const foreignOrigin = await post(server.url, { ...auth, Origin: "https://evil.example" });
    assertEquals(foreignOrigin.status, 403);
    await foreignOrigin.body?.cancel();

    for (
      const headers of [auth, { ...auth, Origin: "http://localhost:6274" }, {
        ...auth,
        Origin: "https://app.example.com",
      }]
    ) {
      const ok = await post(server.url, headers);
      assertEquals(ok.status, 200, JSON.stringify(headers));
      assertStringIncludes(await ok.text(), "recapture");
    }

    const get = await fetch(server.url, { headers: { ...auth, accept: "text/event-stream" } });
    assertEquals(get.status, 405);
    await get.body?.cancel();
  } finally {
    await server.stop();
  }
});

Deno.test("http: read-only flag applies to every request", async () => {
  const server = await start(["--read-only"]);
  const client = await httpClient(server);
  try {
    const { tools } = await client.listTools();
    assertEquals(tools.map((t) => t.name), [
      "recapture_upload_status",
      "recapture_wait_for_upload",
      "recapture_list_customers",
      "recapture_get_customer",
      "recapture_find_customers",
    ]);
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("http: without RECAPTURE_MCP_TOKEN a token is made, kept owner-only and reused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "recapture_mcp_token_" });
  const args = ["--port", "0", "--sandbox-path", ":memory:", "--token-file", `${dir}/token`];
  try {
    const first = await serveHttp(args, {});
    const token = first.token ?? "";
    await first.close();
    assert(token.length >= 32);
    assertEquals((await Deno.readTextFile(`${dir}/token`)).trim(), token);
    assertEquals((await Deno.stat(`${dir}/token`)).mode! & 0o777, 0o600);
    const second = await serveHttp(args, {});
    try {
      assertEquals(second.token, token);
      const ok = await post(second.url, { Authorization: `Bearer ${token}` });
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http: --files-dir is refused at start-up (the server cannot read the user's files)", async () => {
  await assertRejects(
    () => serveHttp(["--port", "0", "--files-dir", "/tmp"], { RECAPTURE_MCP_TOKEN: TOKEN }),
    RecaptureMcpConfigError,
    "--files-dir is for the stdio server",
  );
});
