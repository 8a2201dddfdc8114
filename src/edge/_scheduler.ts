/**
 * The callback scheduler interface and the job it carries. Jobs hold no secrets: the upstream
 * key and the signing secret are read from the env when a job runs.
 *
 * @module
 */
import type { Region } from "../sdk/schemas.ts";
import type { UploadCompletedEvent } from "../signature/mod.ts";
import type { EdgeEnv } from "./_config.ts";

/** Marks our messages, so a shared queue can carry other work too. */
export const JOB_KIND: CallbackJob["kind"] = "recapture.upload_callback";

/** One step of a completion callback: poll the upload, or deliver the event. */
export interface CallbackJob {
  /** Always `recapture.upload_callback`. */
  kind: "recapture.upload_callback";
  /** The upload to watch. */
  upload_id: string;
  /** Its region. */
  region: Region;
  /** Where to POST the event. */
  callback_url: string;
  /** The event id, fixed from the start so retries carry the same id. */
  event_id: string;
  /** `poll` until the upload is done, then `deliver`. */
  phase: "poll" | "deliver";
  /** Polls made so far (poll phase) or delivery attempts made so far (deliver phase). */
  attempt: number;
  /** When the callback was requested (ms since epoch). */
  started_at: number;
  /** The event, once the upload is done. */
  event?: UploadCompletedEvent;
}

/** Options for {@linkcode CallbackScheduler.schedule}. */
export interface ScheduleOptions {
  /** Run the job no sooner than this. */
  delayMs: number;
  /** The platform env of the caller (Workers reads its queue binding from it). */
  env: EdgeEnv;
}

/**
 * Runs callback jobs later. Implementations: {@linkcode denoKvScheduler} (Deno, Deno Deploy),
 * {@linkcode cloudflareQueueScheduler} (Workers).
 */
export interface CallbackScheduler {
  /** Queues a job to run after `delayMs`. */
  schedule(job: CallbackJob, options: ScheduleOptions): Promise<void>;
  /**
   * Starts pulling jobs and hands each one to `handler` (for pull-based queues such as Deno
   * KV). Push-based queues (Cloudflare) deliver through the proxy's `queue()` export instead.
   */
  listen?(handler: (job: CallbackJob) => Promise<void>): void;
}

/** True when a queue message is one of our jobs. */
export function isCallbackJob(value: unknown): value is CallbackJob {
  const v = value as Partial<CallbackJob> | null;
  return !!v && typeof v === "object" && v.kind === JOB_KIND && typeof v.upload_id === "string" &&
    typeof v.callback_url === "string" && (v.phase === "poll" || v.phase === "deliver");
}
