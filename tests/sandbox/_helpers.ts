/**
 * Helpers for the sandbox tests: a raw-request function over a sandbox's `fetch`, and KV
 * inspection.
 *
 * @module
 */
import { createSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/mod.ts";
import type { CustomerRecord, UploadView } from "../../src/sandbox/_types.ts";

/** Two accounts: A licensed for au and nz, B for au only; C for uk. */
export const ACCOUNTS = [
  {
    id: "acct_a",
    apiKey: "sec_key_a",
    clientId: "client_a",
    clientSecret: "secret_a",
    regions: ["au" as const, "nz" as const],
  },
  { id: "acct_b", apiKeys: ["sec_key_b", "sec_key_b2"], regions: ["au" as const] },
  { id: "acct_c", apiKey: "sec_key_c", regions: ["uk" as const] },
];

/** A sandbox with the test accounts (in memory unless `path` is given). */
export function testSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return createSandbox({ accounts: ACCOUNTS, sweepIntervalMs: false, ...options });
}

/** Every body the sandbox answers, as one loose shape. */
export interface Body {
  error?: boolean;
  message?: string;
  detail?: string;
  success?: boolean;
  upload?: UploadView;
  customer?: CustomerRecord;
  customers?: CustomerRecord[];
  total?: number;
  offset?: number;
  limit?: number;
  access_token?: string;
  expires_in?: number;
  token_type?: string;
  scope?: string;
}

/** A response read: status, headers and the JSON body. */
export interface Answer {
  status: number;
  headers: Headers;
  body: Body;
}

/** Sends a request to the sandbox in process. */
export async function call(
  sandbox: Sandbox,
  method: string,
  path: string,
  init: { key?: string | null; body?: unknown; raw?: BodyInit; headers?: Record<string, string> } =
    {},
): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set("ApiKey", init.key ?? "sec_key_a");
  let body: BodyInit | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    if (!headers.has("content-type")) headers.set("Content-Type", "application/json");
  }
  const response = await sandbox.fetch(
    new Request(`http://sandbox${path}`, { method, headers, body }),
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** Every key in the sandbox's KV under a part name (`"upload"`, `"chunk"`, `"cust"`, ...). */
export async function kvKeys(sandbox: Sandbox, part: string): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for await (const entry of sandbox.kv.list({ prefix: ["rc", part] })) out.push(entry.key);
  return out;
}

/** `n` valid AU customers with distinct regos. */
export function customers(n: number, from = 0): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, k) => ({
    rego: `TST${String(from + k).padStart(4, "0")}`,
    state: "NSW",
    client_name: `Customer ${from + k}`,
  }));
}

/** A sandbox served by `src/sandbox/serve.ts` in a subprocess (for crash tests). */
export interface SandboxChild {
  process: Deno.ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Resolves when the child's stdout is closed. */
  drained: Promise<void>;
}

/** Starts `deno task sandbox`'s server on `path` (port 0, chunks of 100) and waits until it listens. */
export async function startSandboxProcess(path: string): Promise<SandboxChild> {
  const root = new URL("../../", import.meta.url);
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("deno.json", root).pathname,
      new URL("src/sandbox/serve.ts", root).pathname,
      "--port",
      "0",
      "--path",
      path,
      "--chunk-size",
      "100",
    ],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the sandbox exited before listening: ${text}`);
    text += value;
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
    if (m) {
      // Keep draining stdout so the child never blocks on a full pipe.
      const drained = (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* killed */ }
      })();
      return { process, url: m[1], drained };
    }
  }
}
