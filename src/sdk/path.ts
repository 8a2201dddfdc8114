/**
 * Path segments of the API's URLs: ids percent-encoded so that no id can change the path.
 * @module
 */

/**
 * Percent-encodes one path segment; refuses `""`, `.` and `..` (URL parsers treat even
 * `%2E%2E` as `..`, so such an id could climb the path), naming the argument as `name` (the
 * caller's parameter, e.g. `"customerId"`).
 *
 * @example
 * ```ts
 * import { encodePathSegment } from "@recapture/sdk";
 * console.log(encodePathSegment("a/b c")); // "a%2Fb%20c"
 * ```
 */
export function encodePathSegment(segment: string, name = "an id"): string {
  if (typeof segment !== "string" || segment === "") {
    const got = typeof segment === "string" ? '""' : segment === null ? "null" : typeof segment;
    throw new TypeError(`${name} must be a non-empty string, got ${got}`);
  }
  if (segment === "." || segment === "..") {
    throw new TypeError(`${name} cannot be "${segment}"`);
  }
  if (!segment.isWellFormed()) {
    throw new TypeError(`${name} must be well-formed Unicode (it has a lone surrogate)`);
  }
  return encodeURIComponent(segment);
}
