/**
 * The one canonical request path: computed once per request from the raw request target (the
 * string the runtime hands over, never a parsed-and-normalised URL), and used for every decision
 * and for forwarding. Only known routes pass; every segment is `[A-Za-z0-9._~-]+`, never `.` or
 * `..`, and holds no `%` at all (so `%2e`, `%2f`, `%252e` and every other escape are refused).
 *
 * Deno's `Request.url` keeps the request line as sent; workerd normalises dot segments first.
 * Checking the raw text makes both answer alike: a 400 before any upstream call. Deno builds that
 * URL from the Host header as sent, so a Host that is not a plain `host[:port]` is refused too
 * (400 `invalid_host`): it would otherwise put its own bytes into the path.
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

/** The outcome of reading a request's path: `invalid_host` when the authority is not one. */
export type PathResult =
  | { ok: true; path: string; route: EdgeRoute }
  | { ok: false; code: "invalid_path" | "invalid_host"; reason: string };

/** What a Host header must be: a plain `host[:port]` (no `/`, `?`, `#`, `\`, `@` or space). */
const AUTHORITY = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

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
 * Reads the canonical path of a request (its URL as the runtime gave it, and a Host header that
 * is only a host), or says why it is refused.
 * Forwarded routes are `/v2/recapture/upload`, `/v2/recapture/upload/{id}`,
 * `/v2/recapture/customers` and `/v2/recapture/customers/{id}`; the edge's own are `/healthz`,
 * `/webhooks/customers`, `/alerts` and `/alerts/{token}`.
 */
export function canonicalPath(request: { url: string; headers: Headers }): PathResult {
  // On Deno the URL's authority is the Host header as sent: one holding `/`, `?` or `#` would
  // move its own bytes into the path. Absent (HTTP/1.0) is fine: the URL then has the listener's.
  const host = request.headers.get("host");
  if (host !== null && !AUTHORITY.test(host)) {
    return {
      ok: false,
      code: "invalid_host",
      reason: "the Host header is not a plain host name or address with an optional port",
    };
  }
  const url = request.url;
  const refuse = (reason: string): PathResult => ({ ok: false, code: "invalid_path", reason });
  const path = rawPathOf(url);
  if (path.length > 2048) return refuse("the path is longer than 2048 characters");
  if (path === "/") return refuse("no such route");
  const segments = path.slice(1).split("/");
  for (const s of segments) {
    if (s.includes("%")) return refuse("the path holds a percent-escape");
    if (s === "." || s === "..") return refuse("the path holds a dot segment");
    if (!SEGMENT.test(s)) {
      return {
        ok: false,
        code: "invalid_path",
        reason: s === ""
          ? "the path holds an empty segment"
          : "a path segment holds a character outside A-Z a-z 0-9 . _ ~ -",
      };
    }
  }
  const route = routeOf(segments);
  if (!route) return refuse("no such route");
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
