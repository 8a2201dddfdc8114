/**
 * Authentication: the `ApiKey` header, or OAuth client credentials with a token cache that is
 * shared by concurrent requests.
 * @module
 */
import { raceSignal } from "./_retry.ts";

/** A header to add to a request, plus the value to hand back on a 401. */
export interface AuthHeader {
  name: string;
  value: string;
}

/** How requests authenticate. */
export interface Auth {
  /** The header for the next attempt. */
  header(signal?: AbortSignal): Promise<AuthHeader | null>;
  /** The header for the next attempt when it is at hand without waiting, else undefined. */
  current(): AuthHeader | undefined;
  /**
   * Called on a 401 with the header that was refused. Returns true when a retry with fresh
   * credentials may succeed (only once per request; the transport enforces that).
   */
  refused(header: AuthHeader | null): boolean;
  /** Strings that must never appear in an error or a log line. */
  secrets(): string[];
}

/** `ApiKey: <key>`. */
export class ApiKeyAuth implements Auth {
  #key: string;
  #header: AuthHeader;
  /** @param key the API key */
  constructor(key: string) {
    this.#key = key;
    this.#header = Object.freeze({ name: "ApiKey", value: key });
  }
  header(): Promise<AuthHeader> {
    return Promise.resolve(this.#header);
  }
  current(): AuthHeader {
    return this.#header;
  }
  refused(): boolean {
    return false;
  }
  secrets(): string[] {
    return [this.#key];
  }
}

/** What the token endpoint answered. */
export interface TokenAnswer {
  accessToken: string;
  /** Lifetime in seconds; 3599 when the server did not say. */
  expiresIn: number;
}

/** Fetches a fresh token (the transport supplies it: no auth, own timeout and retries). */
export type TokenFetcher = (clientId: string, clientSecret: string) => Promise<TokenAnswer>;

/**
 * OAuth client credentials. The token is cached until shortly before it expires (a tenth of its
 * lifetime, at most 60 s, early); concurrent requests share one refresh; a refused token is
 * dropped so the next attempt fetches a new one.
 */
export class OAuthAuth implements Auth {
  #clientId: string;
  #clientSecret: string;
  #fetchToken: TokenFetcher;
  #now: () => number;
  #token: { value: string; refreshAt: number; header: AuthHeader } | null = null;
  #inflight: Promise<string> | null = null;
  #seen: string[] = [];

  /**
   * @param clientId OAuth client id
   * @param clientSecret OAuth client secret
   * @param fetchToken fetches a token
   * @param now clock (ms)
   */
  constructor(
    clientId: string,
    clientSecret: string,
    fetchToken: TokenFetcher,
    now: () => number = Date.now,
  ) {
    this.#clientId = clientId;
    this.#clientSecret = clientSecret;
    this.#fetchToken = fetchToken;
    this.#now = now;
  }

  async header(signal?: AbortSignal): Promise<AuthHeader> {
    const token = await this.token(signal);
    return { name: "Authorization", value: `Bearer ${token}` };
  }

  current(): AuthHeader | undefined {
    const cached = this.#token;
    return cached !== null && this.#now() < cached.refreshAt ? cached.header : undefined;
  }

  /** The cached token, or one shared refresh. The caller's signal only stops its own wait. */
  token(signal?: AbortSignal): Promise<string> {
    const cached = this.#token;
    if (cached !== null && this.#now() < cached.refreshAt) return Promise.resolve(cached.value);
    if (this.#inflight === null) {
      const started = this.#now();
      this.#inflight = this.#fetchToken(this.#clientId, this.#clientSecret).then(
        (answer) => {
          const lifetimeMs = Math.max(0, answer.expiresIn) * 1000;
          const margin = Math.min(60_000, lifetimeMs / 10);
          this.#token = {
            value: answer.accessToken,
            refreshAt: started + lifetimeMs - margin,
            header: Object.freeze({ name: "Authorization", value: `Bearer ${answer.accessToken}` }),
          };
          this.#remember(answer.accessToken);
          return answer.accessToken;
        },
      ).finally(() => {
        this.#inflight = null;
      });
    }
    return signal ? raceSignal(this.#inflight, signal) : this.#inflight;
  }

  refused(header: AuthHeader | null): boolean {
    if (header !== null && this.#token !== null && header.value === `Bearer ${this.#token.value}`) {
      this.#token = null;
    }
    return true;
  }

  secrets(): string[] {
    return [
      this.#clientSecret,
      basicAuth(this.#clientId, this.#clientSecret).slice(6),
      ...this.#seen,
    ];
  }

  #remember(token: string): void {
    this.#seen.push(token);
    if (this.#seen.length > 4) this.#seen.shift();
  }
}

/** HTTP Basic credentials, UTF-8 safe. */
export function basicAuth(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}
