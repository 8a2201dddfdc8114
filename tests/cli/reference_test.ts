// The CLI reference in docs/configuration.md against the command table: every command with
// exactly its flags, and the flags every command takes; nothing in the docs the code lacks.

import { assertEquals } from "@std/assert";
import { COMMANDS, GLOBAL_FLAGS } from "../../src/cli/_commands.ts";

const DOC = new URL("../../docs/configuration.md", import.meta.url);

/** The `--flags` a piece of the docs names, sorted. */
function flagsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/`--([a-z][a-z-]*)/g)].map((m) => m[1]))]
    .sort();
}

Deno.test("docs/configuration.md lists every CLI command with exactly the flags the table gives it", async () => {
  const text = await Deno.readTextFile(DOC);
  const start = text.indexOf("- `deno task recapture`");
  const end = text.indexOf("\n- ", start + 1);
  const block = text.slice(start, end);
  // Bullets: the first one (the global flags), then one per command, each with its wrapped lines.
  const bullets = block.split("\n  - ");
  const [head, ...commands] = bullets;
  assertEquals(
    flagsIn(head.slice(0, head.indexOf("One line per command"))),
    [
      ...GLOBAL_FLAGS,
    ].sort(),
  );
  const documented = new Map<string, string[]>();
  for (const bullet of commands) {
    const name = bullet.match(/^`([a-z- ]+?)(?: <[^>]+>)?`:/)?.[1];
    if (name === undefined) throw new Error(`a bullet that names no command: ${bullet}`);
    documented.set(name, flagsIn(bullet.slice(bullet.indexOf(":"))));
  }
  assertEquals([...documented.keys()], COMMANDS.map((c) => c.name));
  for (const command of COMMANDS) {
    assertEquals(documented.get(command.name), [...command.flags].sort(), command.name);
  }
});
