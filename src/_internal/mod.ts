/**
 * Small helpers with one copy each, shared by the SDK, the edge adapter, the sandbox, the
 * signing scheme and the MCP server. Private to the package; imports nothing of the project.
 *
 * @example
 * ```ts
 * import { timingSafeEqual, toHex } from "./mod.ts";
 * console.log(toHex(new Uint8Array([1, 255])), timingSafeEqual("a", "a")); // "01ff" true
 * ```
 * @module
 */
export { readBodyLimited } from "./body.ts";
export { randomHex, sha256Hex, toHex } from "./hex.ts";
export { maskEndpoint } from "./mask_endpoint.ts";
export { sleep } from "./sleep.ts";
export { timingSafeEqual } from "./timing_safe_equal.ts";
