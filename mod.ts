/**
 * `@recapture/sdk`: a typed client for AutoGrab's Customer Recapture API.
 *
 * @example
 * ```ts
 * import { VERSION } from "@recapture/sdk";
 * console.log(VERSION);
 * ```
 * @module
 */

/** The package version. */
export const VERSION: string = "0.1.0";
