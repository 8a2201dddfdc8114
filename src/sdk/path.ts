/**
 * Path segments of the API's URLs: ids percent-encoded so that no id can change the path.
 * @module
 */

/**
 * Percent-encodes one path segment; refuses `""`, `.` and `..` (URL parsers treat even
 * `%2E%2E` as `..`, so such an id could climb the path).
 *
 * @example
 * ```ts
 * import { encodePathSegment } from "@recapture/sdk";
 * console.log(encodePathSegment("a/b c")); // "a%2Fb%20c"
 * ```
 */
export function encodePathSegment(segment: string): string {
  if (typeof segment !== "string" || segment === "") {
    throw new TypeError("an id must be a non-empty string");
  }
  if (segment === "." || segment === "..") {
    throw new TypeError(`an id cannot be "${segment}"`);
  }
  if (!segment.isWellFormed()) {
    throw new TypeError("an id must be well-formed Unicode (it has a lone surrogate)");
  }
  return encodeURIComponent(segment);
}
