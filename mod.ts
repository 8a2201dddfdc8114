/**
 * `@recapture/sdk`: a typed client for AutoGrab's Customer Recapture API, on `fetch`. Runs
 * unchanged on Deno, Deno Deploy, Cloudflare Workers, Node and Bun.
 *
 * @example
 * ```ts
 * import { RecaptureClient, NotFoundError } from "@recapture/sdk";
 * const client = new RecaptureClient({
 *   apiKey: "sec_example",
 *   fetch: () => Promise.resolve(Response.json({ error: true, message: "Invalid Customer ID" }, { status: 404 })),
 * });
 * try {
 *   await client.customers.retrieve("nope");
 * } catch (e) {
 *   if (e instanceof NotFoundError) console.log(e.code); // "invalid_customer_id"
 * }
 * ```
 * @module
 */

/** The package version. */
export const VERSION: string = "0.1.0";

export {
  type CancelledUpload,
  type CustomerIterateParams,
  type CustomerListParams,
  Customers,
  encodePathSegment,
  isUploadDone,
  type RawRequestInit,
  RecaptureClient,
  type RecaptureClientOptions,
  type RequestOptions,
  type UploadCancelOutcome,
  type UploadCreateOptions,
  type UploadCreateResult,
  Uploads,
  type UploadWaitOptions,
  type Webhook,
  type WebhookCreateParams,
  type WebhookList,
  Webhooks,
  type WithLastResponse,
  type WithResponse,
} from "./src/client.ts";
export type { FetchLike, RecaptureLogger } from "./src/_transport.ts";
export type { BackoffOptions } from "./src/_retry.ts";
export {
  AbortError,
  AuthenticationError,
  ConnectionError,
  EmptyUploadError,
  IncorrectRegionError,
  InvalidRequestError,
  NotFoundError,
  NotLicensedError,
  PermissionDeniedError,
  QuotaExceededError,
  type QuotaInfo,
  RateLimitError,
  type RateLimitErrorOptions,
  type RateLimitInfo,
  RecaptureApiError,
  type RecaptureApiErrorOptions,
  RecaptureError,
  type RecaptureErrorOptions,
  type ResponseMeta,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
  type UnexpectedResponseErrorOptions,
  ValidationError,
} from "./src/errors.ts";
export {
  AU_STATES,
  type Customer,
  type CustomerInput,
  type CustomerPage,
  type CustomerUpdateParams,
  DATE_PATTERN,
  isValidDate,
  type Region,
  REGIONS,
  type RowIssue,
  type Sighting,
  type Upload,
  type UploadCreateParams,
  VIN_PATTERN,
} from "./src/schemas.ts";
export {
  expiresImmediately,
  type ExpiresImmediatelyOptions,
  validateCustomers,
  type ValidateCustomersOptions,
  type ValidateCustomersResult,
} from "./src/validate.ts";
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
} from "./src/events.ts";
export { iteratePages, type IteratePagesOptions, type PageSlice } from "./src/pagination.ts";
