/**
 * The command line as a subprocess, as a user runs it: `deno run src/cli/mod.ts` in `dir`, on a
 * sandbox KV file there (no API key), with only the environment a child needs (`childEnv`).
 *
 * @module
 */
import { childEnv } from "../_child_env.ts";

/** `src/cli/mod.ts`, and the project's `deno.json` the child runs with. */
export const CLI: string = new URL("../../src/cli/mod.ts", import.meta.url).pathname;
export const CONFIG: string = new URL("../../deno.json", import.meta.url).pathname;

/** What a run printed and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: no API key, the sandbox on `kv`, then `extra`. */
export function cliEnv(kv: string, extra: Record<string, string> = {}): Record<string, string> {
  return childEnv({ RECAPTURE_SANDBOX_PATH: kv, ...extra });
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** The sandbox file, relative to `dir` (default `sandbox.kv`). */
  kv?: string;
  /** More environment variables. */
  env?: Record<string, string>;
}

/** Runs the CLI with `args` in `dir` and waits for it. */
export async function runCli(
  dir: string,
  args: string[],
  options: RunCliOptions = {},
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, ...args],
    cwd: dir,
    clearEnv: true,
    env: cliEnv(`${dir}/${options.kv ?? "sandbox.kv"}`, options.env),
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
