// Runs the bundled smoke Worker (tests/runtime/worker.ts) in real workerd through Miniflare, no
// port (dispatchFetch). Prints the JSON report on stdout; exits 1 when a check failed.
//
//   node tests/runtime/workerd_run.mjs <bundle.js> <miniflare tools dir> <upstream> <unreachable>
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [scriptPath, toolsDir, upstream, unreachable] = process.argv.slice(2);
if (!scriptPath || !toolsDir || !upstream || !unreachable) {
  console.error("usage: node workerd_run.mjs <bundle.js> <tools dir> <upstream> <unreachable>");
  process.exit(2);
}
const require = createRequire(join(resolve(toolsDir), "package.json"));
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);

const mf = new Miniflare({
  modules: true,
  scriptPath,
  compatibilityDate: "2026-04-01",
  cf: false,
  bindings: { UPSTREAM_URL: upstream, UNREACHABLE_URL: unreachable },
});
let status = 1;
try {
  const res = await mf.dispatchFetch("http://smoke/");
  console.log(await res.text());
  status = res.status === 200 ? 0 : 1;
} finally {
  await mf.dispose();
}
process.exit(status);
