/**
 * Deno KV queue scheduler: delayed messages carry the jobs, on a local file, in memory or on
 * Deno Deploy's managed KV.
 *
 * @module
 */
import type { CallbackJob, CallbackScheduler } from "./_scheduler.ts";
import { isCallbackJob } from "./_scheduler.ts";

/** The part of `Deno.Kv` the scheduler uses (a `Deno.Kv` fits it). */
export interface KvQueue {
  /** Enqueues a message, delivered after `delay` ms. */
  enqueue(value: unknown, options?: { delay?: number }): Promise<unknown>;
  /** Calls `handler` for each delivered message until the KV is closed. */
  listenQueue(handler: (value: unknown) => Promise<void> | void): Promise<void>;
}

/**
 * A {@linkcode CallbackScheduler} on Deno KV queues. Give it a KV of its own (a KV accepts one
 * queue listener): messages that are not callback jobs are ignored.
 *
 * @example
 * ```ts ignore
 * import { createRecaptureProxy, denoKvScheduler } from "@recapture/sdk/edge";
 * const kv = await Deno.openKv(":memory:");
 * const app = createRecaptureProxy({ env: (name) => Deno.env.get(name), scheduler: denoKvScheduler(kv) });
 * Deno.serve(app.fetch);
 * ```
 */
export function denoKvScheduler(kv: KvQueue): CallbackScheduler {
  let listening = false;
  return {
    async schedule(job: CallbackJob, { delayMs }): Promise<void> {
      await kv.enqueue(job, { delay: Math.max(0, Math.round(delayMs)) });
    },
    listen(handler: (job: CallbackJob) => Promise<void>): void {
      if (listening) return;
      listening = true;
      kv.listenQueue(async (value) => {
        if (isCallbackJob(value)) await handler(value);
      }).catch(() => {/* the KV was closed */});
    },
  };
}
