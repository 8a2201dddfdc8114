/**
 * Bundle size as a Cloudflare Worker would ship it: each entry is bundled with
 * `deno bundle --minify --platform=browser` and gzipped with `gzip -9`. Goal: the whole core
 * (`mod.ts` itself, every export kept) ≤ 12 KiB.
 *
 *   deno run -A bench/bundle_size.ts
 *
 * Printed beside it, bundled the same way in the same run:
 *   - the same three calls (customers.list, customers.retrieve, uploads.retrieve) in a Worker
 *     written with raw fetch, with openapi-fetch, and with this SDK;
 *   - baselines: an empty Worker, valibot's parts the core uses, and a Hono "hello" Worker.
 * Exits 1 when the core is over the goal.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const WORK = `${ROOT}.recapture/bundle_size`;
const GOAL_BYTES = 12 * 1024;

const THREE_CALLS_NOTE = "customers.list, customers.retrieve, uploads.retrieve";

/** Worker entries: a path to bundle as it is, or a source written under `.recapture/bundle_size/`. */
const ENTRIES: Record<string, { path: string } | string> = {
  "core: mod.ts": { path: `${ROOT}mod.ts` },
  [`three calls (${THREE_CALLS_NOTE}): raw fetch`]:
    `const BASE = "https://api.autograb.com.au/v2/recapture";
async function call(path: string, key: string): Promise<unknown> {
  const res = await fetch(\`\${BASE}\${path}\${path.includes("?") ? "&" : "?"}region=au\`, {
    headers: { ApiKey: key, accept: "application/json" },
  });
  if (!res.ok) throw new Error(\`HTTP \${res.status}\`);
  return await res.json();
}
export default {
  async fetch(_req: Request, env: { KEY: string }) {
    return Response.json([
      await call("/customers?limit=10", env.KEY),
      await call("/customers/c1", env.KEY),
      await call("/upload/u1", env.KEY),
    ]);
  },
};`,
  [`three calls (${THREE_CALLS_NOTE}): openapi-fetch`]: `import createClient from "openapi-fetch";
// deno-lint-ignore no-explicit-any
const api = createClient<any>({ baseUrl: "https://api.autograb.com.au" });
export default {
  async fetch(_req: Request, env: { KEY: string }) {
    const headers = { ApiKey: env.KEY };
    const query = { region: "au" };
    return Response.json([
      (await api.GET("/v2/recapture/customers", { params: { query: { ...query, limit: 10 } }, headers })).data,
      (await api.GET("/v2/recapture/customers/{id}", { params: { path: { id: "c1" }, query }, headers })).data,
      (await api.GET("/v2/recapture/upload/{id}", { params: { path: { id: "u1" }, query }, headers })).data,
    ]);
  },
};`,
  [`three calls (${THREE_CALLS_NOTE}): this SDK`]: `import { RecaptureClient } from "../../mod.ts";
export default {
  async fetch(_req: Request, env: { KEY: string }) {
    const client = new RecaptureClient({ apiKey: env.KEY });
    return Response.json([
      await client.customers.list({ limit: 10 }),
      await client.customers.retrieve("c1"),
      await client.uploads.retrieve("u1"),
    ]);
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

/** The size of `bytes` after `gzip -9`. */
async function gzipSize(bytes: Uint8Array): Promise<number> {
  const gzip = new Deno.Command("gzip", { args: ["-9", "-c"], stdin: "piped", stdout: "piped" })
    .spawn();
  const writer = gzip.stdin.getWriter();
  await writer.write(bytes);
  await writer.close();
  const { success, stdout } = await gzip.output();
  if (!success) throw new Error("gzip -9 failed");
  return stdout.byteLength;
}

/** Bundles an entry (a path, or a Worker's source) minified for the browser and measures it. */
export async function measure(
  name: string,
  source: { path: string } | string,
): Promise<BundleSize> {
  const slug = name.replace(/[^a-z0-9]+/gi, "_").toLowerCase();
  const out = `${WORK}/${slug}.js`;
  let entry: string;
  if (typeof source === "string") {
    entry = `${WORK}/${slug}.ts`;
    await Deno.writeTextFile(entry, source);
  } else entry = source.path;
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
  console.log("bundle size: deno bundle --minify --platform=browser, then gzip -9");
  console.log(`${"entry".padEnd(90)} ${"minified".padStart(10)} ${"gzipped".padStart(10)}`);
  for (const [name, size] of sizes) {
    console.log(
      `${name.padEnd(90)} ${kb(size.minified).padStart(10)} ${kb(size.gzipped).padStart(10)}`,
    );
  }
  for (const [name, size] of sizes.slice(4)) {
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
