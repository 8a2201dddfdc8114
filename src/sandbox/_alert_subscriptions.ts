/**
 * Alert subscriptions: the sandbox's implementation of AutoGrab's Webhooks API (`/v2/webhooks`),
 * where a dealer registers the URL that alert events are pushed to: create, list, get, delete,
 * ping, stored in Deno KV. (Not our signature scheme, `src/signature/`, nor the alert events'
 * schemas, `src/sdk/alert_events.ts`.) The wire keeps AutoGrab's word: `webhook`. Errors as documented: `Invalid Region`, `You don't have permission to access that
 * webhook`, and (decided) 404 `Invalid Webhook ID`.
 *
 * @module
 */
import { HttpError, objectBody, parseHttpUrl, typeProblem } from "./_http.ts";
import { randomHex } from "../_internal/hex.ts";
import type { Region } from "./_types.ts";
import { RECAPTURE_ALERT_EVENTS } from "../sdk/alert_events.ts";

/** The event names a webhook may subscribe to (decided: the three Recapture events). */
export const SUBSCRIPTION_EVENTS: readonly string[] = RECAPTURE_ALERT_EVENTS;

/** Webhook messages, one place for each. */
export const SUBSCRIPTION_MESSAGES = {
  invalidRegion: "Invalid Region",
  invalidId: "Invalid Webhook ID",
  permission: "You don't have permission to access that webhook",
} as const;

/** A webhook as stored (the wire object plus its account). */
export interface AlertSubscriptionRecord {
  id: string;
  name: string;
  region: Region;
  format: "json";
  endpoint: string;
  events: string[];
  created_at: string;
  account_id: string;
}

/** The wire object of a webhook. */
export type AlertSubscriptionView = Omit<AlertSubscriptionRecord, "account_id">;

/**
 * Webhooks per account and region. A market event pushes to all of them in one atomic
 * operation with the customer's update (Deno KV allows 1,000 mutations; each push takes 2).
 */
export const MAX_SUBSCRIPTIONS = 100;

/** KV keys of webhooks. */
export const subscriptionKeys = {
  hook: (id: string): Deno.KvKey => ["rc", "wh", id],
  hookPrefix: (): Deno.KvKey => ["rc", "wh"],
  byAccount: (account: string, region: Region, id: string): Deno.KvKey => [
    "rc",
    "whacct",
    account,
    region,
    id,
  ],
  accountPrefix: (account: string, region: Region): Deno.KvKey => ["rc", "whacct", account, region],
};

const CREATE_FIELDS = ["name", "region", "format", "endpoint", "events"];

/** The wire view of a stored webhook. */
export function viewOf(record: AlertSubscriptionRecord): AlertSubscriptionView {
  const { account_id: _, ...view } = record;
  return view;
}

/** Checks a create body; answers the record to store. */
export function parseAlertSubscription(
  input: unknown,
  account: string,
  region: Region,
  now: Date,
): AlertSubscriptionRecord {
  const body = objectBody(input, CREATE_FIELDS);
  const { name, format, endpoint, events } = body;
  if (name === undefined) throw new HttpError(400, "name is required");
  if (typeof name !== "string" || name.trim() === "") {
    throw typeProblem("name", "a non-empty string", name);
  }
  if (name.length > 200) throw new HttpError(400, "name must be at most 200 characters");
  if (body.region !== undefined && body.region !== region) {
    throw new HttpError(
      400,
      SUBSCRIPTION_MESSAGES.invalidRegion,
      {},
      `region in the body ("${String(body.region)}") differs from the query ("${region}")`,
    );
  }
  if (format !== undefined && format !== "json") {
    throw new HttpError(400, `format must be "json" (got ${JSON.stringify(format)})`);
  }
  if (typeof endpoint !== "string") throw typeProblem("endpoint", "a URL string", endpoint);
  parseHttpUrl("endpoint", endpoint);
  if (endpoint.length > 2000) throw new HttpError(400, "endpoint must be at most 2000 characters");
  if (!Array.isArray(events) || events.length === 0) {
    throw typeProblem("events", "a non-empty array of event names", events);
  }
  for (const [i, e] of events.entries()) {
    if (typeof e !== "string" || !SUBSCRIPTION_EVENTS.includes(e)) {
      throw new HttpError(
        400,
        `events[${i}] must be one of ${SUBSCRIPTION_EVENTS.join(", ")} (got ${JSON.stringify(e)})`,
      );
    }
  }
  return {
    id: `wh_${randomHex(12)}`,
    name,
    region,
    format: "json",
    endpoint,
    events: [...new Set(events as string[])],
    created_at: now.toISOString(),
    account_id: account,
  };
}

/** The alert subscriptions (AutoGrab's "webhooks") in Deno KV. */
export class AlertSubscriptionStore {
  readonly #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Stores a new webhook. */
  async create(record: AlertSubscriptionRecord): Promise<AlertSubscriptionView> {
    let held = 0;
    const prefix = subscriptionKeys.accountPrefix(record.account_id, record.region);
    for await (const _ of this.#kv.list({ prefix }, { limit: MAX_SUBSCRIPTIONS })) held++;
    if (held >= MAX_SUBSCRIPTIONS) {
      throw new HttpError(
        400,
        `An account holds at most ${MAX_SUBSCRIPTIONS} webhooks per region; delete one first`,
      );
    }
    const result = await this.#kv.atomic()
      .check({ key: subscriptionKeys.hook(record.id), versionstamp: null })
      .set(subscriptionKeys.hook(record.id), record)
      .set(subscriptionKeys.byAccount(record.account_id, record.region, record.id), true)
      .commit();
    if (!result.ok) throw new HttpError(503, "Could not store the webhook; try again");
    return viewOf(record);
  }

  /** The webhook `id` as `account` may see it in `region`, or the API's error. */
  async get(
    account: string,
    region: Region,
    id: string,
  ): Promise<Deno.KvEntry<AlertSubscriptionRecord>> {
    const entry = /^wh_[0-9a-f]{24}$/.test(id)
      ? await this.#kv.get<AlertSubscriptionRecord>(subscriptionKeys.hook(id))
      : null;
    if (!entry || entry.value === null) throw new HttpError(404, SUBSCRIPTION_MESSAGES.invalidId);
    if (entry.value.account_id !== account) {
      throw new HttpError(403, SUBSCRIPTION_MESSAGES.permission);
    }
    if (entry.value.region !== region) {
      throw new HttpError(
        400,
        SUBSCRIPTION_MESSAGES.invalidRegion,
        {},
        `the webhook is in region "${entry.value.region}"`,
      );
    }
    return entry as Deno.KvEntry<AlertSubscriptionRecord>;
  }

  /** The stored record, whoever owns it, or null (used by deliveries). */
  async find(id: string): Promise<AlertSubscriptionRecord | null> {
    return (await this.#kv.get<AlertSubscriptionRecord>(subscriptionKeys.hook(id))).value;
  }

  /** The account's webhooks in a region, oldest first. */
  async list(account: string, region: Region): Promise<AlertSubscriptionRecord[]> {
    const ids: string[] = [];
    for await (
      const e of this.#kv.list({ prefix: subscriptionKeys.accountPrefix(account, region) })
    ) {
      ids.push(e.key[e.key.length - 1] as string);
    }
    const out: AlertSubscriptionRecord[] = [];
    for (let i = 0; i < ids.length; i += 10) {
      const entries = await this.#kv.getMany<AlertSubscriptionRecord[]>(
        ids.slice(i, i + 10).map((id) => subscriptionKeys.hook(id)),
      );
      for (const e of entries) if (e.value) out.push(e.value);
    }
    return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /** Deletes a webhook permanently; answers it as it was. */
  async delete(account: string, region: Region, id: string): Promise<AlertSubscriptionView> {
    const entry = await this.get(account, region, id);
    await this.#kv.atomic()
      .check(entry)
      .delete(entry.key)
      .delete(subscriptionKeys.byAccount(account, region, id))
      .commit();
    return viewOf(entry.value);
  }
}
