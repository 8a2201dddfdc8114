/**
 * The served sandbox's `Host` allowlist, against DNS rebinding: a hostile web page that points
 * its own name at 127.0.0.1 must not reach the API (with the well-known development key) or the
 * console. Served requests are answered only when `Host` names loopback, the bound address, or
 * a name the operator allowed (`--console-host`).
 *
 * @module
 */

/** Host names always accepted. */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

/** Addresses that bind every interface: not a name a client puts in `Host`. */
const WILDCARDS: readonly string[] = ["0.0.0.0", "::", "[::]"];

/**
 * The check of a request's `Host` header for a server bound to `bound`, accepting loopback
 * names, `bound` itself (unless a wildcard) and `allowed` (port ignored, any case).
 *
 * @example
 * ```ts
 * const allows = hostAllowlist("127.0.0.1", ["sandbox.lan"]);
 * allows("localhost:8787"); // true
 * allows("evil.example"); // false
 * ```
 */
export function hostAllowlist(
  bound: string,
  allowed: readonly string[],
): (host: string | undefined) => boolean {
  const names = new Set([...LOOPBACK_HOSTS, ...allowed].map((name) => name.toLowerCase()));
  // An IPv6 address is bracketed in `Host` (`[::1]:8787`).
  if (!WILDCARDS.includes(bound)) {
    names.add(hostOnly(bound.includes(":") && !bound.startsWith("[") ? `[${bound}]` : bound));
  }
  names.delete(""); // a malformed name never matches a malformed `Host`
  return (host) => names.has(hostOnly(host ?? ""));
}

/**
 * The host name of a `Host` header value (port dropped, lower case; "" when malformed). Only
 * `host[:port]` is a Host: userinfo (`evil@localhost`), a path, query or fragment are malformed
 * (and on Deno they would move their bytes into the request URL's path).
 */
function hostOnly(host: string): string {
  if (!/^[A-Za-z0-9._~:[\]-]+$/.test(host)) return "";
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return "";
  }
}
