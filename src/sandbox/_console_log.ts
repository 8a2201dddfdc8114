/**
 * What the sandbox console shows that the sandbox does not store: the last API requests, each
 * alert push attempt (with its payload and timing) and customers processed per second. All in
 * memory, bounded, and fed from outside the sandbox (by `serve.ts`): the sandbox itself is
 * unchanged when no console runs.
 *
 * @module
 */
import { maskEndpoint } from "../_internal/mask_endpoint.ts";

/** A bounded list, newest first; `version` changes on every push. */
export class Ring<T> {
  readonly #items: T[] = [];
  readonly #size: number;
  version = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** Adds an item, dropping the oldest beyond the size. */
  push(item: T): void {
    this.#items.unshift(item);
    if (this.#items.length > this.#size) this.#items.pop();
    this.version++;
  }

  /** The items, newest first. */
  list(): readonly T[] {
    return this.#items;
  }
}

/** One API request as the console lists it. */
export interface RequestEntry {
  at: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  /** The credential's last 4 characters (`…abcd`), or null when none was sent. */
  key: string | null;
  rateLimit: { remaining: string; total: string; reset: string } | null;
}

/** The last 4 characters of the request's API key or bearer token, never more. */
export function keyHint(headers: Headers): string | null {
  const given = headers.get("ApiKey") ??
    headers.get("Authorization")?.replace(/^\s*(ApiKey|Bearer|Basic)\s+/i, "") ?? null;
  if (given === null || given.trim() === "") return null;
  const key = given.trim();
  return key.length <= 8 ? "…" : `…${key.slice(-4)}`;
}

/** Records one API request answered by the sandbox. */
export function requestEntry(request: Request, response: Response, ms: number): RequestEntry {
  const url = new URL(request.url);
  const remaining = response.headers.get("Rate-Limit-Remaining");
  return {
    at: new Date().toISOString(),
    method: request.method,
    path: url.pathname + url.search,
    status: response.status,
    ms,
    key: keyHint(request.headers),
    rateLimit: remaining === null ? null : {
      remaining,
      total: response.headers.get("Rate-Limit-Total") ?? "",
      reset: response.headers.get("Rate-Limit-Reset") ?? "",
    },
  };
}

/** One attempt to push an alert to a webhook endpoint. */
export interface PushAttempt {
  at: string;
  eventId: string;
  event: string;
  /** The endpoint with its secrets cut (see `maskEndpoint`). */
  endpoint: string;
  /** The HTTP status, or 0 when no answer came. */
  status: number;
  error: string | null;
  ms: number;
  /** The event as pushed (JSON). */
  payload: string;
}

/**
 * Wraps the fetch alert pushes go out through, recording each attempt in `log`.
 *
 * @example
 * ```ts ignore
 * const pushes = new Ring<PushAttempt>(200);
 * const sandbox = await createSandbox({ pushFetch: observePushes(fetch, pushes) });
 * ```
 */
export function observePushes(
  inner: (request: Request) => Promise<Response>,
  log: Ring<PushAttempt>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const payload = await request.clone().text();
    let event = { id: "?", event: "?" };
    try {
      event = JSON.parse(payload);
    } catch { /* shown as it is */ }
    const started = performance.now();
    const record = (status: number, error: string | null) =>
      log.push({
        at: new Date().toISOString(),
        eventId: String(event.id),
        event: String(event.event),
        endpoint: maskEndpoint(request.url),
        status,
        error,
        ms: Math.round(performance.now() - started),
        payload,
      });
    try {
      const response = await inner(request);
      record(response.status, null);
      return response;
    } catch (e) {
      record(0, e instanceof Error ? e.name : "fetch failed");
      throw e;
    }
  };
}

/** One throughput point: customers processed per second over the second ending at `t`. */
export interface ThroughputPoint {
  /** Epoch ms. */
  t: number;
  perSecond: number;
}

/**
 * Samples a running total (customers processed, over every upload) once a second and keeps the
 * rate of the last `seconds`.
 */
export class Throughput {
  readonly #read: () => Promise<number>;
  readonly #points: ThroughputPoint[] = [];
  readonly #seconds: number;
  #last: { t: number; total: number } | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sampling: Promise<void> = Promise.resolve();
  version = 0;

  constructor(read: () => Promise<number>, seconds = 300) {
    this.#read = read;
    this.#seconds = seconds;
  }

  /** Starts sampling every `everyMs`. */
  start(everyMs = 1000): void {
    this.#timer = setInterval(() => {
      this.#sampling = this.sample().catch(() => {});
    }, everyMs);
  }

  /** Takes one sample now. */
  async sample(): Promise<void> {
    const total = await this.#read();
    const t = Date.now();
    if (this.#last !== null && t > this.#last.t) {
      const perSecond = Math.max(0, (total - this.#last.total) * 1000 / (t - this.#last.t));
      this.#points.push({ t, perSecond });
      while (this.#points.length > this.#seconds) this.#points.shift();
      this.version++;
    }
    this.#last = { t, total };
  }

  /** The points kept, oldest first. */
  points(): readonly ThroughputPoint[] {
    return this.#points;
  }

  /** Stops sampling; resolves when a sample in progress has finished. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sampling;
  }
}
