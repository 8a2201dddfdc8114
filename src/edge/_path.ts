/**
 * The one canonical request path: computed once per request from the raw request target (the
 * string the runtime hands over, never a parsed-and-normalised URL), and used for every decision
 * and for forwarding. Only known routes pass; every segment is `[A-Za-z0-9._~-]+`, never `.` or
 * `..`, and holds no `%` at all (so `%2e`, `%2f`, `%252e` and every other escape are refused).
 *
 * Deno's `Request.url` keeps the request line as sent; workerd normalises dot segments first.
 * Checking the raw text makes both answer alike: a 400 before any upstream call.
 *
 * @module
 */

/** One forwarded or routed segment. */
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** The routes the edge knows, by their canonical path. */
export type EdgeRoute =
  | { kind: "healthz" }
  | { kind: "forward"; path: string }
  | { kind: "ingest" }
  | { kind: "alerts" };

/** The outcome of reading a request's path. */
export type PathResult =
  | { ok: true; path: string; route: EdgeRoute }
  | { ok: false; reason: string };

/** The raw path of a request URL string: from the first `/` after the authority to `?` or `#`. */
function rawPathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return "/";
  let end = url.length;
  const q = url.indexOf("?", start);
  if (q >= 0) end = q;
  const h = url.indexOf("#", start);
  if (h >= 0 && h < end) end = h;
  return url.slice(start, end);
}

/**
 * Reads the canonical path of a request URL as the runtime gave it, or says why it is refused.
 * Forwarded routes are `/v2/recapture/upload`, `/v2/recapture/upload/{id}`,
 * `/v2/recapture/customers` and `/v2/recapture/customers/{id}`; the edge's own are `/healthz`,
 * `/webhooks/customers`, `/alerts` and `/alerts/{token}`.
 */
export function canonicalPath(url: string): PathResult {
  const path = rawPathOf(url);
  if (path.length > 2048) return { ok: false, reason: "the path is longer than 2048 characters" };
  if (path === "/") return { ok: false, reason: "no such route" };
  const segments = path.slice(1).split("/");
  for (const s of segments) {
    if (s.includes("%")) return { ok: false, reason: "the path holds a percent-escape" };
    if (s === "." || s === "..") return { ok: false, reason: "the path holds a dot segment" };
    if (!SEGMENT.test(s)) {
      return {
        ok: false,
        reason: s === ""
          ? "the path holds an empty segment"
          : "a path segment holds a character outside A-Z a-z 0-9 . _ ~ -",
      };
    }
  }
  const route = routeOf(segments);
  if (!route) return { ok: false, reason: "no such route" };
  return { ok: true, path, route };
}

function routeOf(s: string[]): EdgeRoute | null {
  if (s.length === 1 && s[0] === "healthz") return { kind: "healthz" };
  if (s.length === 2 && s[0] === "webhooks" && s[1] === "customers") return { kind: "ingest" };
  if (s[0] === "alerts" && s.length <= 2) return { kind: "alerts" };
  if (
    s.length >= 3 && s.length <= 4 && s[0] === "v2" && s[1] === "recapture" &&
    (s[2] === "upload" || s[2] === "customers")
  ) {
    return { kind: "forward", path: `/${s.join("/")}` };
  }
  return null;
}
