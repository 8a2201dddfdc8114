/**
 * Cloudflare Queues scheduler: the proxy sends jobs to a queue producer binding with
 * `delaySeconds`; the same Worker consumes them through its `queue()` export.
 *
 * @module
 */
import type { CallbackJob, CallbackScheduler } from "./_scheduler.ts";

/** The part of a Cloudflare Queue producer binding the scheduler uses. */
export interface CloudflareQueueBinding {
  /** Sends one message. */
  send(body: unknown, options?: { delaySeconds?: number }): Promise<unknown>;
}

/** One message of a Cloudflare Queues batch. */
export interface CloudflareQueueMessage {
  /** The message body. */
  readonly body: unknown;
  /** Marks the message done. */
  ack(): void;
  /** Asks for redelivery. */
  retry(options?: { delaySeconds?: number }): void;
}

/** A Cloudflare Queues batch, as handed to a Worker's `queue()` handler. */
export interface CloudflareMessageBatch {
  /** The queue name. */
  readonly queue: string;
  /** The messages. */
  readonly messages: readonly CloudflareQueueMessage[];
}

/** Options for {@linkcode cloudflareQueueScheduler}. */
export interface CloudflareQueueSchedulerOptions {
  /** The producer binding's name in `wrangler.toml`. Default `RECAPTURE_CALLBACKS`. */
  binding?: string;
}

/** Cloudflare's largest message delay. */
const MAX_DELAY_SECONDS = 43_200;

/**
 * A {@linkcode CallbackScheduler} on Cloudflare Queues. Bind a producer and a consumer for the
 * same queue in `wrangler.toml` and `export default` the proxy (its `queue()` consumes).
 *
 * @example
 * ```ts
 * import { cloudflareQueueScheduler, createRecaptureProxy } from "@recapture/sdk/edge";
 * const app = createRecaptureProxy({
 *   scheduler: cloudflareQueueScheduler({ binding: "RECAPTURE_CALLBACKS" }),
 * });
 * export default app;
 * ```
 */
export function cloudflareQueueScheduler(
  options: CloudflareQueueSchedulerOptions = {},
): CallbackScheduler {
  const name = options.binding ?? "RECAPTURE_CALLBACKS";
  return {
    async schedule(job: CallbackJob, { delayMs, env }): Promise<void> {
      const binding = env[name] as CloudflareQueueBinding | undefined;
      if (!binding || typeof binding.send !== "function") {
        throw new Error(`Queue binding ${name} is missing from the Worker's env`);
      }
      const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
      await binding.send(job, { delaySeconds });
    },
  };
}
