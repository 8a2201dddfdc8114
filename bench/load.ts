/**
 * Load: the sandbox, and the edge proxy in front of it, served on 127.0.0.1 and driven by
 * concurrent Deno clients (a bounded loop: at most `requests` requests or `seconds` seconds per
 * target), mixing uploads, status polls and customer reads. Reports throughput, p50/p99 latency,
 * the proxy/direct throughput ratio (the direct run is the baseline, same process), and checks
 * afterwards that every accepted customer was stored exactly once and the counters add up. A
 * last phase drives a rate-limited sandbox (directly and through the proxy) past its limit:
 * every refusal is a 429 with `Rate-Limit-*` and `Retry-After` headers, never an error.
 *
 * Run: `deno task load [clients] [seconds] [requests]` (defaults 32, 10, 20000);
 * `tests/proof/load_test.ts` runs it with small bounded counts.
 *
 * @module
 */
import { createRecaptureProxy } from "../src/edge/mod.ts";
import { createSandbox, type Sandbox } from "../src/sandbox/mod.ts";

const KEY = "sec_LOADKEY_0123456789";
const TOKEN = "tok_LOADPROXY_0123456789";
const ACCOUNTS = [{ id: "acct_load", apiKey: KEY, regions: ["au" as const] }];

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  /** Concurrent clients. */
  clients: number;
  /** Time bound per target, in seconds. */
  seconds: number;
  /** Request bound per target. */
  requests: number;
  /** Customers per upload. */
  rowsPerUpload?: number;
}

/** Figures for one target. */
export interface LoadFigures {
  /** The sandbox directly, or the proxy in front of it. */
  target: "sandbox" | "proxy";
  /** Requests completed. */
  requests: number;
  /** Wall time of the run. */
  seconds: number;
  /** Requests per second. */
  throughput: number;
  /** Median latency. */
  p50Ms: number;
  /** 99th percentile latency. */
  p99Ms: number;
  /** Requests per kind (upload, status, list, get). */
  byKind: Record<string, number>;
  /** Requests per HTTP status (0 = no answer). */
  statuses: Record<string, number>;
  /** 5xx answers and network failures. */
  failures: number;
  /** Uploads answered 201. */
  uploadsAccepted: number;
  /** Customers in those uploads. */
  customersAccepted: number;
  /** Customers found stored afterwards. */
  customersStored: number;
  /** Accepted customers not stored. */
  lost: number;
  /** Customers stored more than once. */
  duplicated: number;
  /** Upload counters, list totals and the account total all agree. */
  countersOk: boolean;
}

/** Figures of the rate-limit phase. */
export interface RateLimitFigures {
  /** The sandbox directly, or the proxy in front of it. */
  target: "sandbox" | "proxy";
  /** Requests sent at once. */
  sent: number;
  /** Answered 200. */
  ok: number;
  /** Answered 429. */
  limited: number;
  /** Anything else, or no answer. */
  failures: number;
  /** Every answer had correct `Rate-Limit-*` headers, and each 429 a `Retry-After`. */
  headersOk: boolean;
}

interface Served {
  sandbox: Sandbox;
  url: string;
  headers: Record<string, string>;
  close(): Promise<void>;
}

async function start(
  target: "sandbox" | "proxy",
  rateLimit: { limit: number; windowMs: number } | false,
): Promise<Served> {
  // A rate-limited run holds the clock still, so a burst never straddles two windows.
  const frozen = new Date();
  const sandbox = await createSandbox({
    accounts: ACCOUNTS,
    rateLimit,
    chunkSize: 100,
    now: rateLimit ? () => frozen : undefined,
  });
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (r) => sandbox.fetch(r),
  );
  const upstreamUrl = `http://127.0.0.1:${upstream.addr.port}`;
  let front: Deno.HttpServer | null = null;
  if (target === "proxy") {
    const proxy = createRecaptureProxy({
      apiKey: KEY,
      baseUrl: upstreamUrl,
      allowLoopbackForDevelopment: true, // the upstream is on 127.0.0.1
      tokens: [{ token: TOKEN }],
      maxRetries: 0,
      env: () => undefined,
    });
    front = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.fetch);
  }
  return {
    sandbox,
    url: front ? `http://127.0.0.1:${(front.addr as Deno.NetAddr).port}` : upstreamUrl,
    headers: front ? { Authorization: `Bearer ${TOKEN}` } : { ApiKey: KEY },
    async close() {
      await front?.shutdown();
      await upstream.shutdown();
      await sandbox.idle().catch(() => {});
      await sandbox.close();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Runs the mixed load against one target and verifies the store afterwards.
 *
 * @example
 * ```ts
 * import { loadTarget } from "./load.ts";
 * const f = await loadTarget("sandbox", { clients: 4, seconds: 1, requests: 100 });
 * console.log(f.throughput, f.lost, f.duplicated);
 * ```
 */
export async function loadTarget(
  target: "sandbox" | "proxy",
  options: LoadOptions,
): Promise<LoadFigures> {
  const served = await start(target, false);
  const rowsPerUpload = options.rowsPerUpload ?? 20;
  const latencies: number[] = [];
  const byKind: Record<string, number> = { upload: 0, status: 0, list: 0, get: 0 };
  const statuses: Record<string, number> = {};
  const accepted = new Map<string, string[]>(); // upload id -> regos
  const customerIds: string[] = [];
  let failures = 0;
  let sent = 0;
  let seq = 0;
  const deadline = performance.now() + options.seconds * 1000;
  const json = { ...served.headers, "Content-Type": "application/json" };
  const base = `${served.url}/v2/recapture`;

  const one = async (worker: number): Promise<void> => {
    const r = Math.random();
    const uploads = [...accepted.keys()];
    let kind: string;
    let request: Request;
    if (r < 0.2 || uploads.length === 0) {
      kind = "upload";
      const tag = `L${worker.toString(36)}X${(seq++).toString(36)}`.toUpperCase();
      const regos = Array.from({ length: rowsPerUpload }, (_, i) => `${tag}R${i}`);
      request = new Request(`${base}/upload?region=au`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({
          name: tag,
          customers: regos.map((rego) => ({ rego, state: "NSW" })),
        }),
      });
      (request as Request & { regos?: string[] }).regos = regos;
    } else if (r < 0.55) {
      kind = "status";
      const id = uploads[Math.floor(Math.random() * uploads.length)];
      request = new Request(`${base}/upload/${id}?region=au`, { headers: served.headers });
    } else if (r < 0.8 || customerIds.length === 0) {
      kind = "list";
      const id = uploads[Math.floor(Math.random() * uploads.length)];
      request = new Request(`${base}/customers?region=au&limit=50&upload_id=${id}`, {
        headers: served.headers,
      });
    } else {
      kind = "get";
      const id = customerIds[Math.floor(Math.random() * customerIds.length)];
      request = new Request(`${base}/customers/${id}?region=au`, { headers: served.headers });
    }
    const regos = (request as Request & { regos?: string[] }).regos;
    const t0 = performance.now();
    let status = 0;
    let body: Record<string, unknown> | null = null;
    try {
      const response = await fetch(request, { signal: AbortSignal.timeout(30_000) });
      body = await response.json();
      status = response.status;
    } catch {
      failures++;
    }
    latencies.push(performance.now() - t0);
    byKind[kind]++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status >= 500) failures++;
    if (kind === "upload" && status === 201 && regos) {
      accepted.set((body?.upload as { id: string }).id, regos);
    }
    if (kind === "list" && status === 200 && customerIds.length < 5000) {
      for (const c of body?.customers as { id: string }[]) customerIds.push(c.id);
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: options.clients }, async (_, worker) => {
    while (sent < options.requests && performance.now() < deadline) {
      sent++;
      await one(worker);
    }
  }));
  const seconds = (performance.now() - started) / 1000;

  // Verification: every accepted customer stored exactly once, the counters add up.
  await served.sandbox.idle();
  let stored = 0;
  let lost = 0;
  let duplicated = 0;
  let countersOk = true;
  const seen = new Set<string>();
  for (const [uploadId, regos] of accepted) {
    const res = await served.sandbox.fetch(
      new Request(`http://x/v2/recapture/customers?region=au&limit=1000&upload_id=${uploadId}`, {
        headers: { ApiKey: KEY },
      }),
    );
    const page = await res.json() as { customers: { id: string; rego: string }[]; total: number };
    const got = new Set<string>();
    for (const c of page.customers) {
      if (got.has(c.rego) || seen.has(c.id)) duplicated++;
      got.add(c.rego);
      seen.add(c.id);
      stored++;
    }
    for (const rego of regos) if (!got.has(rego)) lost++;
    const view = (await (await served.sandbox.fetch(
      new Request(`http://x/v2/recapture/upload/${uploadId}?region=au`, {
        headers: { ApiKey: KEY },
      }),
    )).json()).upload;
    if (
      view.total_uploaded_customers !== regos.length ||
      view.total_processed_customers !== regos.length || view.total_errors !== 0 ||
      page.total !== regos.length
    ) countersOk = false;
  }
  const all = await (await served.sandbox.fetch(
    new Request(`http://x/v2/recapture/customers?region=au&limit=1`, { headers: { ApiKey: KEY } }),
  )).json();
  const customersAccepted = [...accepted.values()].reduce((n, r) => n + r.length, 0);
  if (all.total !== customersAccepted) countersOk = false;
  await served.close();
  latencies.sort((a, b) => a - b);
  return {
    target,
    requests: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    byKind,
    statuses,
    failures,
    uploadsAccepted: accepted.size,
    customersAccepted,
    customersStored: stored,
    lost,
    duplicated,
    countersOk,
  };
}

/**
 * Drives a sandbox limited to `limit` requests a minute with `limit * 2` concurrent reads.
 *
 * @example
 * ```ts
 * import { rateLimitPhase } from "./load.ts";
 * const l = await rateLimitPhase("proxy", 10);
 * console.log(l.ok, l.limited, l.headersOk); // 10 10 true
 * ```
 */
export async function rateLimitPhase(
  target: "sandbox" | "proxy",
  limit: number,
): Promise<RateLimitFigures> {
  const served = await start(target, { limit, windowMs: 60_000 });
  const sent = limit * 2;
  let ok = 0;
  let limited = 0;
  let failures = 0;
  let headersOk = true;
  const now = Date.now() / 1000;
  await Promise.all(Array.from({ length: sent }, async () => {
    try {
      const r = await fetch(`${served.url}/v2/recapture/customers?region=au&limit=1`, {
        headers: served.headers,
      });
      const body = await r.json();
      const total = r.headers.get("rate-limit-total");
      const remaining = r.headers.get("rate-limit-remaining");
      const reset = Number(r.headers.get("rate-limit-reset"));
      if (total !== String(limit) || remaining === null || !(reset >= now - 60)) headersOk = false;
      if (r.status === 200) ok++;
      else if (r.status === 429) {
        limited++;
        if (remaining !== "0" || !(Number(r.headers.get("retry-after")) >= 1)) headersOk = false;
        if (body.error !== true || typeof body.message !== "string") headersOk = false;
      } else failures++;
    } catch {
      failures++;
    }
  }));
  await served.close();
  return { target, sent, ok, limited, failures, headersOk };
}

/**
 * Runs both targets and the rate-limit phase.
 *
 * @example
 * ```ts
 * import { runLoad } from "./load.ts";
 * const { direct, proxied } = await runLoad({ clients: 4, seconds: 1, requests: 100 });
 * console.log(proxied.throughput / direct.throughput);
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<{
  direct: LoadFigures;
  proxied: LoadFigures;
  limits: RateLimitFigures[];
}> {
  const direct = await loadTarget("sandbox", options);
  const proxied = await loadTarget("proxy", options);
  const limits = [
    await rateLimitPhase("sandbox", Math.max(10, Math.floor(options.requests / 20))),
    await rateLimitPhase("proxy", Math.max(10, Math.floor(options.requests / 20))),
  ];
  return { direct, proxied, limits };
}

/**
 * One line of figures per target.
 *
 * @example
 * ```ts
 * import { formatFigures, loadTarget } from "./load.ts";
 * console.log(formatFigures(await loadTarget("sandbox", { clients: 2, seconds: 1, requests: 20 })));
 * ```
 */
export function formatFigures(f: LoadFigures): string {
  return `${f.target.padEnd(7)} ${f.requests} requests in ${f.seconds.toFixed(2)} s = ` +
    `${f.throughput.toFixed(0)} req/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${
      f.p99Ms.toFixed(2)
    } ms; ` +
    `mix ${JSON.stringify(f.byKind)}; statuses ${JSON.stringify(f.statuses)}; ` +
    `${f.failures} failures; ${f.uploadsAccepted} uploads / ${f.customersAccepted} customers ` +
    `accepted, ${f.customersStored} stored, ${f.lost} lost, ${f.duplicated} duplicated, ` +
    `counters ${f.countersOk ? "add up" : "DO NOT add up"}`;
}

if (import.meta.main) {
  const clients = Number(Deno.args[0] ?? 32);
  const seconds = Number(Deno.args[1] ?? 10);
  const requests = Number(Deno.args[2] ?? 20_000);
  console.log(`load: ${clients} clients, at most ${seconds} s and ${requests} requests per target`);
  const { direct, proxied, limits } = await runLoad({ clients, seconds, requests });
  console.log(formatFigures(direct));
  console.log(formatFigures(proxied));
  console.log(
    `proxy/direct throughput ratio ${(proxied.throughput / direct.throughput).toFixed(2)} ` +
      `(direct sandbox = baseline, same process)`,
  );
  for (const l of limits) {
    console.log(
      `rate limit (${l.target}): ${l.sent} sent, ${l.ok} ok, ${l.limited} x 429, ` +
        `${l.failures} failures, headers ${l.headersOk ? "correct" : "WRONG"}`,
    );
  }
  const bad = [direct, proxied].some((f) =>
    f.lost || f.duplicated || f.failures || !f.countersOk
  ) || limits.some((l) => l.failures || !l.headersOk);
  if (bad) Deno.exit(1);
}
