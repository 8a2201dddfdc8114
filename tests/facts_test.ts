/**
 * Facts that prose, help and JSDoc write out by hand, held to their one home in code: wherever
 * the tree spells the regions as a list, it spells `REGIONS`. (Code derives its copies; these
 * tests cover the text that cannot.)
 */
import { assert, assertEquals } from "@std/assert";
import { REGIONS } from "../mod.ts";

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
