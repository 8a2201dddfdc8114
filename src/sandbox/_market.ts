/**
 * The simulated used-car market (sandbox only) and durable alert delivery.
 *
 * `POST /sandbox/market/events` says "a car with this VIN (or rego + state) was listed,
 * re-priced or delisted on marketplace X at price Y". Every tracked customer of the calling
 * account that matches (by VIN when the VIN matches anyone, else by rego and state) and is being
 * monitored today (within its monitor dates, not expired, not deleted) gets a sighting appended,
 * and every webhook of the account subscribed to the event gets a push. The sighting and the
 * push messages are written in one atomic operation; pushes go through Deno KV queues and are
 * retried with backoff until the endpoint answers 2xx (or the schedule runs out), surviving a
 * restart of the sandbox.
 *
 * @module
 */
import { HttpError, objectBody, parseHttpUrl, typeProblem } from "./_http.ts";
import { randomHex, sha256Hex } from "../_internal/hex.ts";
import { keys } from "./_keys.ts";
import { normalRego } from "../sdk/schemas.ts";
import { day, isExpired } from "./_store.ts";
import type { CustomerRecord, Region } from "./_types.ts";
import type { AlertSubscriptionRecord, AlertSubscriptionStore } from "./_alert_subscriptions.ts";
import { userAgent } from "../sdk/version.ts";
import type { RecaptureAlertEventName } from "../sdk/alert_events.ts";
import { isMarketEvent, MARKET_EVENTS, type MarketEvent } from "./simulate.ts";

/** A market event as the route takes it. */
export interface MarketInput {
  kind: MarketEvent;
  rego: string | null;
  state: string | null;
  vin: string | null;
  marketplace: string;
  price: number | null;
  url: string | null;
  seller_type: string;
  title: string | null;
}

/** Sightings kept per customer, newest last. */
export const MAX_SIGHTINGS = 50;
/**
 * A customer record's JSON is kept under this many characters by dropping its oldest sightings:
 * stored, it takes at most 3 bytes a character, under Deno KV's 64 KB value limit.
 */
const MAX_RECORD_CHARS = 20_000;

/** The alert each market event pushes (every market event has one: the type holds it). */
const EVENT_OF = {
  listed: "recapture_new",
  price_change: "recapture_price_change",
  delisted: "recapture_delist",
} as const satisfies Record<MarketEvent, RecaptureAlertEventName>;

const MARKET_FIELDS = [
  "rego",
  "state",
  "vin",
  "event",
  "marketplace",
  "price",
  "url",
  "seller_type",
  "title",
];

/** A push queued for delivery. */
export interface PushMessage {
  rc: "push";
  /** The webhook id. */
  w: string;
  /** Attempts made so far. */
  n: number;
  /** The event as pushed. */
  e: PushedEvent;
}

/** An event as pushed to an endpoint (the decided payload). */
export interface PushedEvent {
  id: string;
  event: string;
  created_at: string;
  region: Region;
  data: Record<string, unknown>;
}

/** Whether a queue message is a push. */
export function isPushMessage(value: unknown): value is PushMessage {
  const m = value as PushMessage;
  return typeof m === "object" && m !== null && m.rc === "push" && typeof m.w === "string" &&
    typeof m.n === "number" && typeof m.e === "object" && m.e !== null;
}

/** Default delays between push attempts, in ms (then the push is given up and recorded). */
export const PUSH_BACKOFF_MS = [1000, 5000, 30_000, 120_000, 600_000, 1_800_000];

const pushKeys = {
  pending: (eventId: string, webhookId: string): Deno.KvKey => [
    "rc",
    "pushq",
    eventId,
    webhookId,
  ],
  pendingPrefix: (): Deno.KvKey => ["rc", "pushq"],
  log: (webhookId: string, eventId: string): Deno.KvKey => ["rc", "pushlog", webhookId, eventId],
};

function str(body: Record<string, unknown>, field: string, max = 200): string | null {
  const value = body[field];
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw typeProblem(field, "a string", value);
  if (value.length > max) throw new HttpError(400, `${field} must be at most ${max} characters`);
  return value;
}

/** Checks the body of `POST /sandbox/market/events`. */
export function parseMarketEvent(input: unknown): MarketInput {
  const body = objectBody(input, MARKET_FIELDS);
  const kind = body.event;
  if (!isMarketEvent(kind)) {
    throw new HttpError(
      400,
      `event must be one of ${MARKET_EVENTS.join(", ")} (got ${JSON.stringify(kind)})`,
    );
  }
  const given = str(body, "rego");
  const rego = given === null ? null : normalRego(given);
  const vin = str(body, "vin")?.trim().toUpperCase() ?? null;
  const state = str(body, "state")?.trim().toUpperCase() ?? null;
  if (rego === null && vin === null) throw new HttpError(400, "rego or vin is required");
  const marketplace = str(body, "marketplace");
  if (marketplace === null) throw new HttpError(400, "marketplace is required");
  const price = body.price;
  if (price === undefined || price === null) {
    if (kind !== "delisted") throw new HttpError(400, `price is required for ${kind}`);
  } else if (typeof price !== "number" || !Number.isFinite(price) || price < 0) {
    throw typeProblem("price", "a number ≥ 0", price);
  }
  const url = str(body, "url", 2000);
  if (url !== null) parseHttpUrl("url", url);
  return {
    kind,
    rego,
    state,
    vin,
    marketplace,
    price: typeof price === "number" ? price : null,
    url,
    seller_type: str(body, "seller_type") ?? "private",
    title: str(body, "title"),
  };
}

/** Whether a customer is being monitored on `today` (`YYYY-MM-DD`). */
export function isMonitored(c: CustomerRecord, today: string): boolean {
  if (isExpired(c, today)) return false;
  if (c.monitor_start_date !== null && c.monitor_start_date > today) return false;
  if (c.monitor_end_date !== null && c.monitor_end_date < today) return false;
  return true;
}

interface SightingRecord {
  at: string;
  lead_id: string;
  listing_url: string;
  listing_title: string | null;
  listing_price: number | null;
  seller_type: string;
  marketplace: string;
  event: string;
}

/** What the market route answers. */
export interface MarketResult {
  event: string;
  matched: number;
  alerts: { id: string; customer_id: string; webhooks: number }[];
}

/** The market simulation and push delivery. */
export class Market {
  readonly #kv: Deno.Kv;
  readonly #subscriptions: AlertSubscriptionStore;
  readonly #now: () => Date;
  readonly #fetch: (request: Request) => Promise<Response>;
  readonly #backoff: number[];
  readonly #timeoutMs: number;
  readonly #stopping = new AbortController();

  constructor(
    kv: Deno.Kv,
    subscriptions: AlertSubscriptionStore,
    now: () => Date,
    options: {
      fetch?: (request: Request) => Promise<Response>;
      backoffMs?: number[];
      timeoutMs?: number;
    },
  ) {
    this.#kv = kv;
    this.#subscriptions = subscriptions;
    this.#now = now;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#backoff = options.backoffMs ?? PUSH_BACKOFF_MS;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The customers of `account` in `region` that the market event is about. */
  async #matches(account: string, region: Region, input: MarketInput): Promise<
    Deno.KvEntry<CustomerRecord>[]
  > {
    const today = day(this.#now());
    const byVin: Deno.KvEntry<CustomerRecord>[] = [];
    const byRego: Deno.KvEntry<CustomerRecord>[] = [];
    const iter = this.#kv.list<CustomerRecord>({ prefix: keys.customerPrefix(account, region) }, {
      batchSize: 1000,
    });
    for await (const entry of iter) {
      const c = entry.value;
      if (input.vin !== null && c.vin === input.vin) byVin.push(entry);
      else if (
        input.rego !== null && c.rego === input.rego && (c.state ?? null) === input.state
      ) byRego.push(entry);
    }
    const found = byVin.length > 0 ? byVin : byRego;
    return found.filter((e) => isMonitored(e.value, today));
  }

  /** Applies a market event for the calling account: sightings, then pushes. */
  async apply(account: string, region: Region, input: MarketInput): Promise<MarketResult> {
    const name = EVENT_OF[input.kind];
    const hooks = (await this.#subscriptions.list(account, region)).filter((w) =>
      w.events.includes(name)
    );
    const result: MarketResult = { event: name, matched: 0, alerts: [] };
    for (const found of await this.#matches(account, region, input)) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const entry = attempt === 0
          ? found
          : await this.#kv.get<CustomerRecord>(found.key) as Deno.KvEntry<CustomerRecord>;
        if (entry.value === null) break; // deleted meanwhile
        const alert = await this.#alert(entry, region, input, name, hooks);
        if (alert === null) break;
        if ((await alert.op.commit()).ok) {
          result.matched++;
          result.alerts.push({ id: alert.id, customer_id: entry.value.id, webhooks: hooks.length });
          break;
        }
      }
    }
    return result;
  }

  async #alert(
    entry: Deno.KvEntry<CustomerRecord>,
    region: Region,
    input: MarketInput,
    name: string,
    hooks: AlertSubscriptionRecord[],
  ): Promise<{ id: string; op: Deno.AtomicOperation } | null> {
    const c = entry.value;
    const now = this.#now().toISOString();
    const car = c.vin ?? `${c.rego}/${c.state ?? ""}`;
    const lead = "lead_" +
      (await sha256Hex(`${input.marketplace.toLowerCase()}|${car}`)).slice(0, 16);
    const past = (c.sightings as SightingRecord[]).filter((s) => s?.lead_id === lead);
    const last = past.at(-1);
    const firstListed = [...past].reverse().find((s) => s.event === "recapture_new");
    const slug = input.marketplace.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const url = input.url ?? last?.listing_url ??
      `https://www.${slug || "market"}.example/listing/${lead.slice(5)}`;
    const price = input.price ?? last?.listing_price ?? null;
    const sighting: SightingRecord = {
      at: now,
      lead_id: lead,
      listing_url: url,
      listing_title: input.title ?? c.vehicle_title,
      listing_price: price,
      seller_type: input.seller_type,
      marketplace: input.marketplace,
      event: name,
    };
    const updated: CustomerRecord = {
      ...c,
      sightings: [...c.sightings, sighting].slice(-MAX_SIGHTINGS),
      last_updated: now,
    };
    // The record must stay one Deno KV value (64 KB): the oldest sightings go first.
    while (
      updated.sightings.length > 1 && JSON.stringify(updated).length > MAX_RECORD_CHARS
    ) updated.sightings = updated.sightings.slice(1);
    const data: Record<string, unknown> = {
      customer_id: c.id,
      rego: c.rego,
      state: c.state,
      vin: c.vin,
      listing: {
        url,
        marketplace: input.marketplace,
        price,
        listed_at: name === "recapture_new" ? now : (firstListed?.at ?? null),
        seller_type: input.seller_type,
      },
    };
    if (name === "recapture_price_change") data.previous_price = last?.listing_price ?? null;
    const event: PushedEvent = {
      id: `evt_${randomHex(12)}`,
      event: name,
      created_at: now,
      region,
      data,
    };
    const op = this.#kv.atomic().check(entry).set(entry.key, updated);
    for (const hook of hooks) this.#enqueue(op, hook.id, event, 0, 0);
    return { id: event.id, op };
  }

  #enqueue(
    op: Deno.AtomicOperation,
    webhookId: string,
    event: PushedEvent,
    attempt: number,
    delay: number,
  ): void {
    const message: PushMessage = { rc: "push", w: webhookId, n: attempt, e: event };
    op.enqueue(message, { delay, backoffSchedule: [1000, 5000, 30_000] })
      .set(pushKeys.pending(event.id, webhookId), {
        attempts: attempt,
        at: this.#now().toISOString(),
      });
  }

  /** Queues a ping event for one webhook; answers the event. */
  async ping(hook: AlertSubscriptionRecord): Promise<PushedEvent> {
    const event: PushedEvent = {
      id: `evt_${randomHex(12)}`,
      event: "ping",
      created_at: this.#now().toISOString(),
      region: hook.region,
      data: { webhook_id: hook.id },
    };
    const op = this.#kv.atomic();
    this.#enqueue(op, hook.id, event, 0, 0);
    if (!(await op.commit()).ok) throw new HttpError(503, "Could not queue the ping; try again");
    return event;
  }

  /**
   * Delivers one push: POSTs the event to the webhook's endpoint. On a non-2xx answer or a
   * network failure the next attempt is queued with the next backoff delay (in the same atomic
   * operation that records this attempt), until the schedule runs out.
   */
  async deliver(message: PushMessage): Promise<void> {
    const pending = pushKeys.pending(message.e.id, message.w);
    const marker = await this.#kv.get(pending);
    if (marker.value === null) return; // delivered or given up already (a redelivery)
    const hook = await this.#subscriptions.find(message.w);
    if (hook === null) {
      await this.#kv.atomic().check(marker).delete(pending).commit(); // webhook deleted
      return;
    }
    const attempt = message.n + 1;
    let status = 0;
    let error: string | null = null;
    try {
      const response = await this.#fetch(
        new Request(hook.endpoint, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "User-Agent": userAgent("sandbox", "webhooks"),
          },
          body: JSON.stringify(message.e),
          signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stopping.signal]),
          redirect: "manual",
        }),
      );
      status = response.status;
      await response.body?.cancel().catch(() => {});
    } catch (e) {
      // Closing: leave the message unacknowledged; it is delivered again after a restart.
      if (this.#stopping.signal.aborted) throw new Error("The sandbox is closing");
      error = e instanceof Error ? e.name : "fetch failed";
    }
    const ok = status >= 200 && status < 300;
    const log = {
      attempts: attempt,
      last_status: status,
      last_error: error,
      at: this.#now().toISOString(),
    };
    const op = this.#kv.atomic().check(marker);
    if (ok || attempt > this.#backoff.length) {
      op.delete(pending).set(pushKeys.log(message.w, message.e.id), {
        ...log,
        outcome: ok ? "delivered" : "failed",
      });
    } else {
      this.#enqueue(op, message.w, message.e, attempt, this.#backoff[attempt - 1]);
      op.set(pushKeys.log(message.w, message.e.id), { ...log, outcome: "retrying" });
    }
    await op.commit();
  }

  /** Aborts pushes in flight (the sandbox is closing); they are retried after a restart. */
  stop(): void {
    this.#stopping.abort();
  }

  /** How many pushes are waiting for delivery (or a retry). */
  async pending(): Promise<number> {
    let n = 0;
    for await (const _ of this.#kv.list({ prefix: pushKeys.pendingPrefix() })) n++;
    return n;
  }

  /** Resolves when no push is waiting (polling the KV). */
  async idle(isClosed: () => boolean): Promise<void> {
    let wait = 2;
    while (!isClosed()) {
      if ((await this.pending()) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 50);
    }
  }
}
