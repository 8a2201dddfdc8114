/**
 * Bundle size of the SDK core as a Cloudflare Worker would ship it: a Worker entry is bundled
 * with `deno bundle --minify --platform=browser` and gzipped (CompressionStream "gzip", what
 * Cloudflare's size limit counts). Goal: the whole core (every export of `mod.ts` kept) ≤ 15 KB.
 *
 *   deno run -A bench/bundle_size.ts
 *
 * Printed beside it, bundled the same way in the same run:
 *   - a Worker that only lists customers (what tree-shaking leaves for a typical use);
 *   - baselines: the same Worker entry with nothing imported, valibot's parts the core uses,
 *     and a Hono "hello" Worker, with the core's size as a ratio of each.
 * Exits 1 when the core is over the goal.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const WORK = `${ROOT}.recapture/bundle_size`;
const GOAL_BYTES = 15 * 1024;

/** Worker entries, written under `.recapture/bundle_size/` (paths relative to that dir). */
const ENTRIES: Record<string, string> = {
  "core (all of mod.ts)": `import * as sdk from "../../mod.ts";
export default { fetch: () => Response.json(Object.keys(sdk)) };`,
  "core: list customers only": `import { RecaptureClient } from "../../mod.ts";
export default {
  async fetch(_req: Request, env: { KEY: string }) {
    const client = new RecaptureClient({ apiKey: env.KEY });
    return Response.json(await client.customers.list({ limit: 10 }));
  },
};`,
  "baseline: empty Worker": `export default { fetch: () => new Response("ok") };`,
  "baseline: valibot (object, string, array, pipe, safeParse)": `import * as v from "valibot";
const S = v.object({ id: v.string(), n: v.pipe(v.number(), v.integer()), xs: v.array(v.string()) });
export default { fetch: async (r: Request) => Response.json(v.safeParse(S, await r.json())) };`,
  "baseline: Hono hello Worker": `import { Hono } from "hono";
const app = new Hono();
app.get("/", (c) => c.text("hello"));
export default app;`,
};

/** Minified and gzipped byte counts of one bundle. */
export interface BundleSize {
  minified: number;
  gzipped: number;
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Bundles `source` as a Worker (minified, browser platform) and measures it. */
export async function measure(name: string, source: string): Promise<BundleSize> {
  const slug = name.replace(/[^a-z0-9]+/gi, "_").toLowerCase();
  const entry = `${WORK}/${slug}.ts`;
  const out = `${WORK}/${slug}.js`;
  await Deno.writeTextFile(entry, source);
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--minify",
      "--platform=browser",
      "--config",
      `${ROOT}deno.json`,
      entry,
      "-o",
      out,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`deno bundle ${name} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  const bytes = await Deno.readFile(out);
  const code = new TextDecoder().decode(bytes);
  if (/\bDeno\.[a-z]/.test(code)) throw new Error(`${name}: the bundle uses Deno.* APIs`);
  return { minified: bytes.byteLength, gzipped: await gzipSize(bytes) };
}

const kb = (n: number): string => `${(n / 1024).toFixed(2)} KB`;

if (import.meta.main) {
  await Deno.mkdir(WORK, { recursive: true });
  const sizes: [string, BundleSize][] = [];
  for (const [name, source] of Object.entries(ENTRIES)) {
    sizes.push([name, await measure(name, source)]);
  }
  const core = sizes[0][1];
  console.log("bundle size: deno bundle --minify --platform=browser, then gzip");
  console.log(`${"worker".padEnd(60)} ${"minified".padStart(10)} ${"gzipped".padStart(10)}`);
  for (const [name, size] of sizes) {
    console.log(
      `${name.padEnd(60)} ${kb(size.minified).padStart(10)} ${kb(size.gzipped).padStart(10)}`,
    );
  }
  for (const [name, size] of sizes.slice(3)) {
    console.log(
      `core / ${name.replace("baseline: ", "")}: ${
        (core.gzipped / size.gzipped).toFixed(1)
      }x gzipped`,
    );
  }
  const ok = core.gzipped <= GOAL_BYTES;
  console.log(
    `SDK core gzipped: ${kb(core.gzipped)} (goal <= ${kb(GOAL_BYTES)}): ${ok ? "ok" : "OVER GOAL"}`,
  );
  if (!ok) Deno.exitCode = 1;
}
