/**
 * The same edge cases as `edge_proxy_test.ts`, run in real workerd: the Cloudflare Worker
 * example is bundled with `deno bundle`, loaded by Miniflare (npm `miniflare`, installed here
 * into `.recapture/workerd-tools` on first run) with a simulated Queues producer/consumer, and
 * driven over HTTP on 127.0.0.1. The upstream is a sandbox served by Deno on 127.0.0.1.
 *
 * Needs `node` (20+) and `npm` on PATH, as CI machines have.
 */
import { assert } from "@std/assert";
import { SANDBOX_API_KEY } from "../src/sandbox/mod.ts";
import { type CaseContext, EDGE_CASES } from "./edge_cases.ts";
import { startReceiver, startUpstream } from "./edge_helpers.ts";

/** Pinned: the last miniflare 4.x whose engines allow Node 20. */
const MINIFLARE_VERSION = "4.20260426.0";
const ROOT = new URL("..", import.meta.url).pathname;
const TOOLS = `${ROOT}.recapture/workerd-tools`;
const BUNDLE = `${ROOT}.recapture/workerd/worker.js`;

const TOKEN = "tok_rw_workerd_0123456789";
const RO_TOKEN = "tok_ro_workerd_9876543210";
const SECRETS: [string, string] = ["whsec_current_in_workerd", "whsec_previous_in_workerd"];
const CALLBACK_SECRET = "whsec_callback_in_workerd";

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${err}`);
  }
}

async function ensureMiniflare(): Promise<void> {
  try {
    const pkg = JSON.parse(
      await Deno.readTextFile(`${TOOLS}/node_modules/miniflare/package.json`),
    );
    if (pkg.version === MINIFLARE_VERSION) return;
  } catch {
    // not installed yet
  }
  await Deno.mkdir(TOOLS, { recursive: true });
  await run("npm", [
    "install",
    "--prefix",
    TOOLS,
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `miniflare@${MINIFLARE_VERSION}`,
  ]);
}

interface Harness {
  url: string;
  logs: string[];
  close(): Promise<void>;
}

async function startWorkerd(bindings: Record<string, string>): Promise<Harness> {
  const child = new Deno.Command("node", {
    args: [`${ROOT}tests/workerd/harness.mjs`, BUNDLE, TOOLS],
    cwd: ROOT,
    env: { WORKER_BINDINGS: JSON.stringify(bindings) },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  const ready = new Promise<string>((r) => resolveUrl = r);
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const lines = stream.pipeThrough(new TextDecoderStream());
    let buffer = "";
    for await (const chunk of lines) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^READY (\S+)/.exec(line);
        if (m) resolveUrl(m[1]);
        else logs.push(line);
      }
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const exited = child.status.then((s) => {
    resolveUrl("");
    return s;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    ready,
    new Promise<string>((r) => timer = setTimeout(() => r(""), 30_000)),
  ]);
  clearTimeout(timer);
  const close = async () => {
    await child.stdin.close().catch(() => {});
    await exited;
    await drained;
  };
  if (!url) {
    try {
      child.kill();
    } catch { /* already gone */ }
    await close();
    throw new Error(`workerd harness did not start:\n${logs.join("\n")}`);
  }
  return { url: url.replace(/\/$/, ""), logs, close };
}

Deno.test("edge (workerd): the Worker example under Miniflare passes the edge cases", async (t) => {
  await ensureMiniflare();
  await Deno.mkdir(`${ROOT}.recapture/workerd`, { recursive: true });
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform=browser",
    "examples/cloudflare_worker.ts",
    "-o",
    BUNDLE,
  ]);
  const bundle = await Deno.readTextFile(BUNDLE);
  assert(!/\bDeno\.[a-z]/.test(bundle), "the Worker bundle uses no Deno.* API");

  const upstream = await startUpstream();
  const receiver = startReceiver();
  let harness: Harness | undefined;
  try {
    harness = await startWorkerd({
      RECAPTURE_API_KEY: SANDBOX_API_KEY,
      RECAPTURE_BASE_URL: upstream.url,
      RECAPTURE_PROXY_TOKENS: TOKEN,
      RECAPTURE_PROXY_READONLY_TOKENS: RO_TOKEN,
      RECAPTURE_WEBHOOK_SECRETS: SECRETS.join(","),
      RECAPTURE_CALLBACK_SECRET: CALLBACK_SECRET,
      RECAPTURE_CALLBACK_ALLOW_HOSTS: "127.0.0.1",
    });
    const base = harness.url;
    const ctx: CaseContext = {
      send: (path, init) => fetch(`${base}${path}`, init),
      direct: (path, init) =>
        fetch(`${upstream.url}${path}`, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), apikey: SANDBOX_API_KEY },
        }),
      requests: upstream.requests,
      apiKey: SANDBOX_API_KEY,
      token: TOKEN,
      readOnlyToken: RO_TOKEN,
      webhookSecrets: SECRETS,
      callbackSecret: CALLBACK_SECRET,
      receiver,
      callbackTimeoutMs: 20_000,
      idle: () => upstream.sandbox.idle(),
    };
    for (const c of EDGE_CASES) {
      const ok = await t.step(c.name, () => c.fn(ctx));
      if (!ok) console.error(harness.logs.slice(-30).join("\n"));
    }
  } finally {
    await harness?.close();
    await receiver.close();
    await upstream.close();
  }
});
