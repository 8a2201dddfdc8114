/**
 * JSR readiness of the documentation: every entry point in `deno.json` `exports` has module docs
 * (`@module`), and every exported function and class, on any entry point, has an `@example`
 * (the examples themselves run under `deno test --doc`; `deno doc --lint` in the `check` task
 * covers missing docs and private types).
 */
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("..", import.meta.url).pathname;

interface DocTag {
  kind: string;
}
interface DocDeclaration {
  kind: string;
  jsDoc?: { doc?: string; tags?: DocTag[] };
}
interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}
interface DocNode {
  module_doc?: { doc?: string; tags?: DocTag[] };
  symbols?: DocSymbol[];
}

async function docs(): Promise<{ entries: string[]; nodes: Record<string, DocNode> }> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const entries = Object.values(config.exports as Record<string, string>);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...entries],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  return { entries, nodes: json.nodes };
}

Deno.test("jsr docs: every entry point has module docs, every function and class an @example", async () => {
  const { entries, nodes } = await docs();
  assertEquals(Object.keys(nodes).length, entries.length, "one doc node per entry point");
  const noModuleDoc: string[] = [];
  const noExample: string[] = [];
  let checked = 0;
  for (const [url, node] of Object.entries(nodes)) {
    const file = url.replace(`file://${ROOT}`, "");
    const moduleTags = node.module_doc?.tags ?? [];
    if (!node.module_doc?.doc || !moduleTags.some((t) => t.kind === "module")) {
      noModuleDoc.push(file);
    }
    for (const symbol of node.symbols ?? []) {
      const callable = symbol.declarations.some((d) => d.kind === "function" || d.kind === "class");
      if (!callable) continue;
      checked++;
      const hasExample = symbol.declarations.some((d) =>
        (d.jsDoc?.tags ?? []).some((t) => t.kind === "example")
      );
      if (!hasExample) noExample.push(`${file}: ${symbol.name}`);
    }
  }
  assertEquals(noModuleDoc, [], "entry points without @module docs");
  assertEquals(noExample, [], "exported functions and classes without @example");
  assert(checked > 40, `checked ${checked} functions and classes`);
});
