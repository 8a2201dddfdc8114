/**
 * The one rule for a URL that carries a secret (the API key, the OAuth client secret or token, a
 * webhook's token): https, or plain http only to a loopback host (the local sandbox, tests).
 * @module
 */

/** The rule, for messages. */
export const HTTPS_RULE = "https (http only to localhost, 127.0.0.0/8 or [::1])";

/**
 * Whether `url` keeps what it carries off the network in clear text: https, or http to
 * `localhost`, `127.0.0.0/8` or `[::1]` (the URL parser writes every IPv4 and IPv6 notation of
 * these so).
 */
export function isHttpsOrLoopback(url: URL): boolean {
  if (url.protocol === "https:") return true;
  const host = url.hostname;
  return url.protocol === "http:" &&
    (host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host));
}
