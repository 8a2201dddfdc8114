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
 *   - baselines: an empty Worker and a Hono "hello" Worker;
 *   - where the core's bytes are: its largest modules in an unminified bundle, each gzipped
 *     alone (to find what to shrink; they do not add up to the total).
 * Exits 1 when the core is over the goal. Scratch files go to a temporary folder.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const GOAL_BYTES = 12 * 1024;
/** Where the Worker sources and bundles are written (one folder per run). */
const WORK = await Deno.makeTempDir({ prefix: "recapture_bundle_size_" });

const THREE_CALLS_NOTE = "customers.list, customers.retrieve, uploads.retrieve";

/** Worker entries: a path to bundle as it is, or a source written to the scratch folder. */
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
  [`three calls (${THREE_CALLS_NOTE}): this SDK`]: `import { RecaptureClient } from "${ROOT}mod.ts";
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
  let entry: string;
  if (typeof source === "string") {
    entry = `${WORK}/${slug}.ts`;
    await Deno.writeTextFile(entry, source);
  } else entry = source.path;
  const bytes = await bundle(entry, `${WORK}/${slug}.js`, true);
  const code = new TextDecoder().decode(bytes);
  if (/\bDeno\.[a-z]/.test(code)) throw new Error(`${name}: the bundle uses Deno.* APIs`);
  return { minified: bytes.byteLength, gzipped: await gzipSize(bytes) };
}

/** `deno bundle --platform=browser` of `entry` into `out` (minified or not); the bundle's bytes. */
async function bundle(entry: string, out: string, minify: boolean): Promise<Uint8Array> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      ...(minify ? ["--minify"] : []),
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
    throw new Error(`deno bundle ${entry} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  return await Deno.readFile(out);
}

/**
 * The modules of `entry`, from an unminified bundle, where esbuild heads each module's code
 * with a `// <path>` line: each one's code gzipped alone, largest first.
 */
async function modules(entry: string): Promise<[string, number][]> {
  const text = new TextDecoder().decode(await bundle(entry, `${WORK}/modules.js`, false));
  const heads = [...text.matchAll(/^\/\/ (\S+\.m?[jt]s)$/gm)];
  const sizes: [string, number][] = [];
  for (const [i, head] of heads.entries()) {
    const code = text.slice(head.index, heads[i + 1]?.index ?? text.length);
    // An npm package by its name (`.../npm/registry.npmjs.org/hono/4.13.19/...`).
    const name = head[1].match(/\/npm\/[^/]+\/([^/]+)\//)?.[1] ?? head[1];
    sizes.push([name, await gzipSize(new TextEncoder().encode(code))]);
  }
  return sizes.sort((a, b) => b[1] - a[1]);
}

/** Kibibytes (1024 bytes), written `KB` as in docs/performance.md. */
const kb = (n: number): string => `${(n / 1024).toFixed(2)} KB`;

if (import.meta.main) {
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
  const largest = (await modules(`${ROOT}mod.ts`)).slice(0, 10);
  console.log(
    `largest modules of the core (unminified, each gzipped alone): ${
      largest.map(([name, bytes]) => `${name.replace(/^src\/sdk\//, "")} ${kb(bytes)}`).join(", ")
    }`,
  );
  await Deno.remove(WORK, { recursive: true });
  const ok = core.gzipped <= GOAL_BYTES;
  console.log(
    `SDK core gzipped: ${kb(core.gzipped)} = ${core.gzipped} B (goal <= ${
      kb(GOAL_BYTES)
    } = ${GOAL_BYTES} B): ${ok ? "ok" : "OVER GOAL"}`,
  );
  if (!ok) Deno.exitCode = 1;
}
