/**
 * The code that runs before an agent's script in its process: the `client` object, whose every
 * method is a message over stdout answered over stdin (the process's only way out), `console`
 * sent the same way, and the wrapper that sends the script's result. No other module is loaded.
 *
 * @module
 */

/**
 * The methods the child's `client` has: the one list (the bridge's table must have exactly these
 * keys, checked by the compiler), each checked again with its arguments by the server.
 */
export const CLIENT_METHODS = [
  "uploads.create",
  "uploads.retrieve",
  "uploads.cancel",
  "customers.list",
  "customers.retrieve",
  "customers.update",
  "customers.delete",
  "webhooks.list",
  "webhooks.retrieve",
] as const;

/** One of {@linkcode CLIENT_METHODS}. */
export type ClientMethod = (typeof CLIENT_METHODS)[number];

/** `client.uploads = { create, ... }`, one line per group, from {@linkcode CLIENT_METHODS}. */
function clientLines(): string[] {
  const groups = new Map<string, string[]>();
  for (const method of CLIENT_METHODS) {
    const [group, name] = method.split(".");
    groups.set(group, [...(groups.get(group) ?? []), `${name}: __m("${method}")`]);
  }
  // `customers.iterate` pages with `customers.list` inside the script.
  groups.get("customers")?.push("iterate: __iterate");
  return [
    `const client = Object.freeze({`,
    ...[...groups].map(([group, members]) =>
      `  ${group}: Object.freeze({ ${members.join(", ")} }),`
    ),
    `});`,
  ];
}

const PRELUDE_LINES = [
  `const __w = Deno.stdout.writable.getWriter(), __e = new TextEncoder();`,
  `let __q = Promise.resolve(); const __p = new Map(); let __n = 0;`,
  `const __send = (m) => { const b = __e.encode(JSON.stringify(m) + "\\n"); return __q = __q.then(() => __w.write(b)); };`,
  `(async () => { let s = ""; for await (const c of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) { s += c; let i;`,
  `  while ((i = s.indexOf("\\n")) >= 0) { const m = JSON.parse(s.slice(0, i)); s = s.slice(i + 1); const p = __p.get(m.id); __p.delete(m.id);`,
  `    if (p) m.ok ? p.resolve(m.value) : p.reject(Object.assign(new Error(m.error.message), { name: m.error.name, status: m.error.status })); } } })();`,
  `const __call = (method, args) => { while (args.length && args[args.length - 1] === undefined) args.pop();`,
  `  return new Promise((resolve, reject) => { const id = ++__n; __p.set(id, { resolve, reject }); __send({ id, method, args }); }); };`,
  `const __fmt = (a) => a.map((x) => { if (typeof x === "string") return x; try { return JSON.stringify(x); } catch { return String(x); } }).join(" ");`,
  `for (const k of ["log", "info", "warn", "error", "debug"]) console[k] = (...a) => { __send({ log: __fmt(a) }); };`,
  `const __m = (name) => (...a) => __call(name, a);`,
  `const __iterate = async function* (params = {}, options) { const limit = params.pageSize ?? 1000; let offset = 0;`,
  `  for (;;) { const page = await __call("customers.list", [{ offset, limit, ...(params.upload_id ? { upload_id: params.upload_id } : {}) }, options]);`,
  `    for (const c of page.customers) yield c; offset += page.customers.length; if (page.customers.length === 0 || offset >= page.total) return; } };`,
  ...clientLines(),
  `globalThis.Worker = undefined;`,
  `try { const __r = await (async (client) => {`,
];

/** Lines before the script's first line (to map error positions back to the script). */
export const PRELUDE_LINE_COUNT: number = PRELUDE_LINES.length;

/**
 * The module the child runs: the prelude, the script as the body of an async function of
 * `client`, and the wrapper that sends what it returned (or threw) and exits.
 *
 * @example
 * ```ts
 * import { scriptModule } from "./_prelude.ts";
 * console.log(scriptModule("return 1 + 1;").includes("return 1 + 1;")); // true
 * ```
 */
export function scriptModule(script: string): string {
  return [
    ...PRELUDE_LINES,
    script,
    `})(client); await __send({ done: true, result: __r === undefined ? null : __r });`,
    `} catch (e) { await __send({ done: true, error: { name: String(e?.name ?? "Error"), message: String(e?.message ?? e) } }); }`,
    `await __q; Deno.exit(0);`,
  ].join("\n");
}
