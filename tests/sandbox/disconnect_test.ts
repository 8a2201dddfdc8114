/**
 * A client that goes away mid-request (issue 18): over raw TCP, a request whose body never
 * arrives whole (cut short of its `Content-Length`, a chunked body cut inside a chunk or before
 * its last chunk, headers only) and then a closed connection. The sandbox answers no 500, logs
 * nothing, and stores nothing: no upload, no chunk, no customer, no webhook. Nor does a client
 * that sends a whole request and leaves before its answer is written.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { serveSandbox } from "../../src/sandbox/serve.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

const encoder = new TextEncoder();

/** Ways to send a body that never arrives whole, given the whole body. */
const CUTS: Record<string, (body: string) => { headers: string; sent: string }> = {
  "Content-Length, half the body": (body) => ({
    headers: `Content-Length: ${body.length}\r\n`,
    sent: body.slice(0, Math.floor(body.length / 2)),
  }),
  "Content-Length, every byte but the last": (body) => ({
    headers: `Content-Length: ${body.length}\r\n`,
    sent: body.slice(0, -1),
  }),
  "Content-Length, headers only": (body) => ({
    headers: `Content-Length: ${body.length}\r\n`,
    sent: "",
  }),
  "chunked, cut inside a chunk": (body) => ({
    headers: "Transfer-Encoding: chunked\r\n",
    sent: `${body.length.toString(16)}\r\n${body.slice(0, 10)}`,
  }),
  "chunked, whole data but no last chunk": (body) => ({
    headers: "Transfer-Encoding: chunked\r\n",
    sent: `${body.length.toString(16)}\r\n${body}\r\n`,
  }),
};

/** Requests with bodies, as [method, path, body]. */
function requests(customerId: string): [string, string, string][] {
  const rows = Array.from({ length: 2000 }, (_, k) => ({ rego: `GONE${k}`, state: "NSW" }));
  return [
    [
      "POST",
      "/v2/recapture/upload?region=au",
      JSON.stringify({ name: "gone", customers: rows }),
    ],
    [
      "PATCH",
      `/v2/recapture/customers/${customerId}?region=au`,
      JSON.stringify({ client_name: "never arrives" }),
    ],
    [
      "POST",
      "/v2/webhooks?region=au",
      JSON.stringify({ url: "https://example.com/hook", events: ["recapture_new"] }),
    ],
  ];
}

async function sendAndLeave(
  port: number,
  method: string,
  path: string,
  cut: { headers: string; sent: string },
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nApiKey: ${SANDBOX_API_KEY}\r\n` +
    `Content-Type: application/json\r\n${cut.headers}\r\n`;
  const bytes = encoder.encode(head + cut.sent);
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
  conn.close();
}

Deno.test("a client that goes away mid-body: no 500, no log line, nothing stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "recapture_gone_" });
  const path = `${dir}/sandbox.kv`;
  const logged: string[] = [];
  const original = { error: console.error, warn: console.warn, log: console.log };
  try {
    // One customer to PATCH, made before the clients that go away.
    let server = await serveSandbox({ port: 0, path, quiet: true });
    const made = await fetch(`${server.url}/v2/recapture/upload?region=au`, {
      method: "POST",
      headers: { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" },
      body: JSON.stringify({
        name: "kept",
        customers: Array.from({ length: 1000 }, (_, k) => ({ rego: `KEPT${k}`, state: "NSW" })),
      }),
    });
    assertEquals(made.status, 201);
    const kept = (await made.json()).upload.id as string;
    await server.sandbox.idle();
    const customerId = "cus_" + kept.slice(4) + "0000000";
    const before = await snapshot(server.sandbox.kv);
    await server.shutdown();

    server = await serveSandbox({ port: 0, path, quiet: true });
    const record = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    console.error = console.warn = console.log = record;
    const port = Number(new URL(server.url).port);
    for (const cut of Object.values(CUTS)) {
      for (const [method, target, body] of requests(customerId)) {
        await sendAndLeave(port, method, target, cut(body));
      }
    }
    // Whole requests whose answers (up to 1000 customers) nobody reads: the client leaves at once.
    for (const limit of [1, 1000]) {
      await sendAndLeave(port, "GET", `/v2/recapture/customers?region=au&limit=${limit}`, {
        headers: "",
        sent: "",
      });
    }
    // A whole request afterwards is answered: the server is fine.
    const ok = await fetch(`${server.url}/v2/recapture/customers?region=au`, {
      headers: { ApiKey: SANDBOX_API_KEY },
    });
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
    // Shutting down waits for every request handler to finish.
    await server.shutdown();
    Object.assign(console, original);
    assertEquals(logged, [], "nothing logged");
    const kv = await Deno.openKv(path);
    try {
      assertEquals(await snapshot(kv), before, "nothing stored, nothing changed");
    } finally {
      kv.close();
    }
  } finally {
    Object.assign(console, original);
    await Deno.remove(dir, { recursive: true });
  }
});

/** Every key and versionstamp of the sandbox's data. */
async function snapshot(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of kv.list({ prefix: ["rc"] })) {
    out.push(JSON.stringify(entry.key) + " " + entry.versionstamp);
  }
  return out;
}

Deno.test("a client that stops sending mid-body but still listens hears a 400, not a 500", async () => {
  const server = await serveSandbox({ port: 0, path: ":memory:", quiet: true });
  const logged: string[] = [];
  const original = { error: console.error, warn: console.warn, log: console.log };
  console.error = console.warn = console.log = (...args: unknown[]) =>
    logged.push(args.map(String).join(" "));
  try {
    const port = Number(new URL(server.url).port);
    const [, path, body] = requests("cus_0000000000000000000000000")[0];
    for (const cut of Object.values(CUTS)) {
      const { headers, sent } = cut(body);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nApiKey: ${SANDBOX_API_KEY}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n${headers}\r\n`;
      const bytes = encoder.encode(head + sent);
      let at = 0;
      while (at < bytes.length) at += await conn.write(bytes.subarray(at));
      await conn.closeWrite();
      const answer = await new Response(conn.readable).text();
      assertEquals(answer.split("\r\n")[0], "HTTP/1.1 400 Bad Request", answer);
      assertStringIncludes(answer, "The request body could not be read to its end");
    }
    assertEquals(logged, []);
  } finally {
    Object.assign(console, original);
    await server.shutdown();
  }
});
