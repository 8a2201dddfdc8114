/**
 * Webhook endpoints shown without their secrets (AutoGrab authenticates a push only by a token in
 * its URL), for the CLI's and the MCP tools' listings.
 *
 * @module
 */

/**
 * An endpoint URL with its secrets cut: each query value and each path segment longer than 12
 * characters shows only its first 4 characters.
 *
 * @example
 * ```ts
 * import { maskEndpoint } from "./mask_endpoint.ts";
 * console.log(maskEndpoint("https://e.com/alerts/0123456789abcdef?token=secret"));
 * // https://e.com/alerts/0123…?token=…
 * ```
 */
export function maskEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "…";
  }
  const path = url.pathname.split("/").map((s) => (s.length > 12 ? `${s.slice(0, 4)}…` : s))
    .join("/");
  const query = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=…`).join("&");
  return `${url.protocol}//${url.host}${path}${query ? `?${query}` : ""}`;
}
