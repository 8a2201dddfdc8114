/**
 * Proxy overhead: `GET /v2/recapture/customers/{id}` through the edge proxy against a bare
 * fetch-forwarding handler, both in process, both to the same sandbox served on 127.0.0.1.
 *
 * `deno run -A bench/edge_bench.ts [iterations]` (default 20000) interleaves the bare handler,
 * the same handler on the SDK's `requestRaw` (for the breakdown) and the proxy, rotating their
 * order, and prints p50 / p99 of each and the ratios (goal: proxy/bare ≤ 1.15).
 * `deno bench -A bench/edge_bench.ts` runs the proxy and the bare handler as `Deno.bench`, the
 * bare handler as the baseline.
 */
import { RecaptureClient } from "../src/client.ts";
import { createRecaptureProxy } from "../src/edge/mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../src/sandbox/mod.ts";

const TOKEN = "tok_bench_0123456789";

interface Setup {
  proxy: (request: Request) => Promise<Response>;
  bare: (request: Request) => Promise<Response>;
  sdk: (request: Request) => Promise<Response>;
  path: string;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const sandbox = await createSandbox({ rateLimit: false });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => sandbox.fetch(req),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const created = await fetch(`${base}/v2/recapture/upload?region=au`, {
    method: "POST",
    headers: { apikey: SANDBOX_API_KEY, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench", customers: [{ vin: "1HGCM82633A004352" }] }),
  });
  const uploadId = (await created.json()).upload.id;
  await sandbox.idle();
  const list = await fetch(`${base}/v2/recapture/customers?region=au&upload_id=${uploadId}`, {
    headers: { apikey: SANDBOX_API_KEY },
  });
  const customerId = (await list.json()).customers[0].id;

  const app = createRecaptureProxy({
    apiKey: SANDBOX_API_KEY,
    baseUrl: base,
    tokens: [{ token: TOKEN }],
    replayGuard: false,
  });
  // The baseline: what a hand-written forwarder does, minus auth, limits and header hygiene.
  const bare = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (!url.searchParams.has("region")) url.searchParams.set("region", "au");
    const res = await fetch(`${base}${url.pathname}${url.search}`, {
      headers: { apikey: SANDBOX_API_KEY },
    });
    return new Response(res.body, res);
  };
  // For the breakdown: the bare forwarder, but through the SDK transport (`requestRaw`).
  const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, baseUrl: base, maxRetries: 0 });
  const sdk = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const res = await client.requestRaw(request.method, url.pathname);
    return new Response(res.body, res);
  };
  return {
    proxy: (request) => app.fetch(request),
    bare,
    sdk,
    path: `/v2/recapture/customers/${customerId}`,
    async close() {
      await server.shutdown();
      await sandbox.close();
    },
  };
}

function request(path: string): Request {
  return new Request(`http://edge.local${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
}

async function timeOne(
  handler: (request: Request) => Promise<Response>,
  path: string,
): Promise<number> {
  const start = performance.now();
  const res = await handler(request(path));
  await res.arrayBuffer();
  const elapsed = performance.now() - start;
  if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
  return elapsed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function report(iterations: number): Promise<void> {
  const s = await setup();
  try {
    const handlers = { bare: s.bare, sdk: s.sdk, proxy: s.proxy };
    const names = Object.keys(handlers) as (keyof typeof handlers)[];
    const times: Record<string, number[]> = { bare: [], sdk: [], proxy: [] };
    for (let i = 0; i < 200; i++) for (const n of names) await timeOne(handlers[n], s.path);
    for (let i = 0; i < iterations; i++) {
      // Rotate the order so no handler always follows the same one.
      for (let k = 0; k < names.length; k++) {
        const n = names[(i + k) % names.length];
        times[n].push(await timeOne(handlers[n], s.path));
      }
    }
    for (const n of names) times[n].sort((a, b) => a - b);
    const p = (n: string, q: number) => percentile(times[n], q);
    const row = (n: string, label: string) =>
      `${label.padEnd(34)} p50 ${p(n, 0.5).toFixed(3)} ms   p99 ${p(n, 0.99).toFixed(3)} ms`;
    console.log(`GET customers/{id}, ${iterations} interleaved requests each`);
    console.log(row("bare", "bare fetch forwarder (baseline)"));
    console.log(row("sdk", "bare forwarder on SDK requestRaw"));
    console.log(row("proxy", "edge proxy"));
    const ratio = (a: string, b: string, q: number) => (p(a, q) / p(b, q)).toFixed(3);
    console.log(
      `ratio proxy/bare: p50 ${ratio("proxy", "bare", 0.5)}   p99 ${
        ratio("proxy", "bare", 0.99)
      }   (goal <= 1.15)`,
    );
    console.log(
      `breakdown p50: SDK transport/bare ${ratio("sdk", "bare", 0.5)}, proxy/SDK ${
        ratio("proxy", "sdk", 0.5)
      }`,
    );
  } finally {
    await s.close();
  }
}

if (import.meta.main) {
  await report(Number(Deno.args[0] ?? 20_000));
} else {
  const s = await setup();
  Deno.bench({
    name: "bare fetch forwarder",
    group: "edge GET customers/{id}",
    baseline: true,
    fn: async () => {
      await timeOne(s.bare, s.path);
    },
  });
  Deno.bench({
    name: "edge proxy",
    group: "edge GET customers/{id}",
    fn: async () => {
      await timeOne(s.proxy, s.path);
    },
  });
  globalThis.addEventListener("unload", () => {
    s.close();
  });
}
