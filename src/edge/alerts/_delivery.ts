/**
 * Delivery of relayed alerts: one POST per destination (a generic webhook signed with our scheme,
 * or a Slack-compatible incoming webhook), each destination retried with backoff on its own until
 * it answers 2xx: in memory, or durably in a Deno KV queue (a queued retry survives a restart).
 *
 * @module
 */
import { userAgent } from "../../sdk/version.ts";
import type { AlertEvent } from "../../sdk/alert_events.ts";
import type { Customer } from "../../sdk/schemas.ts";
import { SIGNATURE_HEADER, signPayload } from "../../signature/mod.ts";
import { EVENT_ID_HEADER } from "../_http.ts";
import { sleep } from "../../_internal/sleep.ts";
import { sha256Hex } from "../../_internal/hex.ts";
import type { KvQueue } from "../_kv_scheduler.ts";
import { type HostResolver, type OutboundPolicy, resolvedUrlProblem } from "../_outbound.ts";
import { slackText } from "./_slack.ts";

/**
 * A generic HTTPS endpoint of yours (a CRM, a queue): receives the enriched event as JSON, signed
 * with our scheme (`Recapture-Signature`, `@recapture/sdk/webhooks`).
 */
export interface WebhookDestination {
  /** `webhook` */
  kind: "webhook";
  /** Where to POST. */
  url: string;
  /** The secret for `Recapture-Signature`. */
  secret: string;
  /** A name for logs (default: the URL's host). */
  name?: string;
}

/** A Slack-compatible incoming webhook: receives `{ text }`. */
export interface SlackDestination {
  /** `slack` */
  kind: "slack";
  /** The incoming-webhook URL (a secret). */
  url: string;
  /** A name for logs (default `slack`). */
  name?: string;
}

/** Where alerts are relayed. */
export type AlertDestination = WebhookDestination | SlackDestination;

/** The event as relayed to a generic webhook: AutoGrab's event plus the customer record. */
export interface EnrichedAlert {
  /** AutoGrab's event id (relayed unchanged: de-duplicate on it downstream too). */
  id: string;
  /** The event name. */
  event: string;
  /** When AutoGrab created the event. */
  created_at: string | null;
  /** The region. */
  region: string | null;
  /** AutoGrab's `data`, unchanged. */
  data: unknown;
  /** The customer record, or null (a ping, a deleted customer, or the lookup failed). */
  customer: Customer | null;
  /** Why `customer` is null for a Recapture alert (`not_found`, or an error code). */
  customer_error?: string;
  /** When the relay received the event. */
  received_at: string;
}

/** What happened to one relay attempt (for logs and tests). */
export interface AlertDeliveryOutcome {
  /** The event id. */
  eventId: string;
  /** The destination's name. */
  destination: string;
  /** 1 for the first try. */
  attempt: number;
  /** The HTTP status, or 0 when the request failed. */
  status: number;
  /** `delivered`, `retrying` or `failed` (retries used up). */
  outcome: "delivered" | "retrying" | "failed";
}

/**
 * The relay's claim on an event id (its replay guard entry), settled by the delivery: kept for
 * the dedupe window once every destination has the event or a durably queued retry, released
 * as soon as one destination fails for good (so AutoGrab's re-push is relayed again).
 */
export interface EventClaim {
  /** Keeps the id for the dedupe window; does nothing once released. */
  keep(): Promise<void>;
  /** Forgets the id: a re-push is relayed again. */
  release(): Promise<void>;
}

/** What {@linkcode createAlertDelivery} needs from the relay. */
export interface AlertDeliverySettings {
  /** Fetch used to reach destinations. */
  send: (request: Request) => Promise<Response>;
  /** Delays between attempts per destination, in ms. */
  backoff: readonly number[];
  /** Per-attempt timeout, in ms. */
  timeoutMs: number;
  /** Holds retries durably when given. */
  queue?: KvQueue;
  /** Resolves a destination's host before each attempt, refusing private answers. */
  resolveHost?: HostResolver;
  /** Told about each attempt. */
  onDelivery?: (outcome: AlertDeliveryOutcome) => void;
  /** The destinations and outbound policy as configured now (read again by a queued retry). */
  current: () => { destinations: AlertDestination[]; policy: OutboundPolicy };
  /** Forgets an event id whose queued retries failed for good (a re-push is relayed again). */
  release: (eventId: string) => Promise<void>;
}

/** Delivers enriched alerts; knows whether retries are still owed. */
export interface AlertDelivery {
  /**
   * Delivers `enriched` to every destination, each with its own retries, settling `claim`:
   * released when a destination fails for good, kept before a retry is queued.
   */
  deliver(
    enriched: EnrichedAlert,
    event: AlertEvent,
    destinations: readonly AlertDestination[],
    policy: OutboundPolicy,
    claim: EventClaim,
  ): Promise<void>;
  /** Whether a queued retry enqueued by this process, or one running, is still owed. */
  busy(): boolean;
}

/** Marks our queue messages. */
const RETRY_KIND = "recapture.alert_retry";

/** A queued retry: the rendered body, and which destination (by position, checked by hash). */
interface AlertRetryJob {
  kind: typeof RETRY_KIND;
  destination: number;
  destination_hash: string;
  event_id: string;
  event: string;
  body: string;
  attempt: number;
}

/** One attempt's worth of a delivery. */
interface Attempt {
  body: string;
  id: string;
  event: string;
  attempt: number;
}

function isRetryJob(value: unknown): value is AlertRetryJob {
  const v = value as AlertRetryJob;
  return typeof v === "object" && v !== null && v.kind === RETRY_KIND &&
    typeof v.destination === "number" && typeof v.body === "string";
}

/** The largest retry body queued (its message adds a few hundred bytes; Deno KV takes 65,536). */
const MAX_QUEUED_BODY_BYTES = 60_000;

/** Whether a retry body fits a queue message (UTF-8: at most 3 bytes per UTF-16 unit). */
function fitsQueue(body: string): boolean {
  return body.length * 3 <= MAX_QUEUED_BODY_BYTES ||
    new TextEncoder().encode(body).length <= MAX_QUEUED_BODY_BYTES;
}

async function hashOf(text: string): Promise<string> {
  return (await sha256Hex(text)).slice(0, 24);
}

/**
 * Creates the alert relay's delivery: attempts, backoff, and (with a queue) durable retries,
 * whose listener it starts.
 *
 * @example
 * ```ts ignore
 * const delivery = createAlertDelivery({ send: fetch, backoff: [1000], timeoutMs: 10_000, current });
 * await delivery.deliver(enriched, event, destinations, policy);
 * ```
 */
export function createAlertDelivery(settings: AlertDeliverySettings): AlertDelivery {
  const { send, backoff, timeoutMs, queue } = settings;
  /** Retries enqueued by this process and not yet run. */
  const waiting = new Set<string>();
  let retrying = 0;
  const retryKey = (j: AlertRetryJob) => `${j.event_id}|${j.destination}|${j.attempt}`;

  /** Sends one attempt to a destination; answers the HTTP status (0: no answer). */
  async function attemptOnce(
    destination: AlertDestination,
    job: Attempt,
    policy: OutboundPolicy,
  ): Promise<number> {
    // The policy again at each attempt; on Deno the name is resolved now, private answers refused.
    if (await resolvedUrlProblem(destination.url, policy, settings.resolveHost)) return 0;
    try {
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "User-Agent": userAgent("edge", "alerts"),
      };
      if (destination.kind === "webhook") {
        // Signed at each attempt, so the timestamp is fresh for the receiver's tolerance window.
        headers[SIGNATURE_HEADER] = await signPayload(job.body, destination.secret);
        headers[EVENT_ID_HEADER] = headerSafe(job.id);
        headers["Recapture-Event"] = job.event;
      }
      const response = await send(
        new Request(destination.url, {
          method: "POST",
          headers,
          body: job.body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: "manual",
        }),
      );
      await response.body?.cancel().catch(() => {});
      return response.status;
    } catch {
      return 0;
    }
  }

  /**
   * One attempt, reported; answers its outcome (`retrying`: another attempt is due). With
   * `schedule` (a durable queue), the next attempt is enqueued before "retrying" is reported, so
   * the report means the retry survives a restart.
   */
  async function step(
    destination: AlertDestination,
    job: Attempt,
    policy: OutboundPolicy,
    schedule?: () => Promise<void>,
  ): Promise<AlertDeliveryOutcome["outcome"]> {
    const status = await attemptOnce(destination, job, policy);
    const ok = status >= 200 && status < 300;
    const last = job.attempt > backoff.length;
    if (!ok && !last && schedule) await schedule();
    const outcome = ok ? "delivered" : last ? "failed" : "retrying";
    settings.onDelivery?.({
      eventId: job.id,
      destination: nameOf(destination),
      attempt: job.attempt,
      status,
      outcome,
    });
    return outcome;
  }

  async function deliverTo(
    destination: AlertDestination,
    index: number,
    enriched: EnrichedAlert,
    event: AlertEvent,
    policy: OutboundPolicy,
    claim: EventClaim,
  ): Promise<void> {
    const body = destination.kind === "slack"
      ? JSON.stringify({ text: slackText(event, enriched.customer) })
      : JSON.stringify(enriched);
    const job = { body, id: enriched.id, event: enriched.event, attempt: 1 };
    // Durable with a queue: the next attempt waits there (it survives a restart). A body too
    // large for a queue message (Deno KV takes 64 KB) is retried in this process instead.
    // The claim is kept before the retry is queued: the queued retry releases it if it fails
    // for good, and nothing here can keep it after that.
    const durable = queue !== undefined && fitsQueue(body);
    const schedule = durable
      ? async () => {
        await claim.keep();
        await enqueueRetry(destination, index, job);
      }
      : undefined;
    for (;; job.attempt++) {
      const outcome = await step(destination, job, policy, schedule);
      if (outcome === "failed") await claim.release();
      if (outcome !== "retrying" || durable) return;
      await sleep(backoff[job.attempt - 1]);
    }
  }

  async function enqueueRetry(
    destination: AlertDestination,
    index: number,
    job: Attempt,
  ): Promise<void> {
    const message: AlertRetryJob = {
      kind: RETRY_KIND,
      destination: index,
      destination_hash: await hashOf(destination.url),
      event_id: job.id,
      event: job.event,
      body: job.body,
      attempt: job.attempt + 1,
    };
    waiting.add(retryKey(message));
    try {
      await queue!.enqueue(message, { delay: backoff[job.attempt - 1] });
    } catch (e) {
      waiting.delete(retryKey(message));
      throw e;
    }
  }

  /** Runs a queued retry (Deno KV queue listener). */
  async function runRetry(job: AlertRetryJob): Promise<void> {
    const { destinations, policy } = settings.current();
    const destination = destinations[job.destination];
    // The destination list changed since (the hash is of its URL): drop the retry, and let a
    // re-push go to the destinations configured now.
    if (!destination || (await hashOf(destination.url)) !== job.destination_hash) {
      await settings.release(job.event_id);
      return;
    }
    const next = { body: job.body, id: job.event_id, event: job.event, attempt: job.attempt };
    const schedule = () => enqueueRetry(destination, job.destination, next);
    if ((await step(destination, next, policy, schedule)) === "failed") {
      await settings.release(job.event_id);
    }
  }

  if (queue) {
    queue.listenQueue(async (value) => {
      if (!isRetryJob(value)) return;
      retrying++;
      waiting.delete(retryKey(value));
      try {
        await runRetry(value);
      } finally {
        retrying--;
      }
    }).catch(() => {/* the KV was closed */});
  }

  return {
    async deliver(enriched, event, destinations, policy, claim): Promise<void> {
      await Promise.all(
        destinations.map((d, i) => deliverTo(d, i, enriched, event, policy, claim)),
      );
    },
    busy: () => waiting.size > 0 || retrying > 0,
  };
}

function nameOf(d: AlertDestination): string {
  return d.name ?? (d.kind === "slack" ? "slack" : new URL(d.url).host);
}

/**
 * An event id as a header value: as is when it is 1-200 visible ASCII characters, else
 * percent-encoded (UTF-8) and cut to 200 characters. The exact id is always in the signed body.
 */
function headerSafe(id: string): string {
  return /^[\x21-\x7e]{1,200}$/.test(id) ? id : encodeURIComponent(id).slice(0, 200) || "-";
}
