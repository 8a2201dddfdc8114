/**
 * `recapture_search_docs`: the SDK's own documentation, from `deno doc --json mod.ts` (made
 * lazily on the first search, once per process): symbols, signatures, JSDoc and `@example`s,
 * with each client method a script can call marked.
 *
 * @module
 */
import { BRIDGE_METHODS } from "./_bridge.ts";
import { cannotSpawn } from "./_runner.ts";

/** One searchable entry. */
export interface DocEntry {
  /** `Customers.list`, `Customer`, `RecaptureClient`... */
  name: string;
  kind: string;
  /** A one-line signature (methods, functions) or the fields (interfaces). */
  signature: string;
  doc: string;
  /** The first `@example`, if any. */
  example?: string;
  /** For client methods: how a script calls it (`client.customers.list`), if it can. */
  script_call?: string;
}

interface TsType {
  repr?: string;
  kind?: string;
}
interface Param {
  name?: string;
  optional?: boolean;
  tsType?: TsType;
}
interface JsDoc {
  doc?: string;
  tags?: { kind: string; doc?: string }[];
}
interface Declaration {
  kind: string;
  jsDoc?: JsDoc;
  def?: {
    params?: Param[];
    returnType?: TsType;
    methods?: {
      name: string;
      jsDoc?: JsDoc;
      functionDef?: { params?: Param[]; returnType?: TsType };
    }[];
    properties?: { name: string; optional?: boolean; tsType?: TsType; jsDoc?: JsDoc }[];
    tsType?: TsType;
  };
}

const typeText = (t: TsType | undefined): string => t?.repr || t?.kind || "unknown";
const params = (ps: Param[] | undefined): string =>
  (ps ?? []).map((p) => `${p.name ?? "arg"}${p.optional ? "?" : ""}: ${typeText(p.tsType)}`)
    .join(", ");
const exampleOf = (jsDoc: JsDoc | undefined): string | undefined =>
  jsDoc?.tags?.find((t) => t.kind === "example")?.doc?.replace(/^```ts( ignore)?\n|```$/g, "")
    .trim();

/** The script-side names of the SDK classes whose methods the bridge serves. */
const CLASS_PATHS: Readonly<Record<string, string>> = {
  Uploads: "uploads",
  Customers: "customers",
  Webhooks: "webhooks",
};

/**
 * Turns `deno doc --json` output into entries.
 *
 * @example
 * ```ts
 * import { docEntries } from "./_docs.ts";
 * console.log(docEntries({ nodes: {} }).length); // 0
 * ```
 */
export function docEntries(json: unknown): DocEntry[] {
  const out: DocEntry[] = [];
  const nodes = (json as { nodes?: Record<string, { symbols?: unknown[] }> }).nodes ?? {};
  for (const node of Object.values(nodes)) {
    for (const raw of node.symbols ?? []) {
      const symbol = raw as { name: string; declarations?: Declaration[] };
      const d = symbol.declarations?.[0];
      if (!d) continue;
      const doc = (d.jsDoc?.doc ?? "").trim();
      if (d.kind === "class") {
        out.push({ name: symbol.name, kind: "class", signature: `class ${symbol.name}`, doc });
        for (const m of d.def?.methods ?? []) {
          const path = CLASS_PATHS[symbol.name];
          const callable = path !== undefined &&
            (BRIDGE_METHODS.includes(`${path}.${m.name}`) ||
              (path === "customers" && m.name === "iterate"));
          out.push({
            name: `${symbol.name}.${m.name}`,
            kind: "method",
            signature: `${m.name}(${params(m.functionDef?.params)}): ${
              typeText(m.functionDef?.returnType)
            }`,
            doc: (m.jsDoc?.doc ?? "").trim(),
            example: exampleOf(m.jsDoc),
            ...(callable ? { script_call: `client.${path}.${m.name}` } : {}),
          });
        }
      } else if (d.kind === "interface") {
        const fields = (d.def?.properties ?? []).map((p) =>
          `${p.name}${p.optional ? "?" : ""}: ${typeText(p.tsType)}`
        );
        out.push({
          name: symbol.name,
          kind: "interface",
          signature: `{ ${fields.join("; ")} }`,
          doc,
          example: exampleOf(d.jsDoc),
        });
      } else if (d.kind === "function") {
        out.push({
          name: symbol.name,
          kind: "function",
          signature: `${symbol.name}(${params(d.def?.params)}): ${typeText(d.def?.returnType)}`,
          doc,
          example: exampleOf(d.jsDoc),
        });
      } else {
        out.push({
          name: symbol.name,
          kind: d.kind,
          signature: `${symbol.name}: ${typeText(d.def?.tsType)}`,
          doc,
          example: exampleOf(d.jsDoc),
        });
      }
    }
  }
  return out;
}

let index: Promise<DocEntry[]> | undefined;

/** The SDK's entries, made once per process with `deno doc --json` on the SDK's `mod.ts`. */
export function sdkDocs(): Promise<DocEntry[]> {
  return index ??= (async () => {
    const entry = new URL("../../mod.ts", import.meta.url);
    // Through prlimit (without limits), the one program code mode may start
    // (`--allow-run=prlimit`).
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("prlimit", {
        args: ["--", Deno.execPath(), "doc", "--json", entry.href],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
    } catch (error) {
      index = undefined;
      throw new Error(cannotSpawn(error));
    }
    if (!out.success) {
      index = undefined;
      throw new Error(`deno doc failed: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`);
    }
    return docEntries(JSON.parse(new TextDecoder().decode(out.stdout)));
  })();
}

/**
 * The entries best matching `query` (words in name, signature, doc; name matches count most;
 * methods a script can call first among equals).
 *
 * @example
 * ```ts
 * import { searchDocs } from "./_docs.ts";
 * const hits = searchDocs([{ name: "Customers.list", kind: "method", signature: "", doc: "Lists" }], "list customers", 3);
 * console.log(hits[0].name); // "Customers.list"
 * ```
 */
export function searchDocs(entries: readonly DocEntry[], query: string, limit: number): DocEntry[] {
  const words = query.toLowerCase().split(/[^a-z0-9_]+/).filter((w) => w.length > 1);
  const scored = entries.map((e) => {
    const name = e.name.toLowerCase();
    const text = `${e.signature} ${e.doc}`.toLowerCase();
    let score = 0;
    for (const w of words) {
      const stem = w.replace(/s$/, "");
      if (name === w) score += 10;
      if (name.includes(stem)) score += 5;
      if (text.includes(stem)) score += 1;
    }
    if (score > 0 && e.script_call) score += 2;
    return { e, score };
  }).filter((s) => s.score > 0);
  scored.sort((a, b) => b.score - a.score || a.e.name.localeCompare(b.e.name));
  return scored.slice(0, limit).map((s) => s.e);
}
