/**
 * The Host header is not part of the path. On Deno, `Request.url` is the Host header followed by
 * the request target, so a Host holding `/`, `?` or `#` used to move bytes of its own into the
 * path the edge routes and forwards: `DELETE /cus_1` with `Host: x/v2/recapture/customers`
 * deleted customer `cus_1` while request logs printed `DELETE /cus_1`. Raw TCP, because no
 * client sends such a Host.
 */
import { assert, assertEquals } from "@std/assert";
import { createAlertRelay, createRecaptureProxy } from "../../src/edge/mod.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { startUpstream } from "./_helpers.ts";

const TOKEN = "tok_host_0123456789";

async function sendWithHost(port: number, line: string, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `${line} HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${TOKEN}\r\n` +
          "content-length: 0\r\nconnection: close\r\n\r\n",
      ),
    );
    const chunks: string[] = [];
    const buf = new Uint8Array(16384);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      chunks.push(new TextDecoder().decode(buf.subarray(0, n)));
    }
    return chunks.join("");
  } finally {
    conn.close();
  }
}

Deno.test("a Host header holding a path, query or fragment is refused before any upstream call", async () => {
  const upstream = await startUpstream();
  const proxy = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    fetch: upstream.fetch,
    tokens: [{ token: TOKEN }],
    webhookSecrets: ["whsec_host"],
    alerts: createAlertRelay({ tokens: ["alert_host"], destinations: [] }),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (r) => proxy.fetch(r),
  );
  const port = server.addr.port;
  try {
    const hostile: [string, string][] = [
      ["DELETE /cus_1", "x/v2/recapture/customers"],
      ["GET /healthz", "x/v2/recapture/customers"],
      ["POST /cus_1", "x/v2/recapture/upload"],
      ["GET /v2/recapture/customers", "x#"],
      ["GET /v2/recapture/customers?region=au", "x?"],
      ["POST /alerts?token=alert_host", "x/alerts"],
      ["GET /healthz", "x\\y"],
      ["GET /healthz", "user@x"],
    ];
    for (const [line, host] of hostile) {
      const text = await sendWithHost(port, line, host);
      assert(text.startsWith("HTTP/1.1 400"), `${line} Host ${host}: ${text.slice(0, 200)}`);
      assert(text.includes('"invalid_host"'), `${line} Host ${host}: ${text}`);
    }
    assertEquals(upstream.requests.map((r) => `${r.method} ${r.path}`), []);
    // Ordinary hosts still pass.
    for (
      const host of [`127.0.0.1:${port}`, "proxy.example.com", "[::1]:8790", "PROXY.example.com."]
    ) {
      const text = await sendWithHost(port, "GET /healthz", host);
      assert(text.startsWith("HTTP/1.1 200"), `Host ${host}: ${text.slice(0, 200)}`);
    }
  } finally {
    await server.shutdown();
    await upstream.close();
  }
});
