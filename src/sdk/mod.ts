/**
 * The SDK core's exports: `mod.ts` at the root re-exports this module (`@recapture/sdk`).
 * Web standards only; imports nothing outside `src/sdk/` but `src/_internal/`.
 *
 * @module
 */

export { VERSION } from "./version.ts";
export { UPLOAD_BODY_LIMIT_BYTES } from "./_body_size.ts";

export { type RawRequestInit, RecaptureClient, type RecaptureClientOptions } from "./client.ts";
export type { RequestOptions, WithLastResponse, WithResponse } from "./_call.ts";
export { encodePathSegment } from "./path.ts";
export {
  type CancelledUpload,
  isUploadDone,
  type UploadCancelOutcome,
  type UploadCreateOptions,
  type UploadCreateResult,
  Uploads,
  type UploadWaitOptions,
} from "./uploads.ts";
export {
  type CustomerIterateParams,
  type CustomerListParams,
  Customers,
  type CustomerUpdateOptions,
} from "./customers.ts";
export { type Webhook, type WebhookCreateParams, type WebhookList, Webhooks } from "./webhooks.ts";
export type { FetchLike, RecaptureLogger } from "./_transport.ts";
export type { BackoffOptions } from "./_retry.ts";
// Every error class and its option and meta types: errors.ts holds the one list.
export * from "./errors.ts";
export {
  AU_STATES,
  type Customer,
  type CustomerInput,
  type CustomerPage,
  type CustomerUpdateParams,
  DATE_PATTERN,
  isRegion,
  isValidDate,
  type Region,
  REGIONS,
  type RowIssue,
  type Sighting,
  type Upload,
  type UploadCreateParams,
  VIN_PATTERN,
} from "./schemas.ts";
export {
  expiresImmediately,
  type ExpiresImmediatelyOptions,
  validateCustomers,
  type ValidateCustomersOptions,
  type ValidateCustomersResult,
} from "./validate.ts";
export {
  type AlertEvent,
  type AlertEventBase,
  AlertEventError,
  type AlertListing,
  type DelistEvent,
  isRecaptureAlert,
  parseAlertEvent,
  type PingEvent,
  type PingResult,
  type PriceChangeData,
  type PriceChangeEvent,
  RECAPTURE_ALERT_EVENTS,
  type RecaptureAlertData,
  type RecaptureAlertEvent,
  type RecaptureAlertEventName,
  type RecaptureNewEvent,
  type UnknownAlertEvent,
} from "./alert_events.ts";
export { iteratePages, type IteratePagesOptions, type PageSlice } from "./pagination.ts";
