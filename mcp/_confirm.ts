/**
 * Confirmation tokens for the operator's `token-unverified` mode: a token proves only that a
 * preview of exactly this call was fetched from a server holding the same secret, not that a
 * person agreed (hence the mode's name). A token is an HMAC-SHA256 over the server's key id, an
 * expiry time, a random nonce and a digest of the call (tool, region, resource, arguments), so a
 * server restarted with the same secret (kept beside its data, or given in the environment)
 * accepts the tokens it minted before.
 *
 * A token for a call that is not idempotent (an upload, a create) is single-use: its nonce is
 * remembered, until the token expires, by this process ({@linkcode UsedTokens}), and a second
 * use is refused (`used`). Servers in other processes do not share that memory: docs/mcp.md
 * says what a multi-instance deployment gets.
 *
 * Token format: `c2.<key id>.<expiry unix seconds>.<nonce>.<call digest>.<mac>` (base64url
 * parts).
 *
 * @module
 */
import { toHex } from "../src/_internal/hex.ts";

/**
 * Why a confirmation token was refused: issued by a server with another secret, altered (or not
 * a token at all), issued for another call (resource, region or arguments), or expired.
 */
export type TokenProblem = "other_server" | "altered" | "other_call" | "expired" | "used";

/** The call a token is bound to. */
export interface TokenSubject {
  tool: string;
  region: string;
  resourceId: string;
  /** The call's other arguments (canonicalised before hashing; key order does not matter). */
  args?: unknown;
  /** What the call's effects were worked out from besides its arguments (a file's rows). */
  input?: unknown;
}

/** Mints and checks confirmation tokens. */
export interface ConfirmationTokens {
  /** Mints a token for `subject`, valid for the configured time. */
  mint(subject: TokenSubject): Promise<{ token: string; expiresAt: Date }>;
  /**
   * Checks `token` against `subject`; `null` when it is valid. With `singleUse`, a valid token
   * is also spent: checked again, it is `used`.
   */
  check(
    token: string,
    subject: TokenSubject,
    options?: { singleUse?: boolean },
  ): Promise<TokenProblem | null>;
}

/**
 * The nonces of spent single-use tokens, each kept until its token expires (then it is refused
 * as expired anyway). One per process, shared by every server in it: a stateless HTTP server is
 * made anew for each request, and must still see the tokens spent before.
 */
export class UsedTokens {
  readonly #expiries = new Map<string, number>();

  /**
   * Spends `nonce`: `true` the first time, `false` after. Forgets spent nonces whose tokens have
   * expired (`expiresAtMs` at or before `nowMs`), so it holds at most the tokens of one TTL.
   *
   * @example
   * ```ts
   * import { UsedTokens } from "./_confirm.ts";
   * const used = new UsedTokens();
   * console.log(used.spend("n1", 2_000, 1_000), used.spend("n1", 2_000, 1_500)); // true false
   * ```
   */
  spend(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    for (const [spent, expiry] of this.#expiries) {
      if (expiry <= nowMs) this.#expiries.delete(spent);
    }
    if (this.#expiries.has(nonce)) return false;
    this.#expiries.set(nonce, expiresAtMs);
    return true;
  }
}

/** This process's spent tokens (see {@linkcode UsedTokens}). */
const SPENT = new UsedTokens();

const encoder = new TextEncoder();

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** JSON with object keys sorted at every depth, so equal arguments hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

async function callDigest(subject: TokenSubject): Promise<string> {
  const text = canonicalJson([
    "recapture-confirm-v2",
    subject.tool,
    subject.region,
    subject.resourceId,
    subject.args ?? null,
    ...(subject.input === undefined ? [] : [subject.input]),
  ]);
  return toBase64Url((await sha256(text)).slice(0, 16));
}

/**
 * Creates a token minter/checker.
 *
 * @param secret HMAC key material (at least 16 bytes).
 * @param ttlSeconds how long a token stays valid.
 * @param now the clock, in milliseconds (tests move it).
 */
export async function createConfirmationTokens(
  secret: Uint8Array,
  ttlSeconds: number,
  now: () => number,
): Promise<ConfirmationTokens> {
  const key = await crypto.subtle.importKey(
    "raw",
    secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  // A public name for the secret (a hash of a hash: it reveals nothing about the secret).
  const keyId = toHex(
    await sha256("recapture-confirm-key-id:" + toHex(await sha256(toHex(secret)))),
  ).slice(0, 12);
  const sign = async (body: string): Promise<Uint8Array> =>
    new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return {
    async mint(subject) {
      const expiry = Math.floor(now() / 1000) + ttlSeconds;
      const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
      const body = `c2.${keyId}.${expiry}.${nonce}.${await callDigest(subject)}`;
      return {
        token: `${body}.${toBase64Url(await sign(body))}`,
        expiresAt: new Date(expiry * 1000),
      };
    },
    async check(token, subject, options = {}) {
      const match =
        /^c2\.([0-9a-f]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/
          .exec(token.trim());
      if (!match) return "altered";
      const [, id, expiry, nonce, digest, mac] = match;
      if (id !== keyId) return "other_server";
      const body = `c2.${id}.${expiry}.${nonce}.${digest}`;
      // crypto.subtle.verify compares in constant time; re-encoding rejects non-canonical
      // base64url (atob ignores the last character's unused bits).
      const expected = toBase64Url(await sign(body));
      const ok = await crypto.subtle.verify(
        "HMAC",
        key,
        Uint8Array.from(
          atob(mac.replaceAll("-", "+").replaceAll("_", "/")),
          (c) => c.charCodeAt(0),
        ),
        encoder.encode(body),
      );
      if (!ok || expected !== mac) return "altered";
      if (digest !== await callDigest(subject)) return "other_call";
      const expiresAtMs = Number(expiry) * 1000;
      if (expiresAtMs <= now()) return "expired";
      // Spent last, only once every other check passed: a refused token stays unspent.
      if (options.singleUse && !SPENT.spend(`${id}.${nonce}`, expiresAtMs, now())) return "used";
      return null;
    },
  };
}

/** What each token problem means, in words for the refusal. */
export const TOKEN_PROBLEMS: Readonly<Record<TokenProblem, string>> = {
  other_server: "it was issued by another server (one with a different confirmation secret)",
  altered: "it has been altered or is not a confirmation token (its signature does not match)",
  other_call: "it was issued for another call (another resource, region or other arguments)",
  expired: "it has expired",
  used: "it was already used, and the call it confirmed has already run (this tool's token " +
    "confirms one call: repeating it would do it again)",
};
