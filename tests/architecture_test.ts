/**
 * The layering rule of docs/architecture.md, checked on the module graph `deno info --json`
 * reports (type-only imports included): `src/sdk/` imports nothing of the project outside itself
 * and `src/_internal/`; `src/_internal/` imports nothing of the project; and no module of the
 * project takes part in an import cycle. And the page's two tables held to the tree: every folder
 * of `src/` and `mcp/` has a `mod.ts` and a row among the folders, and the imports between
 * folders are exactly those the page lists.
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const ENTRIES = ["mod.ts", "src/", "mcp/"];

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  type?: { specifier: string };
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

/** Every project module and the project modules it imports (code or type), as repo paths. */
async function projectGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  const files: string[] = [];
  for (const entry of ENTRIES) {
    const path = new URL(entry, ROOT).pathname;
    if (entry.endsWith("/")) {
      for await (const f of walk(path)) files.push(f);
    } else files.push(path);
  }
  // `deno info` takes one root: a temporary module that imports every file.
  const dir = await Deno.makeTempDir();
  const root = `${dir}/all.ts`;
  await Deno.writeTextFile(root, files.map((f) => `import "file://${f}";\n`).join(""));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: ModuleInfo[] };
  const local = (specifier: string) =>
    specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : undefined;
  for (const module of info.modules) {
    const from = local(module.specifier);
    if (from === undefined) continue;
    const to = new Set<string>();
    for (const dep of module.dependencies ?? []) {
      for (const target of [dep.code?.specifier, dep.type?.specifier]) {
        const path = target === undefined ? undefined : local(target);
        if (path !== undefined) to.add(path);
      }
    }
    graph.set(from, to);
  }
  return graph;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) yield* walk(`${path}/`);
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

const graph = await projectGraph();

Deno.test("layering: src/sdk/ imports only itself and src/_internal/; src/_internal/ nothing", () => {
  const broken: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (from.startsWith("src/sdk/") && !/^src\/(sdk|_internal)\//.test(to)) {
        broken.push(`${from} → ${to}`);
      }
      if (from.startsWith("src/_internal/") && !to.startsWith("src/_internal/")) {
        broken.push(`${from} → ${to}`);
      }
    }
  }
  assertEquals(broken, []);
});

Deno.test("layering: no import cycles, type-only imports included", () => {
  // Tarjan's strongly connected components; any component of two or more modules is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  assertEquals(cycles, []);
});

/** The rows of the markdown table that follows `heading` in docs/architecture.md, as cells. */
async function tableAfter(heading: string): Promise<string[][]> {
  const page = await Deno.readTextFile(new URL("docs/architecture.md", ROOT));
  const start = page.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no "${heading}" in docs/architecture.md`);
  const lines = page.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

/** The folders named in backticks in a cell (`src/edge/`; a file's name is dropped). */
function foldersIn(cell: string): string[] {
  return [...cell.matchAll(/`((?:src|mcp)\/[^`]*)`/g)].map((m) => m[1].replace(/[^/]*$/, ""));
}

/** The folder of a module path (`mcp/tools/alerts.ts` → `mcp/tools/`; `mod.ts` → ``). */
function folderOf(path: string): string {
  return path.replace(/[^/]*$/, "");
}

Deno.test("docs/architecture.md: every folder of src/ and mcp/ has one mod.ts and a row", async () => {
  const folders = new Set(
    [...graph.keys()].filter((p) => /^(src|mcp)\//.test(p)).map(folderOf),
  );
  const withoutEntry = [...folders].filter((f) => !graph.has(`${f}mod.ts`));
  assertEquals(withoutEntry, [], "folders without a mod.ts");
  const rows = (await tableAfter("## The folders")).flatMap((cells) => foldersIn(cells[0]));
  assertEquals(rows.toSorted(), [...folders].sort());
});

Deno.test("docs/architecture.md: the imports between folders are the ones it lists", async () => {
  const core = (folder: string) => ["", "src/sdk/", "src/_internal/"].includes(folder);
  const actual = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const [a, b] = [folderOf(from), folderOf(to)];
      if (a === b || core(a) || core(b)) continue;
      if (!actual.has(a)) actual.set(a, new Set());
      actual.get(a)!.add(b);
    }
  }
  const listed = new Map<string, Set<string>>();
  for (const [folder, imports] of await tableAfter("## The layering rule")) {
    listed.set(foldersIn(folder)[0], new Set(foldersIn(imports)));
  }
  const asText = (m: Map<string, Set<string>>) =>
    [...m].map(([a, bs]) => `${a} -> ${[...bs].sort().join(" ")}`).sort();
  assertEquals(asText(actual), asText(listed));
});
