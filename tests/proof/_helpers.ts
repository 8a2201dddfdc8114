/**
 * Shared fixtures of the proof suites (`tests/proof_*_test.ts`): a sandbox served on 127.0.0.1,
 * the edge proxy served in front of it, KV snapshots, hostile input generators, recognisable
 * secrets and a scanner for them.
 *
 * @module
 */
import fc from "fast-check";
import { createRecaptureProxy } from "../../src/edge/mod.ts";
import { createSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/mod.ts";

/** Case-count multiplier: `PROOF_SCALE=10` runs ten times the CI counts. */
export const SCALE: number = Math.max(1, Number(Deno.env.get("PROOF_SCALE") ?? "1") || 1);

/** Recognisable secrets: none may ever appear in an error, a log, a tool result or a response. */
export const SECRETS = {
  apiKey: "sec_PROOFKEY_4f9c1e7a2b8d6035",
  otherApiKey: "sec_PROOFOTHER_9a7e5c3b1d2f4068",
  clientSecret: "cs_PROOFCLIENTSECRET_7d1e9b3a",
  webhookSecret: "whsec_PROOFWEBHOOK_c0ffee15bad",
  proxyToken: "tok_PROOFPROXY_1b2c3d4e5f60718",
} as const;

/** Two accounts: A (all regions, with OAuth credentials) and B (au and nz only). */
export const ACCOUNTS: NonNullable<SandboxOptions["accounts"]> = [
  {
    id: "acct_a",
    apiKey: SECRETS.apiKey,
    clientId: "proof_client",
    clientSecret: SECRETS.clientSecret,
    regions: ["au", "nz", "uk", "my"],
  },
  { id: "acct_b", apiKey: SECRETS.otherApiKey, regions: ["au", "nz"] },
];

/** Every place a secret could leak, with its text. Answers the findings (empty = clean). */
export function findSecrets(texts: Iterable<string>): string[] {
  const found: string[] = [];
  const needles = Object.values(SECRETS).flatMap((s) => [s, encodeURIComponent(s), btoa(s)]);
  // The base64 of "proof_client:<secret>" (HTTP Basic) too.
  needles.push(btoa(`proof_client:${SECRETS.clientSecret}`));
  for (const text of texts) {
    for (const needle of needles) {
      if (text.includes(needle)) found.push(`${needle} in: ${text.slice(0, 200)}`);
    }
  }
  return found;
}

/** A sandbox served over HTTP on 127.0.0.1:0. */
export interface Served {
  sandbox: Sandbox;
  url: string;
  close(): Promise<void>;
}

/** Starts a sandbox (in memory unless `path` is given) on 127.0.0.1:0. */
export async function serve(options: SandboxOptions = {}): Promise<Served> {
  const sandbox = await createSandbox({ accounts: ACCOUNTS, rateLimit: false, ...options });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => sandbox.fetch(request),
  );
  return {
    sandbox,
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await server.shutdown();
      await sandbox.idle().catch(() => {});
      await sandbox.close();
    },
  };
}

/** The proxy served on 127.0.0.1:0 in front of `upstreamUrl`, holding account A's key. */
export interface ServedProxy {
  url: string;
  token: string;
  errors: unknown[];
  close(): Promise<void>;
}

/** Starts the edge proxy over HTTP in front of an upstream URL. */
export function serveProxy(upstreamUrl: string, apiKey: string = SECRETS.apiKey): ServedProxy {
  const errors: unknown[] = [];
  const proxy = createRecaptureProxy({
    apiKey,
    baseUrl: upstreamUrl,
    allowLoopbackForDevelopment: true, // the upstream is on 127.0.0.1
    tokens: [{ token: SECRETS.proxyToken }],
    webhookSecrets: [SECRETS.webhookSecret],
    maxRetries: 0,
    timeoutMs: 20_000,
    onError: (e) => errors.push(e),
    env: () => undefined,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => proxy.fetch(request),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    token: SECRETS.proxyToken,
    errors,
    async close() {
      await server.shutdown();
    },
  };
}

/** Every KV key with its versionstamp: equal snapshots mean nothing was written. */
export async function snapshot(kv: Deno.Kv): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const entry of kv.list({ prefix: [] }, { batchSize: 1000 })) {
    out.set(
      JSON.stringify(entry.key, (_k, v) => typeof v === "bigint" ? `${v}n` : v),
      entry.versionstamp,
    );
  }
  return out;
}

/** The differences between two snapshots (empty when equal). */
export function diff(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) if (before.get(k) !== v) out.push(`changed ${k}`);
  for (const k of before.keys()) if (!after.has(k)) out.push(`removed ${k}`);
  return out;
}

/** Valid AU rows with distinct regos. */
export function rows(n: number, tag = "P"): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    rego: `${tag}${i.toString(36).toUpperCase().padStart(5, "0")}`.slice(0, 9),
    state: "NSW",
    client_name: `Customer ${tag} ${i}`,
    additional_fields: { n: i },
  }));
}

/** A JSON text nested `depth` levels deep. */
export function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** Hostile strings: traversal, encodings, prototype keys, control characters, unicode, huge. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "..",
    ".",
    "../../etc/passwd",
    "..%2F..%2Fadmin",
    "%2e%2e%2f",
    "%00",
    "%",
    "%zz",
    "a/b",
    "a\\b",
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "null",
    "undefined",
    "NaN",
    "-1",
    "1e309",
    "0x10",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u0000\u0001\u001f",
    "\u202e\u200b\ufeff",
    "🚗🚙",
    "\ud800",
    "cus_",
    "upl_",
    "x".repeat(3000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.stringMatching(/^(cus|upl)_[0-9a-z_]{0,40}$/),
);

/** Any JSON-ish value, including hostile keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2, ""),
    hostileString,
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor")), tie("v"), {
      maxKeys: 4,
    }),
  ),
})).v;

/** A customer-ish row: right keys, wrong or hostile values, sometimes valid. */
export const hostileRow: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    {
      rego: fc.oneof(fc.constant("ABC123"), hostileValue),
      state: fc.oneof(fc.constantFrom("NSW", "nsw", "XX"), hostileValue),
      vin: fc.oneof(fc.constantFrom("1HGCM82633A004352", "IOQ"), hostileValue),
      client_name: hostileValue,
      mobile_number: hostileValue,
      sale_date: fc.oneof(fc.constantFrom("2024-02-29", "2023-02-29", "2024-13-01"), hostileValue),
      expiry_date: hostileValue,
      monitor_start_date: hostileValue,
      monitor_end_date: hostileValue,
      external_id: hostileValue,
      additional_fields: fc.oneof(hostileValue, fc.constant({ __proto__: { polluted: 1 } })),
      __proto__: hostileValue,
      constructor: hostileValue,
    },
    { requiredKeys: [] },
  ),
  hostileValue,
);

/** Fails the property unless `e` is a clear HTTP error answer. */
export function assertClearError(status: number, text: string, where: string): void {
  if (status >= 500) throw new Error(`${where}: ${status} ${text.slice(0, 300)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${where}: ${status} without a JSON body: ${text.slice(0, 200)}`);
  }
  const message = (body as { message?: unknown }).message;
  if ((body as { error?: unknown }).error !== true || typeof message !== "string" || !message) {
    throw new Error(`${where}: ${status} without { error: true, message }: ${text.slice(0, 200)}`);
  }
}

/** The p-th percentile (0..100) of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
