// The environment-variable table of docs/configuration.md against the code: every variable the
// code reads (Deno.env.get, the entry points' readEnv lists, a RECAPTURE_* name written as a
// string or read as env.NAME) has a row, and every row names a variable the code reads.

import { assert, assertEquals } from "@std/assert";
import { CLI_ENV } from "../../src/cli/mod.ts";

const ROOT = new URL("../../", import.meta.url);

/** Names read from the environment that are not the project's settings. */
const NOT_SETTINGS = new Map([
  ["PATH", "the system's search path, handed on to a child process by a test"],
]);
/** RECAPTURE_* names that are not environment variables (documented beside the table). */
const BINDINGS = ["RECAPTURE_CALLBACKS"];

async function* sources(dir: URL): AsyncGenerator<[string, string]> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory && entry.name !== "node_modules") yield* sources(url);
    else if (entry.isFile && entry.name.endsWith(".ts")) {
      yield [url.pathname, await Deno.readTextFile(url)];
    }
  }
}

Deno.test("docs/configuration.md's variable table lists exactly the variables the code reads", async () => {
  const read = new Map<string, string>(); // name → a file reading it
  for (const folder of ["src/", "mcp/", "examples/", "bench/", "tests/"]) {
    for await (const [path, text] of sources(new URL(folder, ROOT))) {
      const names = [
        ...[...text.matchAll(/Deno\.env\.get\("([A-Za-z_0-9]+)"\)/g)].map((m) => m[1]),
        ...[...text.matchAll(/["'`](RECAPTURE_[A-Z0-9_]+)["'`]/g)].map((m) => m[1]),
        ...[...text.matchAll(/\benv\??\.(RECAPTURE_[A-Z0-9_]+)\b/g)].map((m) => m[1]),
      ];
      for (const name of names) if (!read.has(name)) read.set(name, path);
    }
  }
  for (const name of CLI_ENV) if (!read.has(name)) read.set(name, "src/cli/mod.ts");
  for (const name of [...NOT_SETTINGS.keys(), ...BINDINGS]) read.delete(name);

  const doc = await Deno.readTextFile(new URL("docs/configuration.md", ROOT));
  const start = doc.indexOf("## Environment variables");
  const rows = doc.slice(start, doc.indexOf("\n## ", start + 1)).split("\n")
    .filter((line) => line.startsWith("| `"));
  const documented = new Set(
    rows.flatMap((row) => [...row.split("|")[1].matchAll(/`([A-Za-z_0-9]+)`/g)].map((m) => m[1])),
  );
  const missing = [...read.keys()].filter((name) => !documented.has(name));
  assertEquals(
    missing,
    [],
    `read by the code, not in the table: ${missing.map((n) => `${n} (${read.get(n)})`).join(", ")}`,
  );
  const unread = [...documented].filter((name) => !read.has(name));
  assertEquals(unread, [], "in the table, read by no code");
  for (const name of BINDINGS) assert(doc.includes(`\`${name}\``), `${name} is documented`);
});
