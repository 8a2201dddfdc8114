/**
 * Completion callbacks: poll an upload until it is processed or cancelled, then POST a signed
 * `upload.completed` event to the caller's URL, retrying failed deliveries with backoff.
 *
 * @module
 */
import { isUploadDone } from "../sdk/uploads.ts";
import { RecaptureApiError } from "../sdk/errors.ts";
import type { Region, Upload } from "../sdk/schemas.ts";
import { SIGNATURE_HEADER, signPayload, type UploadCompletedEvent } from "../signature/mod.ts";
import type { EdgeEnv } from "./_config.ts";
import {
  type HostResolver,
  type OutboundPolicy,
  resolvedUrlProblem,
  UNRESOLVED,
} from "./_outbound.ts";
import { type CallbackJob, type CallbackScheduler, JOB_KIND } from "./_scheduler.ts";
import { EVENT_ID_HEADER } from "./_http.ts";
import { userAgent } from "../sdk/version.ts";

/** Timing of callbacks. */
export interface CallbackSettings {
  /** First poll delay and base poll interval (ms). Default 1000. */
  pollIntervalMs?: number;
  /** Largest poll interval (ms); intervals grow 1.5x per poll. Default 60000. */
  maxPollIntervalMs?: number;
  /** Stop watching an upload after this long (ms). Default 24 h. */
  maxWatchMs?: number;
  /** Delivery attempts before giving up. Default 8. */
  maxDeliveryAttempts?: number;
  /** First retry delay (ms); doubles per attempt. Default 2000. */
  retryBaseMs?: number;
  /** Largest retry delay (ms). Default 1 h. */
  retryMaxMs?: number;
  /** Time allowed for one delivery (ms). Default 10000. */
  deliveryTimeoutMs?: number;
}

/** What happened to a callback job step, for logs and tests. */
export type CallbackOutcome =
  | { type: "polled"; uploadId: string; done: boolean }
  | { type: "delivered"; uploadId: string; eventId: string; attempt: number; status: number }
  | {
    type: "delivery_failed";
    uploadId: string;
    eventId: string;
    attempt: number;
    status: number | null;
    willRetry: boolean;
  }
  | { type: "gave_up"; uploadId: string; reason: string };

/** What a callback step needs. */
export interface CallbackDeps {
  /** Reads the upload. */
  retrieve(uploadId: string, region: Region): Promise<Upload>;
  /** The signing secret, or undefined when none is configured. */
  secret: string | undefined;
  /** Where follow-up steps go. */
  scheduler: CallbackScheduler;
  /** The env handed to the scheduler. */
  env: EdgeEnv;
  /** The fetch used for deliveries. */
  fetch: (request: Request) => Promise<Response>;
  /** Timing. */
  settings: CallbackSettings;
  /** The outbound URL policy, applied again before each delivery. */
  outbound: OutboundPolicy;
  /** Resolves the callback's host before each delivery (Deno), refusing private answers. */
  resolveHost?: HostResolver;
  /** Told about every step. */
  onOutcome?: (outcome: CallbackOutcome) => void;
  /** Clock. */
  now: () => Date;
}

/** A new callback job for a just-created upload: the first poll. */
export function newCallbackJob(
  uploadId: string,
  region: Region,
  callbackUrl: string,
  now: Date,
): CallbackJob {
  return {
    kind: JOB_KIND,
    upload_id: uploadId,
    region,
    callback_url: callbackUrl,
    event_id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
    phase: "poll",
    attempt: 0,
    started_at: now.getTime(),
  };
}

function toEvent(job: CallbackJob, upload: Upload, now: Date): UploadCompletedEvent {
  return {
    id: job.event_id,
    type: "upload.completed",
    created_at: now.toISOString(),
    data: {
      upload_id: upload.id,
      region: (typeof upload.region === "string" ? upload.region : null) ?? job.region,
      status: upload.status ?? "completed",
      total_uploaded_customers: upload.total_uploaded_customers,
      total_processed_customers: upload.total_processed_customers,
      total_errors: upload.total_errors,
    },
  };
}

/**
 * Runs one step of a callback job and schedules the next one. Never throws for expected
 * failures (they are rescheduled or given up); throws only when the scheduler itself fails.
 */
export async function runCallbackJob(job: CallbackJob, deps: CallbackDeps): Promise<void> {
  const s = deps.settings;
  const now = deps.now();
  if (job.phase === "poll") {
    let upload: Upload | undefined;
    try {
      upload = await deps.retrieve(job.upload_id, job.region);
    } catch (e) {
      if (e instanceof RecaptureApiError && (e.status === 404 || e.status === 403)) {
        deps.onOutcome?.({ type: "gave_up", uploadId: job.upload_id, reason: e.code });
        return;
      }
      // A transient failure (network, 5xx, rate limit): poll again below.
    }
    const done = upload !== undefined && isUploadDone(upload);
    deps.onOutcome?.({ type: "polled", uploadId: job.upload_id, done });
    if (!upload || !done) {
      if (now.getTime() - job.started_at > (s.maxWatchMs ?? 86_400_000)) {
        deps.onOutcome?.({ type: "gave_up", uploadId: job.upload_id, reason: "watch_expired" });
        return;
      }
      const base = s.pollIntervalMs ?? 1000;
      const delayMs = Math.min(s.maxPollIntervalMs ?? 60_000, base * 1.5 ** job.attempt);
      await deps.scheduler.schedule({ ...job, attempt: job.attempt + 1 }, {
        delayMs,
        env: deps.env,
      });
      return;
    }
    job = { ...job, phase: "deliver", attempt: 0, event: toEvent(job, upload, now) };
  }
  await deliver(job, deps);
}

async function deliver(job: CallbackJob, deps: CallbackDeps): Promise<void> {
  const s = deps.settings;
  const event = job.event;
  if (!event) {
    deps.onOutcome?.({ type: "gave_up", uploadId: job.upload_id, reason: "no_event" });
    return;
  }
  if (!deps.secret) {
    deps.onOutcome?.({ type: "gave_up", uploadId: job.upload_id, reason: "no_callback_secret" });
    return;
  }
  // Checked again at each delivery: the policy may have tightened since the job was queued,
  // and on Deno the name is resolved now (a private answer is refused, not retried).
  const refused = await resolvedUrlProblem(job.callback_url, deps.outbound, deps.resolveHost);
  const unresolved = refused === UNRESOLVED;
  if (refused && !unresolved) {
    deps.onOutcome?.({
      type: "gave_up",
      uploadId: job.upload_id,
      reason: `destination_refused: callback_url ${refused}`,
    });
    return;
  }
  const body = JSON.stringify(event);
  let status: number | null = null;
  if (!unresolved) {
    try {
      const response = await deps.fetch(
        new Request(job.callback_url, {
          method: "POST",
          redirect: "manual",
          headers: {
            "content-type": "application/json",
            "user-agent": userAgent("edge"),
            [EVENT_ID_HEADER]: event.id,
            "recapture-delivery-attempt": String(job.attempt + 1),
            [SIGNATURE_HEADER]: await signPayload(body, deps.secret),
          },
          body,
          signal: AbortSignal.timeout(s.deliveryTimeoutMs ?? 10_000),
        }),
      );
      status = response.status;
      await response.body?.cancel().catch(() => {});
    } catch {
      status = null;
    }
  }
  const attempt = job.attempt + 1;
  if (status !== null && status >= 200 && status < 300) {
    deps.onOutcome?.({
      type: "delivered",
      uploadId: job.upload_id,
      eventId: event.id,
      attempt,
      status,
    });
    return;
  }
  const willRetry = attempt < (s.maxDeliveryAttempts ?? 8);
  deps.onOutcome?.({
    type: "delivery_failed",
    uploadId: job.upload_id,
    eventId: event.id,
    attempt,
    status,
    willRetry,
  });
  if (!willRetry) {
    deps.onOutcome?.({ type: "gave_up", uploadId: job.upload_id, reason: "delivery_failed" });
    return;
  }
  const base = s.retryBaseMs ?? 2000;
  const delayMs = Math.min(s.retryMaxMs ?? 3_600_000, base * 2 ** (attempt - 1));
  await deps.scheduler.schedule({ ...job, attempt }, { delayMs, env: deps.env });
}
