/**
 * The one constant-time comparison of the package (bearer tokens, session cookies, CSRF
 * tokens, MACs, client secrets).
 * @module
 */

/**
 * Compares a presented secret with an expected one without an early exit: the time taken
 * depends only on the expected value's length, never on where the two differ. Strings are
 * compared by UTF-16 code unit, byte arrays by byte.
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./timing_safe_equal.ts";
 * console.log(timingSafeEqual("tok_a", "tok_a"), timingSafeEqual("tok_a", "tok_b")); // true false
 * ```
 */
export function timingSafeEqual(
  presented: string | Uint8Array,
  expected: string | Uint8Array,
): boolean {
  const at = (s: string | Uint8Array, i: number): number =>
    typeof s === "string" ? s.charCodeAt(i) : s[i];
  const n = expected.length;
  const m = presented.length;
  let diff = m ^ n;
  for (let i = 0; i < n; i++) {
    diff |= (m === 0 ? 0 : at(presented, i % m)) ^ at(expected, i);
  }
  return diff === 0;
}
