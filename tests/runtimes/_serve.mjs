// Serves a bundled Worker module (`export default { fetch(request, env, ctx) }`, bundled by deno
// bundle --platform=browser) on 127.0.0.1 with the runtime's own server: `Bun.serve` on Bun,
// `@hono/node-server` on Node. Started by startHarness() in tests/_miniflare.ts
// (tests/runtimes/servers_test.ts).
//
//   node tests/runtimes/_serve.mjs <bundle.js> <hono_node_server tools dir>
//   bun  tests/runtimes/_serve.mjs <bundle.js>
//   env WORKER_BINDINGS='{"RECAPTURE_API_KEY": "...", ...}'   (the Worker's vars and secrets)
//
// The Worker also gets a `RECAPTURE_CALLBACKS` queue producer that accepts and drops messages, and
// a `ctx.waitUntil` whose work is awaited before exit. Prints "READY <url>" once serving; exits
// when stdin closes.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [bundle, nodeServerDir] = process.argv.slice(2);
if (!bundle) {
  console.error("usage: WORKER_BINDINGS='{...}' node|bun _serve.mjs <bundle.js> [<tools dir>]");
  process.exit(2);
}
const { default: worker } = await import(pathToFileURL(bundle).href);
const env = {
  ...JSON.parse(process.env.WORKER_BINDINGS ?? "{}"),
  RECAPTURE_CALLBACKS: { send: () => Promise.resolve() },
};
const pending = new Set();
const ctx = {
  waitUntil(promise) {
    const done = Promise.resolve(promise).catch(() => {}).finally(() => pending.delete(done));
    pending.add(done);
  },
};
const handle = (request) => worker.fetch(request, env, ctx);

let url;
let stop;
if (typeof Bun !== "undefined") {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  url = `http://127.0.0.1:${server.port}`;
  stop = () => server.stop(true);
} else {
  const entry = join(nodeServerDir, "node_modules/@hono/node-server/dist/index.mjs");
  const { serve } = await import(pathToFileURL(entry).href);
  const port = await new Promise((resolve) => {
    const server = serve(
      { fetch: handle, hostname: "127.0.0.1", port: 0 },
      (info) => resolve(info.port),
    );
    stop = () => server.close();
  });
  url = `http://127.0.0.1:${port}`;
}
console.log(`READY ${url}`);

process.stdin.on("end", async () => {
  while (pending.size > 0) await Promise.all([...pending]);
  await stop();
  process.exit(0);
});
process.stdin.resume();
