/**
 * Real workerd for the test suites, through npm `miniflare` (installed by `deno task setup`):
 * bundles a Worker the way it ships, and starts it on 127.0.0.1 with `tests/workerd/harness.mjs`.
 * `startHarness` starts any such server process (Bun, Node, `deno serve`) the same way. Used by
 * the edge adapter's workerd suites and the runtime matrix (`tests/runtimes/`).
 *
 * Needs `node` (20+) and `npm` on PATH, as CI machines have.
 *
 * @module
 */
import { toolDir } from "./_tools/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where {@linkcode bundleWorker} writes bundles. */
const BUNDLE_DIR = `${ROOT}.recapture/workerd`;

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${err}`);
  }
}

const bundles = new Map<string, Promise<string>>();

/** How {@linkcode bundleWorker} checks a bundle. */
export interface BundleOptions {
  /**
   * Bundle for `--platform=node`: the bundle may import `node:*` modules and name `Deno.*` APIs it
   * never calls on the request path (the MCP app carries the MCP SDK's stdio transports and the
   * file-input tools); on workerd it needs the `nodejs_compat` flag. Default false: a browser
   * bundle, refused when it does either.
   */
  nodeCompat?: boolean;
}

/**
 * Bundles a Worker module as a Worker ships (`deno bundle --platform=browser`), once per process,
 * into `.recapture/workerd/<name>.js`, and checks that it uses no `Deno.*` API and imports no
 * `node:*` module. Answers the bundle's path.
 *
 * @param entry the Worker module, relative to the repository root
 * @param name the bundle's file name, without `.js`
 */
export function bundleWorker(
  entry: string,
  name: string,
  options: BundleOptions = {},
): Promise<string> {
  let done = bundles.get(name);
  if (!done) {
    done = (async () => {
      await Deno.mkdir(BUNDLE_DIR, { recursive: true });
      const out = `${BUNDLE_DIR}/${name}.js`;
      // Written aside and renamed, so a concurrent run never loads half a file.
      const tmp = `${out}.${Deno.pid}.tmp.js`;
      const platform = options.nodeCompat ? "node" : "browser";
      await run(Deno.execPath(), ["bundle", "--quiet", `--platform=${platform}`, entry, "-o", tmp]);
      const code = await Deno.readTextFile(tmp);
      if (options.nodeCompat) {
        // The bundle's `require` (for node:* built-ins) is made from import.meta.url, which a
        // Worker's main module lacks on workerd; built-ins resolve from any base.
        const base = "createRequire(import.meta.url)";
        if (!code.includes(base)) throw new Error(`${entry}: no ${base} in the node bundle`);
        await Deno.writeTextFile(
          tmp,
          code.replace(base, 'createRequire(import.meta.url ?? "file:///worker.js")'),
        );
      } else {
        if (/\bDeno\.[a-z]/.test(code)) throw new Error(`${entry}: the bundle uses a Deno.* API`);
        if (/from\s*["']node:/.test(code)) throw new Error(`${entry}: the bundle imports node:*`);
      }
      await Deno.rename(tmp, out);
      return out;
    })();
    bundles.set(name, done);
  }
  return done;
}

/** What the Worker gets, as Miniflare options (`wrangler.toml` in the Miniflare spelling). */
export interface WorkerdOptions {
  /** The bundled Worker module (see {@linkcode bundleWorker}). */
  script: string;
  /** Compatibility flags, e.g. `["nodejs_compat"]` for a bundle made with `nodeCompat`. */
  compatibilityFlags?: string[];
  /** Plain-text bindings (vars and secrets). */
  bindings?: Record<string, string>;
  /** Workers KV namespace bindings. */
  kvNamespaces?: string[];
  /** Queue producer bindings: binding name to queue name. */
  queueProducers?: Record<string, string>;
  /** Queue consumers: queue name to settings. */
  queueConsumers?: Record<
    string,
    { maxBatchSize?: number; maxBatchTimeout?: number; maxRetries?: number }
  >;
}

/** A Worker running in workerd (or another runtime's server), served on 127.0.0.1. */
export interface Workerd {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** What the harness and the Worker printed (for failure reports). */
  logs: string[];
  /** Disposes workerd (or stops the server) and waits for the process to exit; answers how. */
  close(): Promise<Deno.CommandStatus>;
}

/** Starts a bundled Worker in workerd through Miniflare. */
export async function startWorkerd(options: WorkerdOptions): Promise<Workerd> {
  return await startHarness("node", [`${ROOT}tests/workerd/harness.mjs`, toolDir("miniflare")], {
    MINIFLARE_OPTIONS: JSON.stringify({ ...options, scriptPath: options.script }),
  });
}

/** How {@linkcode startHarness} runs its child. */
export interface HarnessOptions {
  /** The working directory. Default: the repository root. */
  cwd?: string;
  /** The line that says the child serves, its first group the URL. Default `READY <url>`. */
  ready?: RegExp;
  /** Stop by this signal instead of closing stdin (e.g. `deno serve`: `SIGKILL`). */
  stopSignal?: Deno.Signal;
  /** The child gets `env` only (build it with `childEnv`), not this process's environment. */
  clearEnv?: boolean;
  /** On close, a child still running this long after the stop is killed (`SIGKILL`). */
  killAfterMs?: number;
}

/**
 * Starts a harness process that serves on 127.0.0.1, prints `READY <url>` once serving and exits
 * when its stdin closes (`tests/workerd/harness.mjs`, `tests/runtimes/_serve.mjs`), or any server
 * with another ready line and stop signal (`deno serve`). Everything else it prints is kept in
 * `logs`; it must be ready within 30 s.
 *
 * @example
 * ```ts ignore
 * const served = await startHarness("node", ["tests/runtimes/_serve.mjs", bundle, dir], {});
 * await fetch(`${served.url}/v2/recapture/customers`);
 * await served.close();
 * ```
 */
export async function startHarness(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: HarnessOptions = {},
): Promise<Workerd> {
  const readyLine = options.ready ?? /^READY (\S+)/;
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    env,
    clearEnv: options.clearEnv ?? false,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  const ready = Promise.withResolvers<string>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = readyLine.exec(line);
        if (m) ready.resolve(m[1]);
        else logs.push(line);
      }
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const exited = child.status.then((s) => {
    ready.resolve("");
    return s;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    ready.promise,
    new Promise<string>((r) => timer = setTimeout(() => r(""), 30_000)),
  ]);
  clearTimeout(timer);
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  const close = async () => {
    await child.stdin.close().catch(() => {});
    if (options.stopSignal) kill(options.stopSignal);
    const killer = options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => kill("SIGKILL"), options.killAfterMs);
    const status = await exited;
    clearTimeout(killer);
    await drained;
    return status;
  };
  if (!url) {
    kill("SIGTERM");
    await close();
    throw new Error(`${command} ${args[0]} did not start:\n${logs.join("\n")}`);
  }
  return { url: url.replace(/\/$/, ""), logs, close };
}

/** What `deno serve` prints once it serves; its first group is the URL. */
const DENO_SERVE_READY = /Listening on (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Serves a module the way a user does (`deno serve -A <flags> --config deno.json` on 127.0.0.1, a
 * free port), through {@linkcode startHarness}; stopped with `SIGKILL` unless `stopSignal` says.
 *
 * @example
 * ```ts ignore
 * const served = await startDenoServe("examples/deno_deploy.ts", childEnv(), { flags: ["--deny-run"] });
 * await fetch(`${served.url}/v2/recapture/customers`);
 * await served.close();
 * ```
 */
export function startDenoServe(
  entry: string,
  env: Record<string, string>,
  options: HarnessOptions & { flags?: string[] } = {},
): Promise<Workerd> {
  const { flags = [], ...harness } = options;
  const args = ["serve", "-A", ...flags, "--config", `${ROOT}deno.json`];
  return startHarness(
    Deno.execPath(),
    [...args, "--host", "127.0.0.1", "--port", "0", `${ROOT}${entry}`],
    env,
    { ready: DENO_SERVE_READY, stopSignal: "SIGKILL", ...harness },
  );
}

/**
 * Starts a harness, runs `fn` with it and closes it; when `fn` fails, the harness's last 30 lines
 * of output are printed first (they say what the server saw).
 *
 * @example
 * ```ts ignore
 * await withHarness(() => startWorkerd({ script }), async (served) => {
 *   await fetch(served.url);
 * });
 * ```
 */
export async function withHarness<T>(
  start: () => Promise<Workerd>,
  fn: (served: Workerd) => Promise<T>,
): Promise<T> {
  const served = await start();
  try {
    return await fn(served);
  } catch (e) {
    console.error(served.logs.slice(-30).join("\n"));
    throw e;
  } finally {
    await served.close();
  }
}
