/**
 * Facts that prose, help and JSDoc write out by hand, held to their one home in code (code
 * derives its copies; these tests cover the text that cannot, and the facts whose home the code
 * cannot import): every list of the regions, the AU states, every limit the docs give a figure
 * for, and the API's largest page wherever it is bounded.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { AU_STATES, RecaptureClient, REGIONS, UPLOAD_BODY_LIMIT_BYTES } from "../mod.ts";
import { MAX_ADDITIONAL_DEPTH } from "../src/sdk/validate.ts";
import { DEFAULT_MAX_RECORD_LENGTH } from "../src/import/csv.ts";
import { createSandbox, SANDBOX_API_KEY } from "../src/sandbox/mod.ts";
import { MAX_CHUNK_SIZE } from "../src/sandbox/_store.ts";
import { MAX_ADDITIONAL_BYTES } from "../src/sandbox/_input.ts";
import { MAX_SIGHTINGS } from "../src/sandbox/_market.ts";
import { MAX_SUBSCRIPTIONS } from "../src/sandbox/_alert_subscriptions.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../src/edge/_runtime.ts";
import { MAX_ALERT_BODY_BYTES } from "../src/edge/alerts/mod.ts";
import { NUMBER_FLAGS } from "../src/cli/_commands.ts";
import {
  API_PAGE_MAX,
  MAX_CSV_CHARS,
  MAX_LIST_LIMIT,
  MAX_LIST_RESULT_CHARS,
  MAX_UPLOAD_ROWS,
  MAX_WAIT_SECONDS,
} from "../mcp/tools/_tool.ts";
import { MAX_MATCHES, MAX_SCANNED } from "../mcp/tools/find.ts";
import { MAX_SCRIPT_SECONDS } from "../mcp/code/mod.ts";
import { DEFAULT_LIMITS, MAX_CONCURRENT_RUNS } from "../mcp/code/_runner.ts";

const ROOT = new URL("../", import.meta.url);

/** Where text is read from: the docs, the README, and the source and examples beside the code. */
const PLACES = ["README.md", "docs/", "examples/", "src/", "mcp/", "bench/"];
/** The regions' home, where the list is written once. */
const HOME = "src/sdk/schemas.ts";

/** Every text file under `PLACES`, as `[path from the root, text]`. */
async function* texts(): AsyncGenerator<[string, string]> {
  async function* walk(dir: URL, path: string): AsyncGenerator<[string, string]> {
    for await (const entry of Deno.readDir(dir)) {
      const child = path + entry.name;
      if (entry.isDirectory) yield* walk(new URL(entry.name + "/", dir), child + "/");
      else if (/\.(ts|md|json)$/.test(entry.name)) {
        yield [child, await Deno.readTextFile(new URL(entry.name, dir))];
      }
    }
  }
  for (const place of PLACES) {
    if (place.endsWith("/")) yield* walk(new URL(place, ROOT), place);
    else yield [place, await Deno.readTextFile(new URL(place, ROOT))];
  }
}

/** A two-letter code, bare or quoted (any: a list that drifted may name one REGIONS lacks). */
const CODE = `["'\`]?\\b[a-z]{2}\\b["'\`]?`;
/** Codes joined by `|` (a placeholder), or a list of three or more (meant as all of them). */
const LIST = new RegExp(
  `${CODE}(?:\\|${CODE})+|${CODE}(?:(?:, |, or |, and | or | and )${CODE}){2,}`,
  "g",
);

/**
 * Each list of regions in `text` that is not `regions` in order, as `line: list`. A list of
 * two-letter words counts as one of regions when at least two of them are regions.
 */
function regionListProblems(text: string, regions: readonly string[]): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(LIST)) {
    const codes = match[0].split(/\||,? (?:or|and) |, /).map((c) => c.replace(/["'`]/g, ""));
    if (codes.filter((c) => regions.includes(c)).length < 2) continue;
    if (codes.join() !== regions.join()) {
      problems.push(`${text.slice(0, match.index).split("\n").length}: ${match[0]}`);
    }
  }
  return problems;
}

Deno.test("every list of the regions in docs, help and source names exactly REGIONS, in order", async () => {
  const problems: string[] = [];
  let lists = 0;
  for await (const [path, text] of texts()) {
    if (path === HOME) continue;
    lists += [...text.matchAll(LIST)].length;
    problems.push(...regionListProblems(text, REGIONS).map((p) => `${path}:${p}`));
  }
  assertEquals(problems, []);
  assert(lists > 0, "no list of regions found: the pattern is broken");
});

Deno.test("a list of regions that drifted from REGIONS is found", () => {
  const text = "--region au|nz|uk|my\n# one of au, nz, uk, my (default au)\nau and nz only";
  assertEquals(regionListProblems(text, ["au", "nz", "uk", "my"]), []);
  assertEquals(regionListProblems(text, ["au", "nz", "uk"]), [
    "1: au|nz|uk|my",
    "2: au, nz, uk, my",
  ]);
  assertEquals(regionListProblems(text, ["au", "nz", "uk", "my", "us"]).length, 2);
});

/** `n` as the docs write numbers: `10,000`. */
const fmt = (n: number): string => n.toLocaleString("en-US");
const MiB = 2 ** 20;
const WORDS = ["no", "one", "two", "three", "four"];

/** A file's text with its line breaks (and JSDoc's ` * `) as single spaces, for phrases. */
async function flatText(file: string): Promise<string> {
  const text = await Deno.readTextFile(new URL(file, ROOT));
  return text.replace(/\s*\n\s*(?:\* |\/\/ )?/g, " ").replace(/\s+/g, " ");
}

/** Each figure a page or a JSDoc writes, in its words, made from the constant it states. */
const PHRASES: readonly [file: string, phrase: string][] = [
  ["docs/limits.md", `A list result is capped at ${fmt(MAX_LIST_RESULT_CHARS)} characters`],
  ["docs/limits.md", `returns at most ${MAX_LIST_LIMIT} per call`],
  [
    "docs/limits.md",
    `takes at most ${fmt(MAX_UPLOAD_ROWS)} rows or ${fmt(MAX_CSV_CHARS)} characters of CSV`,
  ],
  ["docs/limits.md", `blocks at most ${MAX_WAIT_SECONDS} s per call`],
  ["mcp/mod.ts", `(1..${MAX_WAIT_SECONDS}). Default ${MAX_WAIT_SECONDS}.`],
  ["docs/limits.md", `${WORDS[MAX_CONCURRENT_RUNS]} scripts at once per server`],
  [
    "docs/limits.md",
    `${DEFAULT_LIMITS.timeMs / 1000} s (at most ${MAX_SCRIPT_SECONDS}), ` +
    `${fmt(DEFAULT_LIMITS.calls)} client calls, ${DEFAULT_LIMITS.outputBytes / MiB} MiB of ` +
    `output and a ${fmt(DEFAULT_LIMITS.resultChars)}-character result per script`,
  ],
  ["docs/limits.md", `the sandbox accepts bodies up to ${UPLOAD_BODY_LIMIT_BYTES / MiB} MiB`],
  ["docs/limits.md", `processes chunks of up to ${MAX_CHUNK_SIZE} rows`],
  ["docs/configuration.md", `1–${MAX_CHUNK_SIZE}, default ${MAX_CHUNK_SIZE}`],
  ["src/sandbox/_types.ts", `1 to ${MAX_CHUNK_SIZE} (default ${MAX_CHUNK_SIZE})`],
  ["docs/limits.md", `the proxy forwards bodies up to ${DEFAULT_MAX_BODY_BYTES / MiB} MiB`],
  ["docs/edge.md", `(${DEFAULT_MAX_BODY_BYTES / MiB} MiB; ${MAX_ALERT_BODY_BYTES / 1024} KB for`],
  ["docs/edge.md", `Bodies over ${DEFAULT_MAX_BODY_BYTES / MiB} MiB answer 413`],
  ["src/edge/_runtime.ts", `Default ${DEFAULT_MAX_BODY_BYTES / MiB} MiB.`],
  ["docs/limits.md", `the alert relay takes pushes up to ${MAX_ALERT_BODY_BYTES / 1024} KB`],
  ["docs/limits.md", `a CSV record may be ${DEFAULT_MAX_RECORD_LENGTH / MiB} MiB`],
  [
    "docs/limits.md",
    `up to ${fmt(MAX_ADDITIONAL_BYTES)} bytes of JSON nested at most ` +
    `${fmt(MAX_ADDITIONAL_DEPTH)} levels deep`,
  ],
  ["docs/limits.md", `nesting over ${fmt(MAX_ADDITIONAL_DEPTH)} levels`],
  ["docs/limits.md", `newest ${MAX_SIGHTINGS} sightings`],
  ["docs/limits.md", `at most ${MAX_SUBSCRIPTIONS} webhooks per account and region`],
  [
    "docs/mcp.md",
    `${fmt(API_PAGE_MAX)} customers a page, **at most ${fmt(MAX_SCANNED)} customers per call** ` +
    `and ${MAX_MATCHES} matches`,
  ],
  ["docs/csv.md", `\`${AU_STATES.join(" ")}\``],
];

Deno.test("every figure the docs and JSDoc state is the value of the constant it states", async () => {
  const missing: string[] = [];
  for (const [file, phrase] of PHRASES) {
    if (!(await flatText(file)).includes(phrase)) missing.push(`${file}: "${phrase}"`);
  }
  assertEquals(missing, [], "these say another figure (or moved): fix the text or the table");
});

/** The figure `pattern` captures in `file` (thousands separators dropped). */
async function figureIn(file: string, pattern: RegExp): Promise<number> {
  const m = pattern.exec(await flatText(file));
  assert(m !== null, `${file}: no ${pattern}`);
  return Number(m[1].replaceAll(",", ""));
}

Deno.test("the largest page of customers: the SDK's, the sandbox's, the CLI's, the MCP server's and the docs' agree", async () => {
  const sandbox = await createSandbox({ path: ":memory:" });
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const largest = API_PAGE_MAX;
    // The SDK (src/sdk/customers.ts, the home) takes it and refuses one more.
    await client.customers.list({ limit: largest });
    await assertRejects(() => client.customers.list({ limit: largest + 1 }), RangeError);
    // The sandbox answers it and refuses one more.
    const page = (limit: number) =>
      sandbox.fetch(
        new Request(`http://sandbox/v2/recapture/customers?region=au&limit=${limit}`, {
          headers: { ApiKey: SANDBOX_API_KEY },
        }),
      );
    const ok = await page(largest);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
    const over = await page(largest + 1);
    assertEquals(over.status, 400);
    await over.body?.cancel();
    assertEquals(NUMBER_FLAGS.limit.max, largest, "the CLI's --limit");
    assertEquals(
      await figureIn("docs/limits.md", /API pages hold at most ([\d,]+) customers/),
      largest,
    );
    assertEquals(await figureIn("docs/sandbox.md", /`limit` ≤ ([\d,]+)/), largest);
  } finally {
    await sandbox.close();
  }
});

Deno.test("the sandbox's default rate limit and quota are the ones the docs and JSDoc state", async () => {
  const sandbox = await createSandbox({ path: ":memory:" });
  try {
    const res = await sandbox.fetch(
      new Request("http://sandbox/v2/recapture/customers?region=au&limit=1", {
        headers: { ApiKey: SANDBOX_API_KEY },
      }),
    );
    await res.body?.cancel();
    const header = (name: string) => Number(res.headers.get(name));
    const [perMinute, base, max] = [
      header("Rate-Limit-Total"),
      header("Monthly-Base-Request-Quota"),
      header("Monthly-Max-Request-Quota"),
    ];
    const limits = await flatText("docs/limits.md");
    assert(
      limits.includes(
        `${fmt(perMinute)} requests a minute per key and a monthly quota of ${fmt(base)} base / ` +
          `${fmt(max)} max`,
      ),
      "docs/limits.md",
    );
    const types = await flatText("src/sandbox/_types.ts");
    assert(types.includes(`(default ${fmt(perMinute)} requests per minute)`), "_types.ts");
    assert(types.includes(`(default base ${fmt(base)}, max ${fmt(max)})`), "_types.ts");
    assert((await flatText("docs/sandbox.md")).includes(`${fmt(perMinute)}/min`), "sandbox.md");
  } finally {
    await sandbox.close();
  }
});

Deno.test("the longest delay the SDK takes is the one docs/limits.md states", async () => {
  const longest = await figureIn("docs/limits.md", /are at most ([\d,]+) ms/);
  new RecaptureClient({ apiKey: "sec_test", timeoutMs: longest });
  assertThrows(
    () => new RecaptureClient({ apiKey: "sec_test", timeoutMs: longest + 1 }),
    RangeError,
  );
});
