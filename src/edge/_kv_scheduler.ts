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
 * One Deno KV queue for several consumers (Deno Deploy gives a project one KV): the proxy's
 * {@linkcode denoKvScheduler} and the alert relay's durable retries (`createAlertRelay({ queue
 * })`). A KV hands each message to one of its listeners, and each consumer drops messages that
 * are not its own kind, so two listeners on one KV would lose each other's messages. This view
 * listens once and hands every message to every consumer in turn; a consumer's error is rethrown
 * after all have run, so the KV redelivers the message (the others ignore it again).
 *
 * @example
 * ```ts
 * import { createAlertRelay, createRecaptureProxy, denoKvScheduler, sharedKvQueue } from "@recapture/sdk/edge";
 * const kv = await Deno.openKv(":memory:");
 * const queue = sharedKvQueue(kv);
 * const alerts = createAlertRelay({ tokens: ["3f9c0d7e5b2a4c1f8e6d9b0a7c5e3f1d"], queue });
 * const app = createRecaptureProxy({ scheduler: denoKvScheduler(queue), alerts });
 * console.log(typeof app.fetch); // "function"
 * kv.close();
 * ```
 */
export function sharedKvQueue(kv: KvQueue): KvQueue {
  const handlers: ((value: unknown) => Promise<void> | void)[] = [];
  let listening: Promise<void> | undefined;
  return {
    enqueue: (value, options) => kv.enqueue(value, options),
    listenQueue(handler): Promise<void> {
      handlers.push(handler);
      return listening ??= kv.listenQueue(async (value) => {
        const errors: unknown[] = [];
        for (const h of handlers) {
          try {
            await h(value);
          } catch (e) {
            errors.push(e);
          }
        }
        if (errors.length > 0) throw errors[0];
      });
    },
  };
}

/**
 * A {@linkcode CallbackScheduler} on Deno KV queues. Give it a KV of its own (a KV hands each
 * message to one of its listeners), or share one through {@linkcode sharedKvQueue}: messages that
 * are not callback jobs are ignored.
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
