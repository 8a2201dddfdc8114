// Runs the bundled alert-relay Worker (examples/cloudflare_alerts_worker.ts) in real workerd
// through Miniflare, with a KV namespace ALERT_IDS, on 127.0.0.1. Started by
// tests/edge_alerts_workerd_test.ts.
//
//   node tests/workerd/alerts_harness.mjs <worker.js> <miniflare tools dir>
//   env WORKER_BINDINGS='{"RECAPTURE_ALERT_TOKENS": "...", ...}'
//
// Prints "READY <url>" once serving; exits (disposing workerd) when stdin closes.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [scriptPath, toolsDir] = process.argv.slice(2);
if (!scriptPath || !toolsDir) {
  console.error("usage: node alerts_harness.mjs <worker.js> <tools dir>");
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
  kvNamespaces: ["ALERT_IDS"],
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
