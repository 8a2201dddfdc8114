/**
 * Stateless confirmation tokens for destructive tools: an HMAC-SHA256 over the tool name, the
 * region, the resource id and an expiry time. Nothing is stored, so a token minted by one
 * server instance is accepted by another that shares the secret (stateless HTTP).
 *
 * Token format: `<expiry unix seconds>.<base64url hmac>`.
 *
 * @module
 */

/** Why a confirmation token was refused. */
export type TokenProblem = "malformed" | "expired" | "mismatch";

/** What a token is bound to. */
export interface TokenSubject {
  tool: string;
  region: string;
  resourceId: string;
}

/** Mints and checks confirmation tokens. */
export interface ConfirmationTokens {
  /** Mints a token for `subject`, valid for the configured time. */
  mint(subject: TokenSubject): Promise<{ token: string; expiresAt: Date }>;
  /** Checks `token` against `subject`; `null` when it is valid. */
  check(token: string, subject: TokenSubject): Promise<TokenProblem | null>;
}

const encoder = new TextEncoder();

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes canonical unpadded base64url only. `atob` ignores the unused low bits of the last
 * character, so without the round-trip check "…A" and "…B" would decode to the same MAC and a
 * token altered in its last character would still be accepted.
 */
function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let bytes: Uint8Array;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  return toBase64Url(bytes) === text ? bytes : null;
}

function message(subject: TokenSubject, expiry: number): Uint8Array {
  // Fields joined by a byte that cannot appear in a JSON-decoded id without escaping.
  return encoder.encode(
    ["recapture-confirm-v1", subject.tool, subject.region, subject.resourceId, String(expiry)]
      .join("\u0000"),
  );
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
  return {
    async mint(subject) {
      const expiry = Math.floor(now() / 1000) + ttlSeconds;
      const mac = new Uint8Array(
        await crypto.subtle.sign("HMAC", key, message(subject, expiry) as Uint8Array<ArrayBuffer>),
      );
      return { token: `${expiry}.${toBase64Url(mac)}`, expiresAt: new Date(expiry * 1000) };
    },
    async check(token, subject) {
      const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token.trim());
      if (!match) return "malformed";
      const expiry = Number(match[1]);
      const mac = fromBase64Url(match[2]);
      if (!mac) return "malformed";
      // crypto.subtle.verify compares in constant time.
      const ok = await crypto.subtle.verify(
        "HMAC",
        key,
        mac as Uint8Array<ArrayBuffer>,
        message(subject, expiry) as Uint8Array<ArrayBuffer>,
      );
      if (!ok) return "mismatch";
      if (expiry * 1000 <= now()) return "expired";
      return null;
    },
  };
}
