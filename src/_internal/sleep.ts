/**
 * The one `sleep` of the package: an abortable timer.
 * @module
 */

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts.
 *
 * @example
 * ```ts
 * import { sleep } from "./sleep.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
