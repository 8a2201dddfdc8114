/**
 * The MCP HTTP server as an OAuth 2.1 resource server (MCP authorization, RFC 9728): it publishes
 * its protected-resource metadata, answers 401 with `WWW-Authenticate: Bearer resource_metadata=…`,
 * and accepts only JWT access tokens its configured authorization server signed for it:
 *
 * - keys only from the configured JWKS URL (a token naming its own key with `jku`, `x5u`, `x5c`
 *   or an embedded `jwk` is refused, as is one with `crit`);
 * - an asymmetric-algorithm allowlist (never `none`, never HMAC);
 * - `iss` equal to the configured issuer, `aud` holding this server's canonical URL (from
 *   configuration, never from `Host`), `exp` required, `exp`/`nbf` checked with
 *   {@linkcode DEFAULT_CLOCK_SKEW_SECONDS} of skew;
 * - scopes (`scope` or `scp`) map to toolsets and read-only mode, intersected with what the
 *   server serves ({@linkcode grantFor}); a token that grants nothing is refused with 403
 *   `insufficient_scope`.
 *
 * The token is checked and dropped here: it never reaches a tool, the SDK client or the API (the
 * server calls the API with its own key).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import * as jose from "jose";
import { RecaptureMcpConfigError } from "./_config_error.ts";

/** Clock skew allowed on `exp` and `nbf` unless configured: 30 seconds. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

/** The signature algorithms accepted: asymmetric only (no `none`, no `HS*`). */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/** Header parameters that would let a token choose its own key, or demand unknown handling. */
const FORBIDDEN_HEADERS = ["jku", "x5u", "x5c", "jwk", "crit"] as const;

/** What each scope grants: toolsets, and for `recapture:write`, writing. */
export const SCOPES: Readonly<Record<string, { toolsets: readonly string[]; write: boolean }>> = {
  "recapture:read": { toolsets: ["uploads", "customers"], write: false },
  "recapture:write": { toolsets: ["uploads", "customers"], write: true },
  "recapture:alerts": { toolsets: ["alerts"], write: false },
  "recapture:code": { toolsets: ["code"], write: false },
};

/**
 * Options of {@linkcode createOAuthGuard}.
 *
 * @example
 * ```ts
 * import type { OAuthOptions } from "./_oauth.ts";
 *
 * const options: OAuthOptions = {
 *   resource: "https://mcp.example.com/mcp",
 *   issuer: "https://login.example.com/",
 *   jwksUrl: "https://login.example.com/.well-known/jwks.json",
 *   serverToolsets: ["uploads", "customers"],
 * };
 * ```
 */
export interface OAuthOptions {
  /**
   * This server's canonical URL, the MCP endpoint as clients reach it (`https://…/mcp`): the
   * audience every token must name. Required; never taken from the request.
   */
  resource: string;
  /** The authorization server's issuer identifier (`iss` of its tokens). */
  issuer: string;
  /** The issuer's JWKS URL: the only place keys come from. */
  jwksUrl: string;
  /** Authorization servers named in the metadata. Default: `[issuer]`. */
  authorizationServers?: readonly string[];
  /** Accepted algorithms, a subset of {@linkcode ASYMMETRIC_ALGORITHMS} (default: all of it). */
  algorithms?: readonly string[];
  /** Clock skew on `exp`/`nbf`, 0 to 300 s. Default {@linkcode DEFAULT_CLOCK_SKEW_SECONDS}. */
  clockSkewSeconds?: number;
  /** The toolsets the server serves; a token's scopes are intersected with them. */
  serverToolsets: readonly string[];
  /** The server runs read-only: no token can grant writing. */
  serverReadOnly?: boolean;
  /** Fetches the JWKS (default global `fetch`); for tests and platforms with their own. */
  jwksFetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/**
 * What a valid token grants for one request: the toolsets to serve and whether writes are off.
 *
 * @example
 * ```ts
 * import type { OAuthGrant } from "./_oauth.ts";
 *
 * const grant: OAuthGrant = {
 *   subject: "user-1",
 *   scopes: ["recapture:read"],
 *   toolsets: ["uploads", "customers"],
 *   readOnly: true,
 * };
 * ```
 */
export interface OAuthGrant {
  /** The token's `sub`, if any (for logs; never sent upstream). */
  subject: string | undefined;
  /** The scopes the token carried. */
  scopes: readonly string[];
  /** The toolsets to serve: the scopes' toolsets within the server's. */
  toolsets: readonly string[];
  /** True unless the token has `recapture:write` and the server is not read-only. */
  readOnly: boolean;
}

/**
 * The toolsets and read-only mode a set of scopes grants on a server serving `serverToolsets`.
 * Unknown scopes grant nothing.
 *
 * @example
 * ```ts
 * import { grantFor } from "./_oauth.ts";
 *
 * const g = grantFor(["recapture:read", "recapture:code"], ["uploads", "customers"], false);
 * console.log(g.toolsets, g.readOnly); // ["uploads", "customers"] true
 * ```
 */
export function grantFor(
  scopes: readonly string[],
  serverToolsets: readonly string[],
  serverReadOnly: boolean,
): { toolsets: string[]; readOnly: boolean } {
  const granted = new Set(scopes.flatMap((s) => SCOPES[s]?.toolsets ?? []));
  const write = scopes.some((s) => SCOPES[s]?.write === true);
  return {
    toolsets: serverToolsets.filter((t) => granted.has(t)),
    readOnly: serverReadOnly || !write,
  };
}

/** The RFC 9728 metadata this server publishes. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_name: string;
}

/** The outcome of checking one request's token. */
export type OAuthCheck =
  | { ok: true; grant: OAuthGrant }
  | { ok: false; status: 401 | 403 | 503; challenge: string | undefined; message: string };

/**
 * A configured resource server: its metadata, where it is served, and the token check.
 *
 * @example
 * ```ts
 * import { createOAuthGuard } from "./_oauth.ts";
 *
 * const guard = createOAuthGuard({
 *   resource: "https://mcp.example.com/mcp",
 *   issuer: "https://login.example.com/",
 *   jwksUrl: "https://login.example.com/.well-known/jwks.json",
 *   serverToolsets: ["uploads", "customers"],
 * });
 * console.log(guard.metadataUrl); // https://mcp.example.com/.well-known/oauth-protected-resource/mcp
 * ```
 */
export interface OAuthGuard {
  /** The canonical resource URL (the audience). */
  resource: string;
  /** The metadata document. */
  metadata: ProtectedResourceMetadata;
  /** Where the metadata is published (RFC 9728: the well-known path before the resource path). */
  metadataUrl: string;
  /** Paths that serve the metadata: the path-aware one, and the root one. */
  metadataPaths: readonly string[];
  /** Checks `Authorization: Bearer <jwt>`. */
  check(authorization: string | undefined): Promise<OAuthCheck>;
  /**
   * Hono middleware: answers 401/403/503 with the right `WWW-Authenticate`, or sets
   * `c.var.oauthGrant` and goes on.
   */
  middleware: MiddlewareHandler<{ Variables: { oauthGrant: OAuthGrant } }>;
  /** Serves the metadata document (for a GET on one of {@linkcode OAuthGuard.metadataPaths}). */
  metadataResponse(c: Context): Response;
}

function absoluteUrl(name: string, value: unknown): URL {
  if (typeof value !== "string" || value === "") {
    throw new RecaptureMcpConfigError(`OAuth: ${name} is required (an absolute https URL)`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RecaptureMcpConfigError(`OAuth: ${name} is not a URL: ${value}`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new RecaptureMcpConfigError(
      `OAuth: ${name} must be https (http only on loopback), got ${url.protocol}`,
    );
  }
  if (url.hash !== "") throw new RecaptureMcpConfigError(`OAuth: ${name} must have no #fragment`);
  return url;
}

/** The canonical form of the resource URL: no query, no trailing slash. */
function canonicalResource(value: unknown): URL {
  const url = absoluteUrl("resource (this server's canonical URL)", value);
  if (url.search !== "") {
    throw new RecaptureMcpConfigError("OAuth: resource must have no ?query");
  }
  return url;
}

function resourceString(url: URL): string {
  const path = url.pathname.replace(/\/+$/, "");
  return url.origin + path;
}

/** `"…"` in a header parameter: the characters a quoted-string may hold. */
function quoted(text: string): string {
  return `"${text.replace(/[^\x20-\x7e]|["\\]/g, " ")}"`;
}

/**
 * Scopes of a payload: `scope` (space-separated string) or `scp` (list or string). Only U+0020
 * separates (RFC 6749 3.3): text joined by a tab, NBSP or line break is one unknown scope.
 */
function scopesOf(payload: jose.JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === "string") return raw.split(" ").filter((s) => s !== "");
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === "string");
  return [];
}

/** Most bytes of a JWKS document read. */
const MAX_JWKS_BYTES = 256 * 1024;

/** Fetches and reads the whole body (at most {@linkcode MAX_JWKS_BYTES}), whatever the status. */
async function boundedFetch(
  fetcher: (url: string, init: RequestInit) => Promise<Response>,
  url: string,
  init: RequestInit,
): Promise<Response> {
  const response = await fetcher(url, init);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_JWKS_BYTES) {
        await reader.cancel();
        throw new Error(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return new Response(body, { status: response.status, headers: response.headers });
}

/** The issuer's keys could not be had. */
class KeysUnavailable extends Error {}

/** Why a token was refused, in words for `error_description` (never the token itself). */
function refusal(error: unknown, issuer: string, audience: string): string | "unavailable" {
  if (error instanceof KeysUnavailable) return "unavailable";
  if (error instanceof jose.errors.JWTExpired) return "the token has expired";
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return `the token was not issued by ${issuer}`;
    if (error.claim === "aud") return `the token is not for this server (audience ${audience})`;
    if (error.claim === "nbf") return "the token is not valid yet (nbf)";
    if (error.claim === "exp") return "the token has no expiry (exp)";
    return `the token's ${error.claim} claim is invalid`;
  }
  if (error instanceof jose.errors.JOSEAlgNotAllowed) return "the token's algorithm is not allowed";
  if (error instanceof jose.errors.JWSSignatureVerificationFailed) {
    return "the token's signature does not verify";
  }
  if (error instanceof jose.errors.JWKSNoMatchingKey) {
    return "no key of the authorization server matches the token";
  }
  if (error instanceof jose.errors.JWKSMultipleMatchingKeys) {
    return "the token's key is ambiguous (add a kid)";
  }
  if (error instanceof jose.errors.JOSEError) return "the token is not a valid signed JWT";
  return "unavailable";
}

/**
 * Builds the resource server. Throws {@linkcode RecaptureMcpConfigError} without a canonical
 * resource URL, issuer or JWKS URL, or with an algorithm outside the asymmetric allowlist.
 *
 * @param options canonical URL, issuer, JWKS URL, the server's toolsets
 * @returns the guard: metadata, token check, Hono middleware
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createOAuthGuard } from "./_oauth.ts";
 *
 * const guard = createOAuthGuard({
 *   resource: "https://mcp.example.com/mcp",
 *   issuer: "https://login.example.com/",
 *   jwksUrl: "https://login.example.com/.well-known/jwks.json",
 *   serverToolsets: ["uploads", "customers"],
 * });
 * const app = new Hono();
 * for (const path of guard.metadataPaths) app.get(path, (c) => guard.metadataResponse(c));
 * app.use("/mcp", guard.middleware);
 * ```
 */
export function createOAuthGuard(options: OAuthOptions): OAuthGuard {
  if (typeof options !== "object" || options === null) {
    throw new RecaptureMcpConfigError("OAuth options must be an object");
  }
  const resourceUrl = canonicalResource(options.resource);
  const resource = resourceString(resourceUrl);
  absoluteUrl("issuer", options.issuer);
  const issuer = options.issuer; // compared exactly with `iss`
  const jwksUrl = absoluteUrl("jwksUrl", options.jwksUrl);
  const algorithms = [...(options.algorithms ?? ASYMMETRIC_ALGORITHMS)];
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new RecaptureMcpConfigError(
        `OAuth: algorithm ${alg} is not allowed (asymmetric only: ${
          ASYMMETRIC_ALGORITHMS.join(", ")
        })`,
      );
    }
  }
  if (algorithms.length === 0) throw new RecaptureMcpConfigError("OAuth: algorithms is empty");
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (typeof skew !== "number" || !Number.isFinite(skew) || skew < 0 || skew > 300) {
    throw new RecaptureMcpConfigError("OAuth: clockSkewSeconds must be a number from 0 to 300");
  }
  if (!Array.isArray(options.serverToolsets)) {
    throw new RecaptureMcpConfigError("OAuth: serverToolsets must be a list of toolset names");
  }
  const servers = [...(options.authorizationServers ?? [issuer])];
  for (const s of servers) absoluteUrl("authorizationServers entry", s);
  const fetcher = options.jwksFetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const remote = jose.createRemoteJWKSet(jwksUrl, {
    timeoutDuration: 5000,
    [jose.customFetch]: (url: string, init: RequestInit) => boundedFetch(fetcher, url, init),
  });
  // A failure to get the keys (unreachable, not 200, not a JWKS) is the server's problem, not the
  // token's: told apart here, since jose reports some of them as generic errors.
  const keys: jose.JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (
        error instanceof jose.errors.JWKSNoMatchingKey ||
        error instanceof jose.errors.JWKSMultipleMatchingKeys
      ) throw error;
      throw new KeysUnavailable();
    }
  };
  const wellKnown = "/.well-known/oauth-protected-resource";
  const resourcePath = resource.slice(resourceUrl.origin.length);
  const metadataPaths = resourcePath === "" ? [wellKnown] : [wellKnown + resourcePath, wellKnown];
  const metadataUrl = resourceUrl.origin + metadataPaths[0];
  const metadata: ProtectedResourceMetadata = {
    resource,
    authorization_servers: servers,
    scopes_supported: Object.keys(SCOPES),
    bearer_methods_supported: ["header"],
    resource_name: "AutoGrab Customer Recapture MCP",
  };
  const challenge = (params: Record<string, string>): string =>
    "Bearer " + Object.entries({ ...params, resource_metadata: metadataUrl })
      .map(([k, v]) => `${k}=${quoted(v)}`).join(", ");
  const invalid = (message: string): OAuthCheck => ({
    ok: false,
    status: 401,
    challenge: challenge({ error: "invalid_token", error_description: message }),
    message: `Unauthorized: ${message}`,
  });

  const check = async (authorization: string | undefined): Promise<OAuthCheck> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) {
      return {
        ok: false,
        status: 401,
        challenge: challenge({}),
        message: "Unauthorized: send an OAuth access token (Authorization: Bearer <token>); " +
          `see ${metadataUrl}`,
      };
    }
    const token = match[1];
    let header: jose.ProtectedHeaderParameters;
    try {
      header = jose.decodeProtectedHeader(token);
    } catch {
      return invalid("the token is not a JWT (this server takes OAuth access tokens only)");
    }
    if (token.split(".").length !== 3) return invalid("the token is not a signed JWT");
    const named = FORBIDDEN_HEADERS.filter((h) => h in header);
    if (named.length > 0) {
      return invalid(`the token header names ${named.join(", ")}; keys come only from the JWKS`);
    }
    if (typeof header.alg !== "string" || !algorithms.includes(header.alg)) {
      return invalid(`the token's algorithm ${String(header.alg)} is not allowed`);
    }
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer,
        audience: resource,
        algorithms,
        clockTolerance: skew,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      const why = refusal(error, issuer, resource);
      if (why === "unavailable") {
        return {
          ok: false,
          status: 503,
          challenge: undefined,
          message: "Service unavailable: the authorization server's keys could not be fetched",
        };
      }
      return invalid(why);
    }
    const scopes = scopesOf(payload);
    const { toolsets, readOnly } = grantFor(
      scopes,
      options.serverToolsets,
      options.serverReadOnly === true,
    );
    if (toolsets.length === 0) {
      const needed = Object.keys(SCOPES).filter((s) =>
        SCOPES[s].toolsets.some((t) => options.serverToolsets.includes(t))
      );
      const message = `the token's scopes grant no tool of this server (it needs one of: ${
        needed.join(", ")
      })`;
      return {
        ok: false,
        status: 403,
        challenge: challenge({
          error: "insufficient_scope",
          scope: needed.join(" "),
          error_description: message,
        }),
        message: `Forbidden: ${message}`,
      };
    }
    return {
      ok: true,
      grant: {
        subject: typeof payload.sub === "string" ? payload.sub : undefined,
        scopes,
        toolsets,
        readOnly,
      },
    };
  };

  const middleware: OAuthGuard["middleware"] = async (c, next) => {
    const result = await check(c.req.header("authorization"));
    if (!result.ok) {
      if (result.challenge) c.header("WWW-Authenticate", result.challenge);
      return c.json(
        { jsonrpc: "2.0", error: { code: -32000, message: result.message }, id: null },
        result.status,
      );
    }
    c.set("oauthGrant", result.grant);
    return await next();
  };

  return {
    resource,
    metadata,
    metadataUrl,
    metadataPaths,
    check,
    middleware,
    metadataResponse: (c) => {
      c.header("Cache-Control", "max-age=300");
      c.header("Access-Control-Allow-Origin", "*");
      return c.json(metadata);
    },
  };
}
