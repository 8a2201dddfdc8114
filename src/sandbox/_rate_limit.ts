/**
 * Per-key rate limits (fixed windows) and monthly quotas, with the API's headers:
 * `Rate-Limit-Remaining`, `Rate-Limit-Total`, `Rate-Limit-Reset` (unix seconds) and
 * `Monthly-Base-Request-Quota`, `Monthly-Max-Request-Quota`, `Monthly-Request-Total`.
 *
 * @module
 */
import { HttpError } from "./_http.ts";
import type { SandboxQuota, SandboxRateLimit } from "./_types.ts";

/** Counts requests per key. */
export class RateLimiter {
  readonly #limit: SandboxRateLimit | false;
  readonly #quota: SandboxQuota | false;
  readonly #now: () => Date;
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #months = new Map<string, { month: string; count: number }>();

  constructor(limit: SandboxRateLimit | false, quota: SandboxQuota | false, now: () => Date) {
    if (limit && (!(limit.limit >= 1) || !(limit.windowMs >= 1))) {
      throw new TypeError("rateLimit needs limit >= 1 and windowMs >= 1");
    }
    if (quota && !(quota.max >= 1 && quota.base >= 0)) {
      throw new TypeError("quota needs max >= 1 and base >= 0");
    }
    this.#limit = limit;
    this.#quota = quota;
    this.#now = now;
  }

  /**
   * Counts one request of `key`; answers the headers to send, or throws a 429 carrying them.
   */
  take(key: string): Record<string, string> {
    const now = this.#now().getTime();
    const headers: Record<string, string> = {};
    let limited: string | null = null;
    let retryAfter = 0;
    if (this.#limit) {
      const { limit, windowMs } = this.#limit;
      let w = this.#windows.get(key);
      if (!w || now >= w.start + windowMs) {
        w = { start: now - (now % windowMs), count: 0 };
        this.#windows.set(key, w);
      }
      w.count++;
      const reset = w.start + windowMs;
      headers["Rate-Limit-Total"] = String(limit);
      headers["Rate-Limit-Remaining"] = String(Math.max(0, limit - w.count));
      headers["Rate-Limit-Reset"] = String(Math.ceil(reset / 1000));
      if (w.count > limit) {
        retryAfter = Math.max(1, Math.ceil((reset - now) / 1000));
        limited = `Rate limit exceeded: ${limit} requests per ${windowMs} ms; retry after ${
          new Date(reset).toISOString()
        }`;
      }
    }
    if (this.#quota) {
      const month = new Date(now).toISOString().slice(0, 7);
      let m = this.#months.get(key);
      if (!m || m.month !== month) {
        m = { month, count: 0 };
        this.#months.set(key, m);
      }
      m.count++;
      headers["Monthly-Base-Request-Quota"] = String(this.#quota.base);
      headers["Monthly-Max-Request-Quota"] = String(this.#quota.max);
      headers["Monthly-Request-Total"] = String(m.count);
      if (m.count > this.#quota.max) {
        limited = `Monthly request quota exceeded: ${this.#quota.max} requests in ${month}`;
        retryAfter = 0;
      }
    }
    if (limited) {
      if (retryAfter > 0) headers["Retry-After"] = String(retryAfter);
      throw new HttpError(429, limited, headers);
    }
    return headers;
  }
}
