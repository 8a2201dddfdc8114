// The console session in docs/csv.md, replayed: every command it shows is run (the CLI as a
// subprocess, on a fresh sandbox, from a fresh copy of the example file) and must print what the
// docs say, ids and timestamps aside, and exit with the code the docs show.

import { assertEquals } from "@std/assert";
import { cliEnv } from "./_run.ts";

const CLI = new URL("../../src/cli/mod.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const DOC = new URL("../../docs/csv.md", import.meta.url);
const EXAMPLE = new URL("../../examples/data/customers.csv", import.meta.url);

/** An id or a moment that differs per run. */
const VARYING = /\b(?:upl|cus|job|wh|evt)_[0-9a-z]+|\d{4}-\d\d-\d\dT[\d:.]+Z/g;

interface Step {
  command: string;
  expected: string;
}

/** The `$ ` commands of the docs' console block, each with the lines it shows. */
async function session(): Promise<Step[]> {
  const text = await Deno.readTextFile(DOC);
  const block = text.slice(text.indexOf("```console\n") + 11);
  const steps: Step[] = [];
  for (const line of block.slice(0, block.indexOf("\n```")).split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: "" });
    else steps[steps.length - 1].expected += line + "\n";
  }
  return steps;
}

/** Shell words: spaces split, double quotes group (`""` is an empty word). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

Deno.test("docs/csv.md: the console session prints what it shows, ids and times aside", async () => {
  const dir = await Deno.makeTempDir({ prefix: "recapture_docs_" });
  try {
    await Deno.mkdir(`${dir}/examples/data`, { recursive: true });
    await Deno.copyFile(EXAMPLE, `${dir}/examples/data/customers.csv`);
    const env = cliEnv(`${dir}/sb.kv`);
    const ids = new Map<string, string>(); // an id the docs show → the one this run made
    let code = -1;
    for (const step of await session()) {
      if (step.command === "echo $?") {
        assertEquals(`${code}\n`, step.expected, "exit code");
        continue;
      }
      const args = words(step.command.replace(VARYING, (id) => ids.get(id) ?? id));
      assertEquals(args.slice(0, 3), ["deno", "task", "recapture"], step.command);
      // stderr into the same pipe as stdout: the order a terminal shows.
      const out = await new Deno.Command("sh", {
        args: [
          "-c",
          'exec "$0" "$@" 2>&1',
          Deno.execPath(),
          "run",
          "-A",
          "--config",
          CONFIG,
          CLI,
          ...args.slice(3),
        ],
        cwd: dir,
        clearEnv: true,
        env,
        stdin: "null",
      }).output();
      code = out.code;
      const dec = new TextDecoder();
      const actual = dec.decode(out.stdout);
      const shown = step.expected.match(VARYING) ?? [];
      const made = actual.match(VARYING) ?? [];
      shown.forEach((id, i) => made[i] !== undefined && !ids.has(id) && ids.set(id, made[i]));
      assertEquals(
        actual.replace(VARYING, "<id>"),
        step.expected.replace(VARYING, "<id>"),
        `$ ${step.command}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
