/**
 * The events AutoGrab pushes to a registered webhook endpoint (`recapture_new`,
 * `recapture_price_change`, `recapture_delist`, `ping`), typed, and a validating parser that
 * keeps unknown extra fields and passes unknown event names through as {@link UnknownAlertEvent}.
 *
 * Pushes are not signed by AutoGrab: authenticate them by a secret token in the endpoint URL
 * (the edge adapter's alert relay does), then parse them here.
 *
 * @example
 * ```ts
 * import { isRecaptureAlert, parseAlertEvent } from "@recapture/sdk";
 * const event = parseAlertEvent(JSON.stringify({
 *   id: "evt_1", event: "recapture_new", created_at: "2026-01-01T00:00:00Z", region: "au",
 *   data: { customer_id: "cus_1", rego: "ABC123", state: "NSW", vin: null,
 *     listing: { url: "https://example.com/l/1", marketplace: "carsales", price: 23500 } },
 * }));
 * // Narrow with isRecaptureAlert (or `"unknown" in event`) first: an unknown event's name is
 * // any string, so comparing `event.event` alone does not rule it out.
 * if (isRecaptureAlert(event) && event.event === "recapture_new") {
 *   console.log(event.data.listing.price); // 23500
 * }
 * ```
 * @module
 */
import {
  boolean,
  type Infer,
  type Issue,
  issueOf,
  literal,
  looseObject,
  minLength,
  nullish,
  string,
} from "./_shape.ts";
import { RecaptureError } from "./errors.ts";
import { optNum, optStr } from "./schemas.ts";
import type { Assert, Same } from "./schemas.ts";

/**
 * The event names a webhook can subscribe to for Customer Recapture.
 *
 * @example
 * ```ts
 * import { RECAPTURE_ALERT_EVENTS } from "@recapture/sdk";
 * console.log(RECAPTURE_ALERT_EVENTS.includes("recapture_new")); // true
 * ```
 */
export const RECAPTURE_ALERT_EVENTS: readonly RecaptureAlertEventName[] = Object.freeze(
  [
    "recapture_new",
    "recapture_price_change",
    "recapture_delist",
  ] as const,
);

/** A Customer Recapture event name. */
export type RecaptureAlertEventName =
  | "recapture_new"
  | "recapture_price_change"
  | "recapture_delist";

/** The listing an alert is about. Extra fields are kept. */
export interface AlertListing {
  /** The listing's URL. */
  url?: string | null;
  /** Where it is listed (e.g. `carsales`). */
  marketplace?: string | null;
  /** The asking price. */
  price?: number | null;
  /** When it was listed (ISO 8601). */
  listed_at?: string | null;
  /** `dealer`, `private`, ... */
  seller_type?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** What every pushed event has. */
export interface AlertEventBase {
  /** The event id (the same on every retry of one push: de-duplicate on it). */
  id: string;
  /** The event name. */
  event: string;
  /** When the event happened (ISO 8601). */
  created_at?: string | null;
  /** The region of the webhook. */
  region?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** The `data` of a `recapture_new` or `recapture_delist` event. */
export interface RecaptureAlertData {
  /** The tracked customer whose car it is. */
  customer_id: string;
  /** The car's rego. */
  rego?: string | null;
  /** The rego's state (AU). */
  state?: string | null;
  /** The car's VIN. */
  vin?: string | null;
  /** The listing. */
  listing: AlertListing;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** A tracked customer's car was listed for sale. */
export interface RecaptureNewEvent extends AlertEventBase {
  /** `recapture_new` */
  event: "recapture_new";
  /** The customer and the listing. */
  data: RecaptureAlertData;
}

/** The `data` of a `recapture_price_change` event. */
export interface PriceChangeData extends RecaptureAlertData {
  /** The price before the change. */
  previous_price?: number | null;
}

/** The listing's price changed. */
export interface PriceChangeEvent extends AlertEventBase {
  /** `recapture_price_change` */
  event: "recapture_price_change";
  /** The customer, the listing (new price) and the previous price. */
  data: PriceChangeData;
}

/** The listing was removed (sale cancelled or car sold). */
export interface DelistEvent extends AlertEventBase {
  /** `recapture_delist` */
  event: "recapture_delist";
  /** The customer and the listing that was removed. */
  data: RecaptureAlertData;
}

/** Sent when the client calls `webhooks.ping`. */
export interface PingEvent extends AlertEventBase {
  /** `ping` */
  event: "ping";
  /** The pinged webhook, when given. */
  data?: { webhook_id?: string | null; [key: string]: unknown } | null;
}

/**
 * What `webhooks.ping` answers: the documented envelope `{ "success": true }`, with the event
 * sent when the API names it (`event` is `null` when it does not).
 */
export interface PingResult {
  /** `true` when the ping was queued. */
  success?: boolean | null;
  /** The `ping` event the endpoint will receive, when the answer names it; else `null`. */
  event: PingEvent | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** An event this SDK does not know (another product's, or a new one): passed through as is. */
export interface UnknownAlertEvent extends AlertEventBase {
  /** Marks it as not one of the known events. */
  unknown: true;
}

/** Any event a webhook endpoint may receive. */
export type AlertEvent =
  | RecaptureNewEvent
  | PriceChangeEvent
  | DelistEvent
  | PingEvent
  | UnknownAlertEvent;

/** A Customer Recapture alert (`recapture_new`, `recapture_price_change`, `recapture_delist`). */
export type RecaptureAlertEvent = RecaptureNewEvent | PriceChangeEvent | DelistEvent;

/**
 * A pushed event that is not valid JSON or lacks a field its event name needs. `field` names
 * the first field at fault (e.g. `data.listing`).
 *
 * @example
 * ```ts
 * import { AlertEventError, parseAlertEvent } from "@recapture/sdk";
 * try {
 *   parseAlertEvent({ id: "evt_1", event: "recapture_new", data: {} });
 * } catch (e) {
 *   if (e instanceof AlertEventError) console.log(e.code, e.field); // "invalid_event" "data.customer_id"
 * }
 * ```
 */
export class AlertEventError extends RecaptureError {
  /** The field at fault (`""` for the whole body). */
  readonly field: string;
  /**
   * Creates an instance.
   *
   * @param message what is wrong
   * @param field the field at fault
   */
  constructor(message: string, field: string) {
    super(message, "invalid_event");
    this.field = field;
  }
}

// Wire schemas of the events (`_shape.ts`), held equal to the public types above by the
// compile-time check at the bottom. Events are `looseObject`s: unknown extra fields are kept.

/** @internal The listing an alert is about. */
const AlertListingSchema = looseObject({
  url: optStr,
  marketplace: optStr,
  price: optNum,
  listed_at: optStr,
  seller_type: optStr,
});

const base = {
  id: minLength(1),
  created_at: optStr,
  region: optStr,
};

const recaptureData = {
  customer_id: minLength(1),
  rego: optStr,
  state: optStr,
  vin: optStr,
  listing: AlertListingSchema,
};

/** @internal Fields every pushed event has. */
const AlertEventBaseSchema = looseObject({ ...base, event: string() });

/** @internal `recapture_new` */
const RecaptureNewSchema = looseObject({
  ...base,
  event: literal("recapture_new"),
  data: looseObject(recaptureData),
});
/** @internal `recapture_price_change` */
const PriceChangeSchema = looseObject({
  ...base,
  event: literal("recapture_price_change"),
  data: looseObject({ ...recaptureData, previous_price: optNum }),
});
/** @internal `recapture_delist` */
const DelistSchema = looseObject({
  ...base,
  event: literal("recapture_delist"),
  data: looseObject(recaptureData),
});
/** @internal `ping` */
const PingSchema = looseObject({
  ...base,
  event: literal("ping"),
  data: nullish(looseObject({ webhook_id: optStr })),
});

/**
 * @internal `{ success }` answered by a ping (documented), with the `event` sent when the answer
 * names it (decided: the sandbox does).
 */
export const PingEnvelopeSchema = looseObject({
  success: nullish(boolean()),
  event: nullish(PingSchema),
});

const KNOWN = {
  recapture_new: RecaptureNewSchema,
  recapture_price_change: PriceChangeSchema,
  recapture_delist: DelistSchema,
  ping: PingSchema,
} as const;

function fail(issue: Issue, what: string): never {
  const field = issue.path.join(".");
  throw new AlertEventError(
    `Invalid ${what}: ${field === "" ? "the body" : `field "${field}"`}: ${issue.message}`,
    field,
  );
}

/**
 * Parses and validates one pushed event (a JSON string, bytes, or an already parsed value).
 * Known events are checked against their shape; an unknown event name passes with only `id`
 * and `event` checked and `unknown: true` set. Extra fields are kept everywhere.
 *
 * @example
 * ```ts
 * import { parseAlertEvent } from "@recapture/sdk";
 * const e = parseAlertEvent({ id: "evt_9", event: "valuation_change", data: { x: 1 } });
 * console.log(e.event, "unknown" in e); // "valuation_change" true
 * ```
 */
export function parseAlertEvent(input: string | Uint8Array | unknown): AlertEvent {
  let value: unknown = input;
  if (typeof input === "object" && input !== null && !(input instanceof Uint8Array)) {
    // An object given is checked as a copy: the event answered is not the caller's object, which
    // is left as it was (the check drops `__proto__`-like keys from what it checks).
    try {
      value = structuredClone(input);
    } catch {
      throw new AlertEventError("Invalid event: not a JSON value", "");
    }
  } else if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : new TextDecoder().decode(input);
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new AlertEventError(`Invalid event: not JSON (${(e as Error).message})`, "");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AlertEventError("Invalid event: the body must be a JSON object", "");
  }
  const head = issueOf(AlertEventBaseSchema, value);
  if (head) fail(head, "event");
  const event = value as Infer<typeof AlertEventBaseSchema>;
  const name = event.event;
  if (Object.hasOwn(KNOWN, name)) {
    const found = issueOf(KNOWN[name as keyof typeof KNOWN], value);
    if (found) fail(found, `${name} event`);
    return event as AlertEvent;
  }
  return { ...event, unknown: true };
}

/**
 * Whether an event is a Customer Recapture alert (new listing, price change or delist).
 *
 * @example
 * ```ts
 * import { isRecaptureAlert, parseAlertEvent } from "@recapture/sdk";
 * console.log(isRecaptureAlert(parseAlertEvent({ id: "e", event: "ping" }))); // false
 * ```
 */
export function isRecaptureAlert(event: AlertEvent): event is RecaptureAlertEvent {
  return !("unknown" in event && event.unknown === true) &&
    (RECAPTURE_ALERT_EVENTS as readonly string[]).includes(event.event);
}

/** @internal The wire schemas and the public types agree (a compile-time check). */
export type _AlertTypesAgree = [
  Assert<Same<Infer<typeof AlertListingSchema>, AlertListing>>,
  Assert<Same<Infer<typeof AlertEventBaseSchema>, AlertEventBase>>,
  Assert<Same<Infer<typeof RecaptureNewSchema>, RecaptureNewEvent>>,
  Assert<Same<Infer<typeof PriceChangeSchema>, PriceChangeEvent>>,
  Assert<Same<Infer<typeof DelistSchema>, DelistEvent>>,
  Assert<Same<Infer<typeof PingSchema>, PingEvent>>,
];
