/**
 * Argument checks shared by the client and its resources: each throws a `TypeError` or
 * `RangeError` that names the argument and shows what was given.
 * @module
 */
import { isRegion, type Region, REGIONS } from "./schemas.ts";

/** `region` checked: one of {@link REGIONS}, else a `TypeError` naming `where`. */
export function checkRegion(region: unknown, where: string): Region {
  if (isRegion(region)) return region;
  throw new TypeError(`${where} must be one of ${REGIONS.join(", ")}, got ${shown(region)}`);
}

/** A value for an error message; never throws (`String()` does on null-prototype objects). */
export function shown(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x.slice(0, 40));
  if (x === null || (typeof x !== "object" && typeof x !== "function")) return String(x);
  return Array.isArray(x) ? "an array" : `a ${typeof x}`;
}

/** An integer ≥ `min`, else a `RangeError` naming `name` (`2.5` is refused, not rounded). */
export function checkCount(n: unknown, name: string, min: number): number {
  if (!Number.isInteger(n) || (n as number) < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${shown(n)}`);
  }
  return n as number;
}

/** A finite number ≥ `min`, else a `RangeError` naming `name`. */
function checkNumber(n: unknown, name: string, min: number): number {
  if (typeof n !== "number" || !Number.isFinite(n) || n < min) {
    throw new RangeError(`${name} must be a number ≥ ${min}, got ${shown(n)}`);
  }
  return n;
}

/**
 * The longest delay accepted (about 23 days): timers overflow past 2^31 − 1 ms and fire at once.
 */
const MAX_DELAY_MS = 2_000_000_000;

/** A delay in ms: a number from `min` to {@link MAX_DELAY_MS}. */
export function checkDelay(n: unknown, name: string, min: number): number {
  const ms = checkNumber(n, name, min);
  if (ms > MAX_DELAY_MS) {
    throw new RangeError(`${name} must be at most ${MAX_DELAY_MS} ms (about 23 days), got ${ms}`);
  }
  return ms;
}

/** Per-call `timeoutMs` and `maxRetries`, checked like the client's own. */
export function callLimits(
  o: { timeoutMs?: number; maxRetries?: number } | undefined,
): { timeoutMs?: number; maxRetries?: number } {
  return {
    timeoutMs: o?.timeoutMs === undefined ? undefined : checkDelay(o.timeoutMs, "timeoutMs", 1),
    maxRetries: o?.maxRetries === undefined ? undefined : checkCount(o.maxRetries, "maxRetries", 0),
  };
}
