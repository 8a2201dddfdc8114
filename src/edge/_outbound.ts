/**
 * The outbound URL policy: every URL the edge calls (a caller's or a signer's `callback_url`, the
 * operator's alert destinations and upstream base URL) passes it first.
 *
 * - https only, port 443 unless the host allowlist names `host:port`;
 * - no credentials, no IPv6 zone id, at most 2048 characters;
 * - the host is a DNS name with a dot: no IP literal in any notation (the URL parser turns
 *   decimal, hex, octal and short IPv4 into dotted quads, so all are caught), no `localhost`-like,
 *   `.internal`, `.local` or single-label name;
 * - when the operator gives a host allowlist, only those hosts;
 * - redirects are never followed (deliveries use `redirect: "manual"`);
 * - where the runtime can resolve names (Deno), the name is resolved before each delivery and a
 *   private, loopback, link-local, CGNAT, multicast, unspecified or metadata answer is refused.
 *
 * Development: `allowLoopback` (env `RECAPTURE_DEV_ALLOW_LOOPBACK=1`), off by default, lets
 * `http` or `https` reach `127.0.0.1`, `[::1]` or `localhost` written exactly so, on any port.
 *
 * @module
 */

/** What the policy allows besides public https on 443. */
export interface OutboundPolicy {
  /** When non-empty, the only hosts allowed: `name` (port 443) or `name:port`. */
  allowHosts: readonly string[];
  /** Development only: loopback (`127.0.0.1`, `[::1]`, `localhost`) over http or https. */
  allowLoopback: boolean;
}

/**
 * Resolves a host name to its addresses, for the check before each delivery.
 *
 * @example On Deno
 * ```ts ignore
 * const resolveHost: HostResolver = async (host) =>
 *   (await Promise.allSettled([Deno.resolveDns(host, "A"), Deno.resolveDns(host, "AAAA")]))
 *     .flatMap((a) => a.status === "fulfilled" ? a.value : []);
 * ```
 */
export type HostResolver = (hostname: string) => Promise<string[]>;

/** The reason {@linkcode resolvedUrlProblem} gives when the name has no answer (retry later). */
export const UNRESOLVED = "its host does not resolve";

const LOOPBACK_AS_WRITTEN =
  /^[a-z][a-z0-9+.-]*:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d{1,5})?(\/|\?|#|$)/;
const BLOCKED_NAMES = /(^|\.)(localhost|internal|local|localdomain|home\.arpa|intranet|lan)$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Why a URL may not be called under `policy`, or null when it may. The reason never repeats the
 * URL (it may hold a secret such as a Slack webhook path).
 */
export function outboundUrlProblem(value: unknown, policy: OutboundPolicy): string | null {
  if (typeof value !== "string" || value === "") return "must be a URL string";
  if (value.length > 2048) return "must be at most 2048 characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a valid URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (policy.allowLoopback && LOOPBACK_AS_WRITTEN.test(value)) {
    return url.protocol === "https:" || url.protocol === "http:" ? null : "must be an https URL";
  }
  if (url.protocol !== "https:") return "must be an https URL";
  const host = url.hostname.toLowerCase();
  if (host.startsWith("[") || host.includes("%")) {
    return "must name a DNS host, not an IP address";
  }
  const name = host.replace(/\.+$/, "");
  if (IPV4.test(name)) return "must name a DNS host, not an IP address";
  if (!name.includes(".")) return "must name a fully qualified DNS host";
  if (BLOCKED_NAMES.test(name)) return "must not name a local or internal host";
  if (policy.allowHosts.length > 0) {
    const hostPort = url.port ? `${name}:${url.port}` : name;
    if (!policy.allowHosts.some((h) => h.toLowerCase() === hostPort)) {
      return "host is not in the allowlist (RECAPTURE_OUTBOUND_ALLOW_HOSTS)";
    }
  } else if (url.port !== "") {
    return "must use port 443 (another port needs RECAPTURE_OUTBOUND_ALLOW_HOSTS host:port)";
  }
  return null;
}

/**
 * Resolves the URL's host with `resolver` (when there is one) and answers why it may not be
 * called now: a private answer, or no answer. Loopback allowed by the development opt-in and IP
 * literals (already refused by {@linkcode outboundUrlProblem}) are not resolved.
 */
export async function resolvedUrlProblem(
  value: string,
  policy: OutboundPolicy,
  resolver: HostResolver | undefined,
): Promise<string | null> {
  const problem = outboundUrlProblem(value, policy);
  if (problem || !resolver) return problem;
  if (policy.allowLoopback && LOOPBACK_AS_WRITTEN.test(value)) return null;
  const host = new URL(value).hostname.replace(/\.+$/, "");
  let addresses: string[];
  try {
    addresses = await resolver(host);
  } catch {
    return UNRESOLVED;
  }
  if (addresses.length === 0) return UNRESOLVED;
  if (addresses.some(isNonPublicAddress)) return "its host resolves to a non-public address";
  return null;
}

/**
 * Whether an IP address (IPv4 dotted quad or IPv6 text) is private, loopback, link-local
 * (metadata included), CGNAT, multicast, unspecified, reserved, or a v4-mapped/translated form of
 * one. Text that is not an address counts as non-public.
 */
export function isNonPublicAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (IPV4.test(a)) return isNonPublicV4(a.split(".").map(Number));
  const groups = ipv6Groups(a);
  if (!groups) return true;
  if (groups.every((g) => g === 0)) return true; // ::
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true; // ::1
  // v4-mapped ::ffff:a.b.c.d, v4-compatible ::a.b.c.d, NAT64 64:ff9b::/96.
  const v4Tail = [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255];
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0)) {
    return isNonPublicV4(v4Tail);
  }
  // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765).
  if (groups.slice(0, 4).every((g) => g === 0) && groups[4] === 0xffff && groups[5] === 0) {
    return isNonPublicV4(v4Tail);
  }
  if (groups[0] === 0x64 && groups[1] === 0xff9b) return isNonPublicV4(v4Tail);
  const first = groups[0];
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (first === 0x2001 && groups[1] === 0x0db8) return true; // documentation
  if (first === 0x2002) {
    return isNonPublicV4([groups[1] >> 8, groups[1] & 255, groups[2] >> 8, groups[2] & 255]); // 6to4
  }
  return false;
}

function isNonPublicV4([a, b, c]: number[]): boolean {
  return a === 0 || a === 10 || a === 127 || a >= 224 || // this, private, loopback, multicast+
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113);
}

/** Eight 16-bit groups of an IPv6 address, or null. */
function ipv6Groups(text: string): number[] | null {
  if (text.includes("%")) return null;
  let s = text;
  const tail: number[] = [];
  const v4 = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (v4) {
    const q = v4[1].split(".").map(Number);
    if (q.some((n) => n > 255)) return null;
    tail.push((q[0] << 8) | q[1], (q[2] << 8) | q[3]);
    s = s.slice(0, -v4[1].length);
    if (s.endsWith(":") && !s.endsWith("::")) s = s.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 && known !== 8) return null;
  if (known > 8) return null;
  return [...head, ...new Array(8 - known).fill(0), ...rest, ...tail];
}
