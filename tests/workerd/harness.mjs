// Runs the bundled Cloudflare Worker (examples/cloudflare_worker.ts) in real workerd through
// Miniflare, with a simulated Queues producer/consumer, on 127.0.0.1. Started by
// tests/edge_workerd_test.ts, which then runs the shared edge cases against it over HTTP.
//
//   node tests/workerd/harness.mjs <worker.js> <miniflare tools dir>
//   env WORKER_BINDINGS='{"RECAPTURE_API_KEY": "...", ...}'
//
// Prints "READY <url>" once serving; exits (disposing workerd) when stdin closes.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [scriptPath, toolsDir] = process.argv.slice(2);
if (!scriptPath || !toolsDir) {
  console.error("usage: node harness.mjs <worker.js> <tools dir>");
  process.exit(2);
}
const require = createRequire(join(toolsDir, "package.json"));
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);

const mf = new Miniflare({
  modules: true,
  scriptPath,
  compatibilityDate: "2026-04-01",
  host: "127.0.0.1",
  port: 0,
  cf: false,
  bindings: JSON.parse(process.env.WORKER_BINDINGS ?? "{}"),
  // Mirrors examples/wrangler.toml.
  queueProducers: { RECAPTURE_CALLBACKS: "recapture-callbacks" },
  queueConsumers: {
    "recapture-callbacks": { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 10 },
  },
});
const url = await mf.ready;
console.log(`READY ${url.href}`);

let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await mf.dispose();
  process.exit(0);
};
process.stdin.on("end", close);
process.stdin.on("close", close);
process.stdin.resume();
process.on("SIGTERM", close);
