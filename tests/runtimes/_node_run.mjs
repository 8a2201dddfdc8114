// Runs the bundled smoke Worker (tests/runtimes/_worker.ts, bundled by deno bundle
// --platform=browser) on Node or Bun: imports the bundle and calls its fetch once. Prints the JSON
// report on stdout; exits 1 when a check failed.
//
//   node tests/runtimes/_node_run.mjs <bundle.js> <upstream url> <unreachable url>
import { pathToFileURL } from "node:url";

const [bundle, upstream, unreachable] = process.argv.slice(2);
if (!bundle || !upstream || !unreachable) {
  console.error("usage: node node_run.mjs <bundle.js> <upstream url> <unreachable url>");
  process.exit(2);
}
const { default: worker } = await import(pathToFileURL(bundle).href);
const res = await worker.fetch(new Request("http://smoke/"), {
  UPSTREAM_URL: upstream,
  UNREACHABLE_URL: unreachable,
});
console.log(await res.text());
process.exit(res.status === 200 ? 0 : 1);
