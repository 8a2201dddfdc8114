/**
 * The red-team battery: one table of hostile requests, written byte for byte onto a socket (so
 * nothing normalises the request line first), with the outcome each must get. Run against the
 * Worker example served by `Deno.serve` and by workerd (`redteam_test.ts`), and by `Bun.serve`
 * and Node (`tests/runtimes/servers_test.ts`); each must give the expected outcome, hence the same
 * one.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { signPayload } from "../../src/signature/mod.ts";
import type { Receiver, Upstream } from "./_helpers.ts";

/** What the battery knows about the deployment under test. */
export interface RedTeamContext {
  /** A full (read-write) caller token. */
  token: string;
  /** The inbound webhook secret. */
  webhookSecret: string;
  /** The alert token. */
  alertToken: string;
  /** `host:port` of the deployment, for the Host header. */
  host: string;
}

/** A request to write on the socket: the request target and the rest. */
export interface RawRequest {
  method: string;
  /** The request target exactly as written on the request line. */
  target: string;
  headers?: Record<string, string>;
  /** The body (Content-Length is added). */
  body?: string;
}

/** The outcome a case must get. */
export interface Expected {
  status: number;
  /** The JSON `code`, when the answer is an error of ours. */
  code?: string;
  /** Whether the upstream may be called (false: no request reaches it). */
  upstream: boolean;
}

/** One hostile request and the outcome it must get. */
export interface RedTeamCase {
  family: string;
  name: string;
  request(ctx: RedTeamContext): Promise<RawRequest> | RawRequest;
  expect: Expected;
}

const VIN = "1HGCM82633A004352";
const refused = (code = "invalid_path"): Expected => ({ status: 400, code, upstream: false });
const get = (target: string) => (ctx: RedTeamContext): RawRequest => ({
  method: "GET",
  target,
  headers: { authorization: `Bearer ${ctx.token}` },
});

/** Path escapes: each would reach `/v2/webhooks` (or beyond) if a runtime normalised it. */
const TRAVERSALS: [string, string][] = [
  ["single encoding", "/v2/recapture/%2e%2e/webhooks"],
  ["upper-case encoding", "/v2/recapture/%2E%2E/webhooks"],
  ["mixed encoding", "/v2/recapture/.%2e/webhooks"],
  ["mixed encoding, other half", "/v2/recapture/%2e./webhooks"],
  ["double encoding", "/v2/recapture/%252e%252e/webhooks"],
  ["double-encoded slash", "/v2/recapture/customers%252f..%252f..%252fwebhooks"],
  ["encoded slash", "/v2/recapture/..%2fwebhooks"],
  ["encoded slashes inside an id", "/v2/recapture/customers/..%2f..%2f..%2fwebhooks"],
  ["encoded backslash", "/v2/recapture/customers/..%5c..%5cwebhooks"],
  ["raw backslash", "/v2/recapture/customers\\..\\..\\webhooks"],
  ["literal dot segments", "/v2/recapture/../webhooks"],
  ["literal dot segments deeper", "/v2/recapture/customers/../../webhooks"],
  ["overlong UTF-8 dots", "/v2/recapture/%c0%ae%c0%ae/webhooks"],
  ["full-width dots", "/v2/recapture/%ef%bc%8e%ef%bc%8e/webhooks"],
  ["NUL in a segment", "/v2/recapture/customers/abc%00"],
  ["semicolon parameter", "/v2/recapture/customers/..;/webhooks"],
  ["an unknown API path", "/v2/webhooks"],
  ["an unknown path under the prefix", "/v2/recapture/webhooks"],
  ["a path one segment too deep", "/v2/recapture/upload/upl_1/customers"],
  ["an empty segment", "/v2/recapture//customers"],
  ["a trailing slash", "/v2/recapture/customers/"],
  ["an encoded letter", "/v2/recapture/%63ustomers"],
];

/** `callback_url` values that must be refused (SSRF), in every notation. */
const SSRF_URLS: [string, string][] = [
  ["metadata IP", "https://169.254.169.254/latest/meta-data"],
  ["metadata IP, decimal", "https://2852039166/"],
  ["metadata IP, hex", "https://0xa9fea9fe/"],
  ["metadata IP, octal", "https://0251.0376.0251.0376/"],
  ["metadata IP, short form", "https://169.254.43518/"],
  ["metadata IP, IPv4-mapped IPv6", "https://[::ffff:169.254.169.254]/"],
  ["metadata IP, IPv4-mapped IPv6 in hex", "https://[::ffff:a9fe:a9fe]/"],
  ["metadata name", "https://metadata.google.internal/computeMetadata/v1/"],
  ["loopback, short form", "https://127.1/"],
  ["loopback, decimal", "https://2130706433/"],
  ["loopback, hex", "https://0x7f000001/"],
  ["loopback, octal", "https://0177.0.0.1/"],
  ["loopback, another address", "https://127.0.0.2/"],
  ["loopback, IPv4-mapped IPv6", "https://[::ffff:127.0.0.1]/"],
  ["loopback name, upper case", "https://LOCALHOST/"],
  ["loopback name, trailing dot", "https://localhost./"],
  ["a .localhost name", "https://api.localhost/"],
  ["private 10/8", "https://10.0.0.1/"],
  ["private 172.16/12", "https://172.16.5.4/"],
  ["private 192.168/16", "https://192.168.1.1/"],
  ["CGNAT", "https://100.64.0.1/"],
  ["multicast", "https://224.0.0.1/"],
  ["unspecified", "https://0.0.0.0/"],
  ["unspecified IPv6", "https://[::]/"],
  ["IPv6 unique local", "https://[fd00::1]/"],
  ["IPv6 link-local with a zone id", "https://[fe80::1%25eth0]/"],
  ["a public IP literal", "https://93.184.215.14/"],
  [".internal name", "https://billing.internal/"],
  [".internal name, trailing dot and upper case", "https://BILLING.INTERNAL./"],
  ["single-label name", "https://intranet/"],
  ["plain http", "http://hooks.example.com/recapture"],
  ["a port other than 443", "https://hooks.example.com:8443/recapture"],
  ["credentials", "https://user:pass@hooks.example.com/recapture"],
  ["another scheme", "ftp://hooks.example.com/"],
  ["longer than 2048 characters", `https://hooks.example.com/${"a".repeat(70_000)}`],
];

const json = (value: unknown) => JSON.stringify(value);

async function signed(
  ctx: RedTeamContext,
  body: string,
  extra: Record<string, string> = {},
): Promise<RawRequest> {
  return {
    method: "POST",
    target: "/webhooks/customers",
    headers: {
      "content-type": "application/json",
      "recapture-signature": await signPayload(body, ctx.webhookSecret),
      ...extra,
    },
    body,
  };
}

/** The battery. */
export const RED_TEAM_CASES: RedTeamCase[] = [
  // Sanity: the routes work, so a refusal below is the rule at work, not a dead proxy.
  {
    family: "baseline",
    name: "a plain forwarded read",
    request: get("/v2/recapture/customers?limit=1"),
    expect: { status: 200, upstream: true },
  },
  ...TRAVERSALS.map(([name, target]): RedTeamCase => ({
    family: "path",
    name,
    request: get(target),
    expect: refused(),
  })),
  {
    family: "path",
    name: "traversal on a write with the full token",
    request: (ctx) => ({
      method: "POST",
      target: "/v2/recapture/%2e%2e/webhooks",
      headers: { authorization: `Bearer ${ctx.token}`, "content-type": "application/json" },
      body: json({ endpoint: "https://attacker.example/", events: ["recapture_new"] }),
    }),
    expect: refused(),
  },
  {
    family: "path",
    name: "traversal without any token is refused the same way",
    request: () => ({ method: "GET", target: "/v2/recapture/%2e%2e/webhooks" }),
    expect: refused(),
  },
  ...SSRF_URLS.map(([name, url]): RedTeamCase => ({
    family: "ssrf (forwarded upload)",
    name,
    request: (ctx) => ({
      method: "POST",
      target: "/v2/recapture/upload",
      headers: { authorization: `Bearer ${ctx.token}`, "content-type": "application/json" },
      body: json({ name: "ssrf", customers: [{ vin: VIN }], callback_url: url }),
    }),
    expect: { status: 422, code: "validation_failed", upstream: false },
  })),
  ...SSRF_URLS.slice(0, 8).map(([name, url]): RedTeamCase => ({
    family: "ssrf (signed ingest)",
    name,
    request: (ctx) => signed(ctx, json({ customers: [{ vin: VIN }], callback_url: url })),
    expect: { status: 422, code: "validation_failed", upstream: false },
  })),
  {
    family: "signature flood",
    name: "200 v1 entries (13 KB) are refused before any MAC",
    request: () => {
      const body = json({ vin: VIN, client_name: "Flood" });
      const t = Math.floor(Date.now() / 1000);
      const fake = Array.from({ length: 200 }, (_, i) => `v1=${i.toString(16).padStart(64, "0")}`);
      return {
        method: "POST",
        target: "/webhooks/customers",
        headers: { "recapture-signature": `t=${t},${fake.join(",")}` },
        body,
      };
    },
    expect: { status: 401, code: "webhook_verification_failed", upstream: false },
  },
  {
    family: "signature flood",
    name: "9 entries (one over the cap), the real one among them",
    request: async (ctx) => {
      const body = json({ vin: VIN, client_name: "Flood" });
      const real = await signPayload(body, ctx.webhookSecret);
      const fake = Array.from({ length: 8 }, () => `v1=${"0".repeat(64)}`);
      return {
        method: "POST",
        target: "/webhooks/customers",
        headers: { "recapture-signature": `${real},${fake.join(",")}` },
        body,
      };
    },
    expect: { status: 401, code: "webhook_verification_failed", upstream: false },
  },
  {
    family: "oversized body",
    name: "a declared 2 MiB forwarded body",
    request: (ctx) => ({
      method: "POST",
      target: "/v2/recapture/upload",
      headers: { authorization: `Bearer ${ctx.token}`, "content-type": "application/json" },
      body: "x".repeat(2 * 1024 * 1024),
    }),
    expect: { status: 413, code: "payload_too_large", upstream: false },
  },
  {
    family: "oversized body",
    name: "a 2 MiB signed webhook",
    request: (ctx) => signed(ctx, json({ vin: VIN, pad: "x".repeat(2 * 1024 * 1024) })),
    expect: { status: 413, code: "payload_too_large", upstream: false },
  },
  {
    family: "oversized body",
    name: "a 100 KB alert push",
    request: (ctx) => ({
      method: "POST",
      target: `/alerts?token=${ctx.alertToken}`,
      body: json({ id: "evt_big", event: "ping", pad: "x".repeat(100_000) }),
    }),
    expect: { status: 413, code: "payload_too_large", upstream: false },
  },
  {
    family: "event id",
    name: "a 600-character event id (over a Workers KV key) is accepted",
    request: (ctx) => ({
      method: "POST",
      target: `/alerts?token=${ctx.alertToken}`,
      body: json({ id: `evt_${"x".repeat(600)}`, event: "ping" }),
    }),
    expect: { status: 202, upstream: false },
  },
  {
    family: "event id",
    name: "the same 600-character id again is a duplicate",
    request: (ctx) => ({
      method: "POST",
      target: `/alerts?token=${ctx.alertToken}`,
      body: json({ id: `evt_${"x".repeat(600)}`, event: "ping" }),
    }),
    expect: { status: 200, upstream: false },
  },
  {
    family: "event id",
    name: "an id with CR/LF and non-Latin-1 characters is accepted",
    request: (ctx) => ({
      method: "POST",
      target: `/alerts?token=${ctx.alertToken}`,
      body: json({ id: ODD_ID, event: "ping" }),
    }),
    expect: { status: 202, upstream: false },
  },
  ...["GET", "PUT", "DELETE", "PATCH", "OPTIONS"].flatMap((method): RedTeamCase[] =>
    ["/alerts?token=", "/alerts/"].map((prefix) => ({
      family: "alert routes",
      name: `${method} ${prefix}<token> is not allowed (POST only)`,
      request: (ctx) => ({ method, target: `${prefix}${ctx.alertToken}` }),
      expect: { status: 405, code: "method_not_allowed", upstream: false },
    }))
  ),
  {
    family: "alert routes",
    name: "a third segment after the token",
    request: (ctx) => ({
      method: "POST",
      target: `/alerts/${ctx.alertToken}/extra`,
      body: json({ id: "evt_w", event: "ping" }),
    }),
    expect: refused(),
  },
  {
    family: "alert token",
    name: "a wrong token in the query",
    request: () => ({
      method: "POST",
      target: "/alerts?token=not-the-token",
      body: json({ id: "evt_w", event: "ping" }),
    }),
    expect: { status: 401, code: "unauthorized", upstream: false },
  },
  {
    family: "alert token",
    name: "an encoded traversal as the path token",
    request: () => ({
      method: "POST",
      target: "/alerts/%2e%2e",
      body: json({ id: "evt_w", event: "ping" }),
    }),
    expect: refused(),
  },
  {
    family: "retry",
    name: "a signed delivery (first time)",
    request: (ctx) =>
      signed(ctx, json({ vin: VIN, client_name: "Retried" }), { "idempotency-key": "dlv_1" }),
    expect: { status: 202, upstream: true },
  },
  {
    family: "retry",
    name: "the same delivery re-signed later: the first upload, not a second",
    request: (ctx) =>
      signed(ctx, json({ vin: VIN, client_name: "Retried" }), { "idempotency-key": "dlv_1" }),
    expect: { status: 200, upstream: false },
  },
];

/** What one request got. */
export interface Outcome {
  status: number;
  code?: string;
  /** The body, for failure messages. */
  body: string;
}

/** Writes a request on a fresh connection and reads the whole answer. */
export async function sendRaw(hostPort: string, req: RawRequest): Promise<Outcome> {
  const [hostname, port] = hostPort.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const body = new TextEncoder().encode(req.body ?? "");
    const lines = [
      `${req.method} ${req.target} HTTP/1.1`,
      `host: ${hostPort}`,
      "connection: close",
    ];
    for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`);
    if (req.body !== undefined) lines.push(`content-length: ${body.length}`);
    const head = new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`);
    // The server may answer (413) and close before the whole body is written.
    const write = (async () => {
      await conn.write(head);
      for (let i = 0; i < body.length; i += 65536) await conn.write(body.subarray(i, i + 65536));
    })().catch(() => {});
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    // A guard against a server that never closes (the case then fails with status 0).
    const guard = setTimeout(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    }, 20_000);
    // Read until the answer is complete (workerd keeps the connection open a while).
    while (!isComplete(concat(chunks))) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    clearTimeout(guard);
    await write;
    return parseResponse(concat(chunks));
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Whether a whole HTTP/1.1 answer is in `bytes` (by Content-Length or the last chunk). */
function isComplete(bytes: Uint8Array): boolean {
  const end = headEnd(bytes);
  if (end < 0) return false;
  const head = new TextDecoder().decode(bytes.subarray(0, end));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return bytes.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const tail = new TextDecoder().decode(bytes.subarray(Math.max(end, bytes.length - 7)));
    return tail.endsWith("\r\n0\r\n\r\n") || bytes.length - end === 9 && tail.endsWith("0\r\n\r\n");
  }
  return /^HTTP\/1\.[01] (1\d\d|204|304)/.test(head);
}

function indexOfCrlf(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  }
  return -1;
}

function parseResponse(bytes: Uint8Array): Outcome {
  const decoder = new TextDecoder();
  const split = headEnd(bytes);
  const head = decoder.decode(split < 0 ? bytes : bytes.subarray(0, split));
  let body = split < 0 ? new Uint8Array(0) : bytes.subarray(split + 4);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts: Uint8Array[] = [];
    let at = 0;
    while (true) {
      const nl = indexOfCrlf(body, at);
      if (nl < 0) break;
      const size = parseInt(decoder.decode(body.subarray(at, nl)), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
    body = concat(parts);
  }
  const text = decoder.decode(body);
  let code: string | undefined;
  try {
    const parsed = JSON.parse(text) as { code?: unknown };
    if (typeof parsed.code === "string") code = parsed.code;
  } catch { /* not JSON */ }
  return { status, code, body: text.slice(0, 300) };
}

// The battery as every server runs it (tests/edge/redteam_test.ts: Deno.serve and workerd;
// tests/runtimes/servers_test.ts: Bun.serve and Node).

const TOKEN = "tok_redteam_rw_0123456789";
const WEBHOOK_SECRET = "whsec_redteam_inbound";
const ALERT_TOKEN = "alert_redteam_0123456789abcdef";
const ALERT_SECRET = "whsec_redteam_alerts";
/** An alert id with CR/LF and non-Latin-1 characters (one case pushes it). */
export const ODD_ID = "évt_\r\nX-Injected: 1_🚗_日本";

/**
 * The Worker example's secrets and vars for the battery: the proxy fronts `upstream` with the
 * sandbox key, and the alert relay delivers to `receiver`.
 */
export function redTeamBindings(upstream: Upstream, receiver: Receiver): Record<string, string> {
  return {
    RECAPTURE_API_KEY: SANDBOX_API_KEY,
    RECAPTURE_BASE_URL: upstream.url,
    RECAPTURE_PROXY_TOKENS: TOKEN,
    RECAPTURE_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    RECAPTURE_CALLBACK_SECRET: "whsec_redteam_callback",
    RECAPTURE_ALERT_TOKENS: ALERT_TOKEN,
    RECAPTURE_ALERT_WEBHOOK_URL: `${receiver.url}/alerts`,
    RECAPTURE_ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    // The upstream and the receiver are on 127.0.0.1, written so; other loopback forms stay refused.
    RECAPTURE_DEV_ALLOW_LOOPBACK: "1",
  };
}

/** One case's outcome as the battery compares it. */
export interface Row {
  name: string;
  status: number;
  code?: string;
  reached: boolean;
}

/**
 * Runs every case against the deployment at `host` (`host:port`), one raw request each, waiting for
 * the upstream sandbox to be idle after each; answers the outcomes (compare with {@linkcode EXPECTED}).
 */
export async function runBattery(host: string, upstream: Upstream): Promise<Row[]> {
  const ctx: RedTeamContext = {
    token: TOKEN,
    webhookSecret: WEBHOOK_SECRET,
    alertToken: ALERT_TOKEN,
    host,
  };
  const rows: Row[] = [];
  for (const c of RED_TEAM_CASES) {
    const before = upstream.requests.length;
    const got = await sendRaw(host, await c.request(ctx));
    await upstream.sandbox.idle();
    rows.push({
      name: `${c.family}: ${c.name}`,
      status: got.status,
      ...(c.expect.code ? { code: got.code } : {}),
      reached: upstream.requests.length > before,
    });
    if (got.status !== c.expect.status) console.error(`${c.family}: ${c.name} -> ${got.body}`);
  }
  return rows;
}

/** Every case's expected outcome, as {@linkcode runBattery} reports it. */
export const EXPECTED: Row[] = RED_TEAM_CASES.map((c) => ({
  name: `${c.family}: ${c.name}`,
  status: c.expect.status,
  ...(c.expect.code ? { code: c.expect.code } : {}),
  reached: c.expect.upstream,
}));

/** Nothing but `/v2/recapture/` ever reached the upstream (and so nothing else with the key). */
export function assertOnlyRecapturePaths(upstream: Upstream): void {
  const outside = upstream.requests.filter((r) => !r.path.startsWith("/v2/recapture/"));
  assertEquals(outside.map((r) => `${r.method} ${r.path}`), []);
  assert(upstream.requests.length > 0, "the baseline cases reached the upstream");
}

/** The alert with the odd id arrived, its id header-safe in the header and exact in the body. */
export async function assertOddIdDelivered(receiver: Receiver): Promise<void> {
  const deliveries = await receiver.waitFor("/alerts", 2);
  const odd = deliveries.find((d) => JSON.parse(d.body).id === ODD_ID);
  assert(odd, "the alert with CR/LF and non-Latin-1 characters in its id was delivered");
  assertEquals(odd.headers["recapture-event-id"], encodeURIComponent(ODD_ID));
}
