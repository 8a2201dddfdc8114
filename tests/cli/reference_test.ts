// The CLI reference in docs/configuration.md against the command table: every command with
// exactly its flags, and the flags every command takes; nothing in the docs the code lacks; and
// each value placeholder and number default the docs write is the table's.

import { assert, assertEquals } from "@std/assert";
import {
  COMMANDS,
  type FlagName,
  FLAGS,
  type FlagSpec,
  GLOBAL_FLAGS,
  NUMBER_FLAGS,
} from "../../src/cli/_commands.ts";

const DOC = new URL("../../docs/configuration.md", import.meta.url);

/** The `--flags` a piece of the docs names, sorted. */
function flagsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/`--([a-z][a-z-]*)/g)].map((m) => m[1]))]
    .sort();
}

Deno.test("docs/configuration.md lists every CLI command with exactly the flags the table gives it", async () => {
  const block = await cliBlock();
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

/** The docs' CLI block: from the `deno task recapture` bullet to the next top-level bullet. */
async function cliBlock(): Promise<string> {
  const text = await Deno.readTextFile(DOC);
  const start = text.indexOf("- `deno task recapture`");
  return text.slice(start, text.indexOf("\n- ", start + 1));
}

Deno.test("docs/configuration.md writes each CLI flag's placeholder and default as the table has them", async () => {
  const block = (await cliBlock()).replaceAll(/\n\s+/g, " ");
  let placeholders = 0;
  let defaults = 0;
  // `--flag`, `--flag VALUE`, each maybe followed by its default: ` (5000)` or ` (1000: ...)`.
  for (const m of block.matchAll(/`--([a-z][a-z-]*)(?: ([^`]+))?`(?: \((\d[\d,]*)[:)])?/g)) {
    const [, name, value, fallback] = m;
    assert(Object.hasOwn(FLAGS, name), `--${name} is not in the table`);
    if (value !== undefined) {
      assertEquals(value, (FLAGS[name as FlagName] as FlagSpec).value, `--${name}'s placeholder`);
      placeholders++;
    }
    if (fallback !== undefined) {
      assert(Object.hasOwn(NUMBER_FLAGS, name), `--${name} has no number default in the table`);
      assertEquals(
        Number(fallback.replaceAll(",", "")),
        NUMBER_FLAGS[name as keyof typeof NUMBER_FLAGS].default,
        `--${name}'s default`,
      );
      defaults++;
    }
  }
  assert(placeholders >= 10 && defaults >= 4, `${placeholders} placeholders, ${defaults} defaults`);
});
