/**
 * Bearer-token authentication of the proxy's own callers, in constant time.
 *
 * @module
 */
import { timingSafeEqual } from "../_internal/timing_safe_equal.ts";
import type { ProxyToken } from "./_config.ts";

/** The outcome of checking a request's credentials. */
export type AuthResult =
  | { ok: true; readOnly: boolean }
  | { ok: false; status: 401 | 403 | 500; code: string; message: string };

const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens. Every configured token
 * is compared (no early exit), so timing does not reveal which one matched.
 */
export function authenticate(
  authorization: string | undefined,
  method: string,
  tokens: readonly ProxyToken[],
): AuthResult {
  if (tokens.length === 0) {
    return {
      ok: false,
      status: 500,
      code: "proxy_misconfigured",
      message: "The proxy has no caller tokens configured (set RECAPTURE_PROXY_TOKENS)",
    };
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
  if (!match) {
    return {
      ok: false,
      status: 401,
      code: authorization ? "invalid_authorization" : "missing_token",
      message: authorization
        ? "Authorization header must be 'Bearer <token>'"
        : "Missing bearer token (Authorization: Bearer <token>)",
    };
  }
  let found: ProxyToken | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(match[1], t.token) && !found) found = t;
  }
  if (!found) {
    return { ok: false, status: 401, code: "invalid_token", message: "Invalid bearer token" };
  }
  if (found.readOnly && !READ_METHODS.has(method.toUpperCase())) {
    return {
      ok: false,
      status: 403,
      code: "read_only_token",
      message: `This token is read-only: ${method.toUpperCase()} is not allowed`,
    };
  }
  return { ok: true, readOnly: found.readOnly === true };
}
