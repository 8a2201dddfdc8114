/**
 * Runs an agent's script as its own Deno process with every door shut, and serves its `client`
 * calls. Measured on Deno 2.9.6, no permission flag alone seals a process: local files can still
 * be imported (read) without `--allow-read`, npm and remote imports resolve, `localStorage` and
 * `caches` persist in `DENO_DIR`, a `deno.json` found upward is loaded, and ArrayBuffers grow
 * past `--max-old-space-size`. So the child gets all of:
 *
 * - `deno run --no-prompt --no-config --no-lock --no-npm --no-remote --deny-import` and an
 *   explicit deny of read, write, net, env, run, ffi and sys (`--deny-read` is what stops
 *   `import("file:///…")`);
 * - an empty temporary working folder, its own empty `DENO_DIR` (deleted after the run, so
 *   `localStorage`/`caches` die with it), no `--location`, an empty environment;
 * - an OS memory limit (`prlimit --data`) and a V8 heap limit; a wall-clock kill;
 * - limits on client calls, output and result size, each ending the run with a clear error.
 *
 * @module
 */
import { PRELUDE_LINE_COUNT, scriptModule } from "./_prelude.ts";

/** Limits of one run. */
export interface ScriptLimits {
  /** Wall-clock limit, ms. */
  timeMs: number;
  /** OS data-segment limit of the process (`prlimit --data`), MiB; V8 reserves ~500 of it. */
  memoryMiB: number;
  /** V8 old-space limit, MiB. */
  heapMiB: number;
  /** Most client calls. */
  calls: number;
  /** Most bytes the process may write (stdout and stderr together). */
  outputBytes: number;
  /** Most characters of the JSON result. */
  resultChars: number;
}

/** The limits unless a run sets others. */
export const DEFAULT_LIMITS: Readonly<ScriptLimits> = {
  timeMs: 30_000,
  memoryMiB: 1024,
  heapMiB: 128,
  calls: 2000,
  outputBytes: 4 * 1024 * 1024,
  resultChars: 50_000,
};

/** Most characters of the logs a run returns, and most entries (an empty line is one). */
export const LOG_LIMITS: Readonly<{ chars: number; entries: number }> = {
  chars: 4000,
  entries: 200,
};

/** Most characters kept of a thrown error's name, and of its message (as of failure logs). */
export const MAX_ERROR_CHARS = 2000;

/** `text` cut to `max` characters, saying how many more there were. */
function cutText(text: string, max: number): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}... (${text.length - max} more characters cut)`;
}

/** Most scripts running at once in this server process (each may hold its memory limit). */
export const MAX_CONCURRENT_RUNS = 2;
let running = 0;

/** Why a run failed. */
export type ScriptFailure =
  | "time_limit"
  | "memory_limit"
  | "call_limit"
  | "output_limit"
  | "result_limit"
  | "script_error"
  | "forbidden_syntax"
  | "busy"
  | "unavailable";

/** What a run came to. */
export type ScriptOutcome =
  | { ok: true; result: unknown; calls: number; logs: string[]; ms: number }
  | { ok: false; code: ScriptFailure; message: string; calls: number; logs: string[]; ms: number };

/** Answers one client call (already counted); throws to fail it inside the script. */
export type CallHandler = (method: string, args: unknown[]) => Promise<unknown>;

/** An error a call handler throws to fail the call with this name (seen by the script). */
export class ScriptCallError extends Error {
  /** The name the script sees. */
  override name: string;
  /**
   * @example
   * ```ts
   * import { ScriptCallError } from "./_runner.ts";
   * const refused = new ScriptCallError("read_only", "client.customers.delete changes data");
   * console.log(refused.name); // "read_only": what the script's catch sees
   * ```
   */
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Whether this runtime can start a process: false on Cloudflare Workers and Deno Deploy, where
 * code mode is refused.
 *
 * @example
 * ```ts
 * import { canRunScripts } from "./_runner.ts";
 * console.log(typeof canRunScripts()); // "string" or "ok"
 * ```
 */
export function canRunScripts(): "ok" | string {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!deno || typeof deno.Command !== "function") {
    return "code mode runs scripts as processes, which this runtime cannot start (Cloudflare " +
      "Workers, browsers); run the MCP server locally (deno task mcp) to use it";
  }
  try {
    if (deno.env.get("DENO_DEPLOYMENT_ID")) {
      return "code mode runs scripts as processes, which Deno Deploy cannot start; run the MCP " +
        "server locally (deno task mcp) to use it";
    }
  } catch { /* no env permission: not Deploy's concern */ }
  return "ok";
}

/** Why `prlimit` could not be started, in words for the agent and the operator. */
export function cannotSpawn(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) {
    return "code mode needs prlimit (util-linux) on PATH to limit a script's memory";
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return "code mode needs the server started with --allow-run=prlimit (deno task mcp has it)";
  }
  return `the script process could not start: ${(error as Error).message}`;
}

/** Drops `__proto__` keys, so a result cannot carry a prototype anywhere it is copied. */
function safeParse(line: string): unknown {
  return JSON.parse(line, (key, value) => key === "__proto__" ? undefined : value);
}

/** Stderr as the agent should see it: the script's own line numbers, no temp paths. */
function scriptStderr(text: string, main: string): string {
  return text
    .replaceAll(`file://${main}`, "script.ts")
    .replaceAll(main, "script.ts")
    .replace(
      /script\.ts:(\d+)(:\d+)?/g,
      (_, line: string, col: string | undefined) =>
        `script.ts:${Math.max(1, Number(line) - PRELUDE_LINE_COUNT)}${col ?? ""}`,
    )
    .replace(
      /^(\s*)(\d+)( \|)/gm,
      (_, pad: string, line: string, bar: string) =>
        `${pad}${Math.max(1, Number(line) - PRELUDE_LINE_COUNT)}${bar}`,
    )
    .replace(/^\s*at (?!script\.ts).*\n?/gm, "")
    .trim()
    .slice(-2000);
}

/**
 * What Deno's module graph would load before any permission check: a literal `import`/`export
 * … from` (even `import("file:///…")` of a local file, read without `--allow-read`), and the
 * type and JSX pragmas. Refused in the source, so a script's only module is itself; code made
 * at run time (`eval`) imports nothing, since `--deny-read` checks its dynamic imports.
 */
const MODULE_SYNTAX = /\bimport\b|\bexport\b|@(?:deno|ts)-types|<reference\b|@jsx/;

const MEMORY_WORDS = /out of memory|allocation failed|Array buffer allocation|heap limit/i;

/**
 * Runs `script` (the body of an async function of `client`; what it returns is the result) and
 * answers its client calls with `handle`.
 *
 * @param script TypeScript, the body of `async (client) => { … }`
 * @param handle answers each client call the script makes
 * @param limits overrides of {@linkcode DEFAULT_LIMITS}
 * @returns the result, or which limit or error ended the run
 *
 * @example
 * ```ts ignore
 * import { runScript } from "./_runner.ts";
 * const out = await runScript("return 6 * 7;", () => Promise.reject(new Error("no calls")));
 * console.log(out.ok && out.result); // 42
 * ```
 */
export async function runScript(
  script: string,
  handle: CallHandler,
  limits: Partial<ScriptLimits> = {},
): Promise<ScriptOutcome> {
  const l = { ...DEFAULT_LIMITS, ...limits };
  const started = performance.now();
  const logs: string[] = [];
  let calls = 0;
  const fail = (code: ScriptFailure, message: string): ScriptOutcome => ({
    ok: false,
    code,
    message: `${code}: ${message}`,
    calls,
    logs,
    ms: Math.round(performance.now() - started),
  });
  const can = canRunScripts();
  if (can !== "ok") return fail("unavailable", can);
  const syntax = MODULE_SYNTAX.exec(script);
  if (syntax) {
    return fail(
      "forbidden_syntax",
      `the script contains "${syntax[0]}": scripts cannot import or export anything (the word ` +
        "may not appear, even in a string or comment); the SDK is already there as `client`",
    );
  }
  if (running >= MAX_CONCURRENT_RUNS) {
    return fail(
      "busy",
      `${running} scripts are already running on this server (at most ${MAX_CONCURRENT_RUNS}); ` +
        "call again when one has finished",
    );
  }
  running++;
  const dir = await Deno.makeTempDir({ prefix: "recapture_code_" }).catch((error) => {
    running--;
    throw error;
  });
  try {
    await Deno.mkdir(`${dir}/work`);
    await Deno.mkdir(`${dir}/deno_dir`);
    const main = `${dir}/work/script.ts`;
    await Deno.writeTextFile(main, scriptModule(script));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("prlimit", {
        args: [
          `--data=${l.memoryMiB * 1024 * 1024}`,
          "--core=0",
          "--",
          Deno.execPath(),
          "run",
          "--quiet",
          "--no-prompt",
          "--no-config",
          "--no-lock",
          "--no-npm",
          "--no-remote",
          "--deny-import",
          "--deny-read",
          "--deny-write",
          "--deny-net",
          "--deny-env",
          "--deny-run",
          "--deny-ffi",
          "--deny-sys",
          `--v8-flags=--max-old-space-size=${l.heapMiB}`,
          main,
        ],
        cwd: `${dir}/work`,
        clearEnv: true,
        env: { DENO_DIR: `${dir}/deno_dir`, NO_COLOR: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      return fail("unavailable", cannotSpawn(error));
    }
    let stopped: ScriptOutcome | undefined;
    const stop = (code: ScriptFailure, message: string) => {
      if (stopped) return;
      stopped = fail(code, message);
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    };
    const timer = setTimeout(
      () => stop("time_limit", `the script ran longer than ${l.timeMs / 1000} s and was stopped`),
      l.timeMs,
    );
    let output = 0;
    const count = (n: number) => {
      output += n;
      if (output > l.outputBytes) {
        stop(
          "output_limit",
          `the script wrote more than ${l.outputBytes} bytes and was stopped; return a summary`,
        );
      }
    };
    const stdin = child.stdin.getWriter();
    let answering = Promise.resolve();
    const answer = (message: unknown) => {
      const bytes = new TextEncoder().encode(JSON.stringify(message) + "\n");
      answering = answering.then(() => stdin.write(bytes)).catch(() => {});
    };
    let done: { result?: unknown; error?: { name: string; message: string } } | undefined;
    let logChars = 0;
    let droppedLogs = 0;
    let droppedChars = 0;
    const onMessage = (line: string) => {
      let m: Record<string, unknown>;
      try {
        const parsed = safeParse(line);
        if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
        m = parsed as Record<string, unknown>;
      } catch {
        stop("script_error", "the script wrote to stdout outside the client (use console.log)");
        return;
      }
      if (typeof m.log === "string") {
        // Both bounds: characters, and entries (300,000 empty lines are 0 characters).
        const room = Math.min(LOG_LIMITS.chars - logChars, m.log.length);
        if (logs.length < LOG_LIMITS.entries && (room > 0 || m.log.length === 0)) {
          logs.push(m.log.slice(0, room));
          logChars += room;
          droppedChars += m.log.length - room;
        } else {
          droppedLogs++;
          droppedChars += m.log.length;
        }
      } else if (m.done === true) {
        const error = m.error as { name?: unknown; message?: unknown } | undefined;
        done = {
          result: m.result,
          error: error && {
            name: cutText(String(error.name), MAX_ERROR_CHARS),
            message: cutText(String(error.message), MAX_ERROR_CHARS),
          },
        };
      } else if (typeof m.method === "string" && Array.isArray(m.args)) {
        calls++;
        if (calls > l.calls) {
          stop("call_limit", `the script made more than ${l.calls} client calls and was stopped`);
          return;
        }
        const id = m.id;
        handle(m.method, m.args).then(
          (value) => answer({ id, ok: true, value: value === undefined ? null : value }),
          (error: Error) =>
            answer({
              id,
              ok: false,
              error: {
                name: error.name,
                message: error.message,
                status: (error as { status?: number }).status,
              },
            }),
        );
      } else {
        stop("script_error", "the script wrote to stdout outside the client (use console.log)");
      }
    };
    const readStdout = (async () => {
      let buffer = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        count(chunk.length);
        if (stopped) continue;
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0 && !stopped) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          onMessage(line);
        }
      }
    })();
    let stderr = "";
    const readStderr = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        count(chunk.length);
        if (stderr.length < 20_000) stderr += chunk;
      }
    })();
    const status = await child.status;
    clearTimeout(timer);
    await Promise.all([readStdout, readStderr]);
    await answering;
    await stdin.close().catch(() => {});
    if (droppedLogs > 0 || droppedChars > 0) {
      logs.push(
        `[logs cut: ${droppedLogs} more entr${droppedLogs === 1 ? "y" : "ies"} and ` +
          `${droppedChars} more characters not kept (at most ${LOG_LIMITS.entries} entries and ` +
          `${LOG_LIMITS.chars} characters); log less, or return a summary]`,
      );
    }
    if (stopped) return stopped;
    const ms = Math.round(performance.now() - started);
    if (done?.error) {
      const text = `${done.error.name}: ${done.error.message}`;
      if (MEMORY_WORDS.test(text)) {
        return fail("memory_limit", `the script ran out of its memory limit (${text})`);
      }
      return fail("script_error", `the script threw ${text}`);
    }
    if (done) {
      const json = JSON.stringify(done.result) ?? "null";
      if (json.length > l.resultChars) {
        return fail(
          "result_limit",
          `the result is ${json.length} characters; return at most ${l.resultChars} ` +
            "(count, summarize or slice in the script)",
        );
      }
      return { ok: true, result: done.result, calls, logs, ms };
    }
    if (MEMORY_WORDS.test(stderr) || status.signal === "SIGTRAP" || status.code === 133) {
      return fail("memory_limit", "the script ran out of its memory limit and was stopped");
    }
    const why = scriptStderr(stderr, main);
    return fail(
      "script_error",
      why === "" ? `the script exited (code ${status.code}) without a result` : why,
    );
  } finally {
    running--;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
