/**
 * The runtime matrix: the smoke suite (`tests/runtimes/_smoke.ts`, every client operation) runs on
 * Deno (the source), on Node 20 (system `node`), Node 22 (`toolDir("node22")`) and Bun
 * (`toolDir("bun")`) (the SDK core bundled by `deno bundle --platform=browser`, run by
 * `_node_run.mjs`), and in workerd under Miniflare, each against a real sandbox served by Deno on
 * 127.0.0.1. A failed check on any runtime fails the test; each runtime must say which it is.
 *
 * Needs `node` (20+) on PATH, as CI machines have, and the tools `deno task setup` installs.
 */
import { assert, assertEquals } from "@std/assert";
import { createSandbox } from "../../src/sandbox/mod.ts";
import {
  holdLaterChunks,
  runSmoke,
  SMOKE_ACCOUNTS,
  SMOKE_CHUNK_SIZE,
  type SmokeReport,
} from "./_smoke.ts";
import { bundleWorker, startWorkerd } from "../_miniflare.ts";
import { BUN, NODE_20, NODE_22 } from "./_runtimes.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** How many checks the suite has: a runtime that silently ran fewer fails. */
const EXPECTED_CHECKS = 16;

interface Upstream {
  url: string;
  unreachable: string;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const hold = holdLaterChunks();
  const sandbox = await createSandbox({
    accounts: SMOKE_ACCOUNTS,
    chunkSize: SMOKE_CHUNK_SIZE,
    beforeChunk: hold.beforeChunk,
    // Alert pushes (the webhooks check pings) are answered here, never sent anywhere.
    pushFetch: () => Promise.resolve(new Response("ok")),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => sandbox.fetch(request),
  );
  // A port that was free a moment ago and has no listener now.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    unreachable: `http://127.0.0.1:${freePort}`,
    async close() {
      await server.shutdown();
      hold.release();
      await sandbox.idle();
      await sandbox.close();
    },
  };
}

/** The smoke Worker, bundled once per run as a Worker would ship it. */
const bundle = (): Promise<string> => bundleWorker("tests/runtimes/_worker.ts", "smoke_worker");

/** Runs `<runtime> <args>` (Node or Bun) and parses the report it prints. */
async function nodeReport(runtime: string, args: string[]): Promise<SmokeReport> {
  const out = await new Deno.Command(runtime, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  const line = stdout.split("\n").findLast((l) => l.startsWith("{"));
  if (!line) {
    throw new Error(`${runtime} ${args[0]} printed no report (exit ${out.code}):\n${stderr}`);
  }
  const report = JSON.parse(line) as SmokeReport;
  if (!out.success && report.failed === 0) {
    throw new Error(`${runtime} ${args[0]} exited ${out.code}:\n${stderr}`);
  }
  return report;
}

function expectAllPassed(report: SmokeReport, runtime: RegExp): void {
  const failures = report.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`);
  assertEquals(failures, [], `failed checks on ${report.runtime}`);
  assertEquals(report.results.length, EXPECTED_CHECKS, "checks run");
  assertEquals(report.passed, EXPECTED_CHECKS, "checks passed");
  assert(runtime.test(report.runtime), `ran on ${report.runtime}, expected ${runtime}`);
}

async function withUpstream(fn: (upstream: Upstream) => Promise<void>): Promise<void> {
  const upstream = await startUpstream();
  try {
    await fn(upstream);
  } finally {
    await upstream.close();
  }
}

Deno.test("runtime matrix: Deno runs every client operation against a served sandbox", async () => {
  await withUpstream(async (up) => {
    const report = await runSmoke({ baseUrl: up.url, unreachableUrl: up.unreachable });
    expectAllPassed(report, /^Deno\//);
  });
});

for (const { label, exec, reports } of [NODE_20, NODE_22, BUN]) {
  Deno.test(`runtime matrix: ${label} runs the bundled SDK core (deno bundle --platform=browser)`, async () => {
    const file = await bundle();
    await withUpstream(async (up) => {
      const report = await nodeReport(exec(), [
        `${ROOT}tests/runtimes/_node_run.mjs`,
        file,
        up.url,
        up.unreachable,
      ]);
      expectAllPassed(report, reports);
    });
  });
}

Deno.test("runtime matrix: workerd (Miniflare) runs the bundled SDK core as a Worker", async () => {
  const script = await bundle();
  await withUpstream(async (up) => {
    const worker = await startWorkerd({
      script,
      bindings: { UPSTREAM_URL: up.url, UNREACHABLE_URL: up.unreachable },
    });
    try {
      const res = await fetch(`${worker.url}/`);
      const text = await res.text();
      if (!text.startsWith("{")) {
        throw new Error(`workerd answered ${res.status}: ${text}\n${worker.logs.join("\n")}`);
      }
      expectAllPassed(JSON.parse(text) as SmokeReport, /^Cloudflare-Workers$/);
    } finally {
      await worker.close();
    }
  });
});
