/**
 * The JavaScript runtimes besides Deno that the matrix runs: where each one's executable is and
 * how it names itself (`navigator.userAgent`, or `process.version` on Node 20). Used by
 * `matrix_test.ts` (the smoke suite) and `servers_test.ts` (the proxy under each server).
 *
 * @module
 */
import { NPM_TOOLS, toolDir } from "../_tools/mod.ts";

/** One runtime: a label for test names, its executable, and the name it reports. */
export interface Runtime {
  label: string;
  /** The executable (resolved when called: a missing tool fails only the tests that use it). */
  exec: () => string;
  /** What the smoke report's `runtime` must match. */
  reports: RegExp;
}

/** Node 20 (the system `node`, as CI machines have it). */
export const NODE_20: Runtime = {
  label: "Node 20 (system node)",
  exec: () => "node",
  reports: /^Node\.js\/v20\./,
};

/** Node 22 (`toolDir("node22")`). */
export const NODE_22: Runtime = {
  label: "Node 22 (toolDir node22)",
  exec: () => `${toolDir("node22")}/${NPM_TOOLS.node22.marker}`,
  reports: /^Node\.js\/22\b/,
};

/** Bun (`toolDir("bun")`, from npm). */
export const BUN: Runtime = {
  label: "Bun (toolDir bun)",
  exec: () => `${toolDir("bun")}/${NPM_TOOLS.bun.marker}`,
  reports: /^Bun\/1\.4\.4$/,
};
