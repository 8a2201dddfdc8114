/**
 * Retry policy: which failures are retried, how long to wait, and abortable sleeping.
 * @module
 */

/** Backoff settings (all in ms). */
export interface BackoffOptions {
  /** First backoff delay before jitter. Default 500. */
  baseDelayMs?: number;
  /** Largest exponential backoff delay. Default 8000. */
  maxDelayMs?: number;
  /** Largest wait honoured from `Retry-After` / `Rate-Limit-Reset`. Default 60000. */
  maxRetryAfterMs?: number;
}

/** Resolved backoff settings. */
export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

/** Fills in defaults and checks the numbers. */
export function resolveBackoff(options: BackoffOptions | undefined): Backoff {
  const b = {
    baseDelayMs: options?.baseDelayMs ?? 500,
    maxDelayMs: options?.maxDelayMs ?? 8000,
    maxRetryAfterMs: options?.maxRetryAfterMs ?? 60_000,
  };
  for (const [k, n] of Object.entries(b)) {
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`retry.${k} must be a number ≥ 0`);
  }
  return b;
}

/**
 * The delay before retry number `attempt` (0 = first retry). A delay the server asked for wins
 * (capped at `maxRetryAfterMs`); otherwise, and when the wait asked for is 0 or less
 * (`Retry-After: 0`, or a `Rate-Limit-Reset` already past on this clock: the server's clock may
 * be behind), exponential backoff with jitter in [50%, 100%].
 */
export function retryDelayMs(
  attempt: number,
  requested: number | null,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  if (requested !== null && requested > 0) return Math.min(requested, backoff.maxRetryAfterMs);
  const exp = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** attempt);
  return Math.round(exp * (0.5 + random() / 2));
}

/** Statuses worth retrying (a 429 only if not quota-exhausted, decided by the caller). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

const NEVER_SENT =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|connection refused|dns error|failed to lookup|getaddrinfo|name or service not known|tcp connect error|client error \(connect\)|requests to port \d+ are blocked|bad port/i;

/**
 * Whether a fetch failure proves the request never reached the server (refused connection,
 * DNS failure), so even a non-idempotent request may be sent again.
 */
export function provablyNotSent(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== "object") return NEVER_SENT.test(String(e));
    const rec = e as { message?: unknown; code?: unknown; cause?: unknown };
    if (typeof rec.code === "string" && NEVER_SENT.test(rec.code)) return true;
    if (typeof rec.message === "string" && NEVER_SENT.test(rec.message)) return true;
    e = rec.cause;
  }
  return false;
}

/** Races `promise` against `signal`: rejects with the signal's reason when it aborts first. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
