/**
 * Accounts, API keys and OAuth client-credentials tokens.
 *
 * Keys are accepted as `ApiKey: <key>` and as `Authorization: ApiKey <key>`; tokens from
 * `POST /auth-broker/request-token` (also `/request-token`) as `Authorization: Bearer <token>`.
 * Tokens are stored hashed in KV with their expiry.
 *
 * @module
 */
import { HttpError, MESSAGES, readBytes } from "./_http.ts";
import { randomHex, sha256Hex } from "../_internal/hex.ts";
import { keys } from "./_keys.ts";
import { type Region, REGIONS, type SandboxAccount } from "./_types.ts";
import { isRegion } from "../sdk/schemas.ts";
import { timingSafeEqual } from "../_internal/timing_safe_equal.ts";

/** The development API key of the default sandbox account. */
export const SANDBOX_API_KEY = "sec_sandbox_development_key";
/** The default account's OAuth client id. */
export const SANDBOX_CLIENT_ID = "sandbox_client";
/** The default account's OAuth client secret. */
export const SANDBOX_CLIENT_SECRET = "sandbox_client_secret";

/** The default accounts: one account with every region. */
export function defaultAccounts(): SandboxAccount[] {
  return [{
    id: "acct_sandbox",
    apiKey: SANDBOX_API_KEY,
    clientId: SANDBOX_CLIENT_ID,
    clientSecret: SANDBOX_CLIENT_SECRET,
    regions: [...REGIONS],
  }];
}

/** Who is calling: the account and the identity rate limits count against. */
export interface Caller {
  /** The account id. */
  account: string;
  /** The regions its licence covers. */
  regions: readonly Region[];
  /** The key or token's account, never the secret itself. */
  limiterKey: string;
}

interface StoredToken {
  account: string;
  expires_at: number;
}

/** Resolves callers from request headers. */
export class Auth {
  readonly #byKey = new Map<string, { account: SandboxAccount; ordinal: number }>();
  readonly #byClient = new Map<string, SandboxAccount>();
  readonly #byId = new Map<string, SandboxAccount>();
  readonly #kv: Deno.Kv;
  readonly #now: () => Date;
  readonly #ttl: number;

  constructor(accounts: SandboxAccount[], kv: Deno.Kv, now: () => Date, ttlSeconds: number) {
    this.#kv = kv;
    this.#now = now;
    this.#ttl = ttlSeconds;
    let ordinal = 0;
    for (const account of accounts) {
      if (this.#byId.has(account.id)) {
        throw new TypeError(`Duplicate sandbox account "${account.id}"`);
      }
      for (const r of account.regions ?? []) {
        if (!isRegion(r)) {
          throw new TypeError(`Account "${account.id}" has an unknown region "${r}"`);
        }
      }
      this.#byId.set(account.id, account);
      const list = [...(account.apiKey ? [account.apiKey] : []), ...(account.apiKeys ?? [])];
      for (const key of list) {
        if (this.#byKey.has(key)) {
          throw new TypeError(`An API key is used by two sandbox accounts ("${account.id}")`);
        }
        this.#byKey.set(key, { account, ordinal: ordinal++ });
      }
      if (account.clientId) {
        if (!account.clientSecret) {
          throw new TypeError(`Account "${account.id}" has a clientId but no clientSecret`);
        }
        this.#byClient.set(account.clientId, account);
      }
    }
  }

  /** The caller of a request, or 401. */
  async caller(headers: Headers): Promise<Caller> {
    const authorization = headers.get("authorization")?.trim() ?? "";
    const scheme = authorization.split(/\s+/, 1)[0].toLowerCase();
    const credential = authorization.slice(scheme.length).trim();
    if (scheme === "bearer" && credential) {
      const stored = await this.#kv.get<StoredToken>(keys.token(await sha256Hex(credential)));
      const account = stored.value ? this.#byId.get(stored.value.account) : undefined;
      if (!stored.value || !account || stored.value.expires_at <= this.#now().getTime()) {
        throw new HttpError(401, MESSAGES.invalidToken);
      }
      return {
        account: account.id,
        regions: regionsOf(account),
        limiterKey: `token:${account.id}`,
      };
    }
    const key = headers.get("apikey")?.trim() || (scheme === "apikey" ? credential : "");
    const found = key ? this.#byKey.get(key) : undefined;
    if (!found) throw new HttpError(401, MESSAGES.invalidKey);
    return {
      account: found.account.id,
      regions: regionsOf(found.account),
      limiterKey: `key:${found.ordinal}`,
    };
  }

  /**
   * `POST /auth-broker/request-token`: form body `grant_type=client_credentials`, client id and
   * secret by HTTP Basic auth (or `client_id` / `client_secret` form fields).
   */
  async issueToken(request: Request): Promise<Record<string, unknown>> {
    const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") {
      throw new HttpError(
        415,
        `Content-Type must be application/x-www-form-urlencoded (got ${
          type ? `"${type}"` : "none"
        })`,
      );
    }
    const form = new URLSearchParams(new TextDecoder().decode(await readBytes(request, 8192)));
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") {
      throw new HttpError(
        400,
        grant === null
          ? "grant_type is required and must be client_credentials"
          : `Unsupported grant_type "${grant}": only client_credentials is supported`,
      );
    }
    let id = form.get("client_id") ?? "";
    let secret = form.get("client_secret") ?? "";
    const authorization = request.headers.get("authorization") ?? "";
    if (/^basic\s+/i.test(authorization)) {
      let decoded = "";
      try {
        decoded = atob(authorization.replace(/^basic\s+/i, "").trim());
      } catch {
        throw new HttpError(401, "Malformed Basic authorization header");
      }
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new HttpError(401, "Malformed Basic authorization header");
      try {
        id = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      } catch {
        throw new HttpError(401, "Malformed Basic authorization header (bad percent-encoding)");
      }
    }
    if (!id || !secret) {
      throw new HttpError(401, "Client credentials are required (HTTP Basic auth)");
    }
    const account = this.#byClient.get(id);
    if (!account || !timingSafeEqual(secret, account.clientSecret ?? "")) {
      throw new HttpError(401, "Invalid client credentials");
    }
    const token = `sbx_at_${randomHex(24)}`;
    const expiresAt = this.#now().getTime() + this.#ttl * 1000;
    const stored: StoredToken = { account: account.id, expires_at: expiresAt };
    await this.#kv.set(keys.token(await sha256Hex(token)), stored, {
      expireIn: this.#ttl * 1000 + 60_000,
    });
    return { access_token: token, expires_in: this.#ttl, scope: "recapture", token_type: "bearer" };
  }
}

function regionsOf(account: SandboxAccount): readonly Region[] {
  return account.regions ?? REGIONS;
}
