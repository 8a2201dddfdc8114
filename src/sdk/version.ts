/**
 * The package version (held equal to `deno.json`'s `version` by tests/sdk/version_test.ts) and
 * the `User-Agent` every part of the package sends.
 * @module
 */

/**
 * The package version.
 *
 * @example
 * ```ts
 * import { VERSION } from "@recapture/sdk";
 * console.log(VERSION); // "0.1.0"
 * ```
 */
export const VERSION: string = "0.1.0";

/**
 * The `User-Agent` a part of the package sends: `recapture-<part>/<version>`, then `(purpose)`.
 *
 * @example
 * ```ts
 * import { userAgent } from "./version.ts";
 * console.log(userAgent("edge", "alerts")); // "recapture-edge/0.1.0 (alerts)"
 * ```
 */
export function userAgent(part: string, purpose?: string): string {
  return `recapture-${part}/${VERSION}${purpose === undefined ? "" : ` (${purpose})`}`;
}
