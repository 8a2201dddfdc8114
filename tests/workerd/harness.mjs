// Runs a bundled Worker in real workerd through Miniflare, on 127.0.0.1. Started by
// startWorkerd() in tests/_miniflare.ts (the edge adapter's workerd suites, the runtime matrix).
//
//   node tests/workerd/harness.mjs <miniflare tools dir>
//   env MINIFLARE_OPTIONS='{"scriptPath": "...", "bindings": {...}, "kvNamespaces": [...], ...}'
//
// Prints "READY <url>" once serving; exits (disposing workerd) when stdin closes.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [toolsDir] = process.argv.slice(2);
const options = JSON.parse(process.env.MINIFLARE_OPTIONS ?? "{}");
if (!toolsDir || !options.scriptPath) {
  console.error("usage: MINIFLARE_OPTIONS='{\"scriptPath\": ...}' node harness.mjs <tools dir>");
  process.exit(2);
}
const require = createRequire(join(resolve(toolsDir), "package.json"));
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);

const mf = new Miniflare({
  scriptPath: options.scriptPath,
  bindings: options.bindings ?? {},
  kvNamespaces: options.kvNamespaces,
  queueProducers: options.queueProducers,
  queueConsumers: options.queueConsumers,
  modules: true,
  compatibilityDate: "2026-04-01",
  compatibilityFlags: options.compatibilityFlags,
  host: "127.0.0.1",
  port: 0,
  cf: false,
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
