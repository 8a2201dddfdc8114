/**
 * Wire schemas of the Webhooks API and of the events AutoGrab pushes (valibot, module-private
 * in the package: public types live in `events.ts` and `client.ts` and are held equal to these
 * by a compile-time check at the bottom).
 *
 * Response objects and events are `looseObject`s: unknown extra fields are kept.
 *
 * @module
 */
import * as v from "valibot";
import type {
  AlertEventBase,
  AlertListing,
  DelistEvent,
  PingEvent,
  PriceChangeEvent,
  RecaptureNewEvent,
} from "./alert_events.ts";
import type { Webhook } from "./client.ts";

const optStr = v.nullish(v.string());
const optNum = v.nullish(v.number());

/** @internal A webhook configuration as the API returns it. */
export const WebhookSchema = v.looseObject({
  id: v.string(),
  name: optStr,
  region: optStr,
  format: optStr,
  endpoint: optStr,
  events: v.nullish(v.array(v.string())),
  created_at: optStr,
});

/** @internal `{ success, webhook }` */
export const WebhookEnvelopeSchema = v.looseObject({ webhook: WebhookSchema });
/** @internal `{ success, webhooks }` */
export const WebhookListSchema = v.looseObject({ webhooks: v.array(WebhookSchema) });

/** @internal The listing an alert is about. */
export const AlertListingSchema = v.looseObject({
  url: optStr,
  marketplace: optStr,
  price: optNum,
  listed_at: optStr,
  seller_type: optStr,
});

const base = {
  id: v.pipe(v.string(), v.minLength(1)),
  created_at: optStr,
  region: optStr,
};

const recaptureData = {
  customer_id: v.pipe(v.string(), v.minLength(1)),
  rego: optStr,
  state: optStr,
  vin: optStr,
  listing: AlertListingSchema,
};

/** @internal Fields every pushed event has. */
export const AlertEventBaseSchema = v.looseObject({ ...base, event: v.string() });

/** @internal `recapture_new` */
export const RecaptureNewSchema = v.looseObject({
  ...base,
  event: v.literal("recapture_new"),
  data: v.looseObject(recaptureData),
});
/** @internal `recapture_price_change` */
export const PriceChangeSchema = v.looseObject({
  ...base,
  event: v.literal("recapture_price_change"),
  data: v.looseObject({ ...recaptureData, previous_price: optNum }),
});
/** @internal `recapture_delist` */
export const DelistSchema = v.looseObject({
  ...base,
  event: v.literal("recapture_delist"),
  data: v.looseObject(recaptureData),
});
/** @internal `ping` */
export const PingSchema = v.looseObject({
  ...base,
  event: v.literal("ping"),
  data: v.nullish(v.looseObject({ webhook_id: optStr })),
});

/**
 * @internal `{ success }` answered by a ping (documented), with the `event` sent when the answer
 * names it (decided: the sandbox does).
 */
export const PingEnvelopeSchema = v.looseObject({
  success: v.nullish(v.boolean()),
  event: v.nullish(PingSchema),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** @internal */
export type _WebhookTypesAgree = [
  Assert<Same<v.InferOutput<typeof WebhookSchema>, Webhook>>,
  Assert<Same<v.InferOutput<typeof AlertListingSchema>, AlertListing>>,
  Assert<Same<v.InferOutput<typeof AlertEventBaseSchema>, AlertEventBase>>,
  Assert<Same<v.InferOutput<typeof RecaptureNewSchema>, RecaptureNewEvent>>,
  Assert<Same<v.InferOutput<typeof PriceChangeSchema>, PriceChangeEvent>>,
  Assert<Same<v.InferOutput<typeof DelistSchema>, DelistEvent>>,
  Assert<Same<v.InferOutput<typeof PingSchema>, PingEvent>>,
];
