/**
 * Wire types of the Customer Recapture API: schemas (`_shape.ts`; the single source of truth,
 * kept internal so the public surface shows plain types) and the exported interfaces, which a
 * compile-time check at the bottom of this file holds equal to the schemas' inferred output.
 *
 * Response objects are `looseObject`s: unknown extra fields from the API are kept, not rejected.
 *
 * @example
 * ```ts
 * import type { Customer } from "@recapture/sdk";
 * const c: Customer = { id: "cus_1", rego: "ABC123", state: "NSW" };
 * console.log(c.rego);
 * ```
 * @module
 */
import {
  array,
  boolean,
  check,
  type Infer,
  looseObject,
  minLength,
  nullish,
  number,
  optional,
  strictObject,
  string,
} from "./_shape.ts";

/** The four regions the API serves. */
export type Region = "au" | "nz" | "uk" | "my";

/**
 * Every region, in documentation order.
 *
 * @example
 * ```ts
 * import { REGIONS } from "@recapture/sdk";
 * console.log(REGIONS.includes("nz")); // true
 * ```
 */
export const REGIONS: readonly Region[] = Object.freeze(["au", "nz", "uk", "my"] as const);

/**
 * Whether `x` is one of {@link REGIONS}: the one region check of the package (client, config,
 * edge, MCP).
 *
 * @example
 * ```ts
 * import { isRegion } from "@recapture/sdk";
 * console.log(isRegion("nz"), isRegion("us")); // true false
 * ```
 */
export function isRegion(x: unknown): x is Region {
  return (REGIONS as readonly unknown[]).includes(x);
}

/**
 * Australian registration states accepted in `state` when the region is `au`.
 *
 * @example
 * ```ts
 * import { AU_STATES } from "@recapture/sdk";
 * console.log(AU_STATES.length); // 8
 * ```
 */
export const AU_STATES: readonly string[] = Object.freeze([
  "NSW",
  "VIC",
  "QLD",
  "SA",
  "WA",
  "TAS",
  "NT",
  "ACT",
]);

/**
 * A VIN: 17 characters of A-H, J-N, P, R-Z and 0-9 (no I, O or Q), upper case.
 *
 * @example
 * ```ts
 * import { VIN_PATTERN } from "@recapture/sdk";
 * console.log(VIN_PATTERN.test("1HGCM82633A004352")); // true
 * ```
 */
export const VIN_PATTERN: RegExp = /^[A-HJ-NPR-Z0-9]{17}$/;

/**
 * A rego as customers are stored and matched: without spaces or dashes, upper case.
 *
 * @example
 * ```ts
 * import { normalRego } from "./schemas.ts";
 * console.log(normalRego("abc-12 3")); // "ABC123"
 * ```
 */
export function normalRego(rego: string): string {
  return rego.replace(/[\s-]+/g, "").toUpperCase();
}

/**
 * The field rules a customer row must meet to be stored (the SDK's validation and the
 * sandbox's processing both apply these; one home): each answers the problem, or `null`.
 * - `rego`: 1 to 10 letters and digits once spaces and dashes are taken out;
 * - `mobile_number`: digits, with spaces, `()`, `-` and a leading `+`, 6 to 15 digits;
 * - `client_name`: at most 200 characters.
 *
 * @example
 * ```ts
 * import { FIELD_RULES } from "./schemas.ts";
 * console.log(FIELD_RULES.rego("ABC 123"), FIELD_RULES.mobile_number("12")); // null "must be ..."
 * ```
 */
export const FIELD_RULES: Readonly<{
  rego(value: string): string | null;
  mobile_number(value: string): string | null;
  client_name(value: string): string | null;
}> = Object.freeze({
  rego: (value: string) =>
    isRego(value) ? null : "must be 1 to 10 letters and digits (spaces and dashes aside)",
  mobile_number: (value: string) =>
    isMobile(value) ? null : "must be a phone number of 6 to 15 digits",
  client_name: (value: string) =>
    value.length > 200 ? `must be at most 200 characters, got ${value.length}` : null,
});

// The two rules below run for every row imported. They read ASCII by character codes, not by
// regular expressions (the plain forms cost ~20 ms per 100k rows of the import benchmark's
// read + validate, whose goal is <= 1.5x papaparse); tests/sdk/field_rules_property_test.ts
// holds each to its plain form.

/** `/^[A-Z0-9]{1,10}$/.test(normalRego(value))`. */
function isRego(value: string): boolean {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Beyond ASCII, upper-casing may make letters (ß is SS) and \s knows more spaces.
    if (c > 127) return /^[A-Z0-9]{1,10}$/.test(normalRego(value));
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) count++;
    else if (c !== 45 && c !== 32 && (c < 9 || c > 13)) return false; // not - nor \s
  }
  return count >= 1 && count <= 10;
}

/** `/^\+?[0-9 ()-]+$/.test(value)` with 6 to 15 digits. */
function isMobile(value: string): boolean {
  let digits = 0;
  for (let i = value.charCodeAt(0) === 43 ? 1 : 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c !== 32 && c !== 40 && c !== 41 && c !== 45) return false;
  }
  return digits >= 6 && digits <= 15;
}

/**
 * A calendar date `YYYY-MM-DD` (shape only; {@link isValidDate} also checks the day exists).
 *
 * @example
 * ```ts
 * import { DATE_PATTERN } from "@recapture/sdk";
 * console.log(DATE_PATTERN.test("2025-01-31")); // true
 * ```
 */
export const DATE_PATTERN: RegExp = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Whether `s` is a real calendar date written `YYYY-MM-DD` (`2025-02-30` is not).
 *
 * @example
 * ```ts
 * import { isValidDate } from "@recapture/sdk";
 * console.log(isValidDate("2024-02-29"), isValidDate("2025-02-29")); // true false
 * ```
 */
export function isValidDate(s: string): boolean {
  // By character codes, not DATE_PATTERN: it runs for every date of every row imported (the
  // import benchmark's read + validate figure); tests/sdk/field_rules_property_test.ts holds it
  // to the pattern.
  if (typeof s !== "string" || s.length !== 10) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false; // "-"
  const y = digits(s, 0, 4), mo = digits(s, 5, 7), d = digits(s, 8, 10);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 ? (leap ? 29 : 28) : DAYS[mo - 1]);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by `s` from `from` to `to` in ASCII digits, or -1. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Schemas (internal: the public types below are written out, so the docs show plain interfaces).

/** @internal A string the API may leave out or send as null (every wire schema's). */
export const optStr = nullish(string());
/** @internal A number the API may leave out or send as null. */
export const optNum = nullish(number());
const dateSchema = check(string(), isValidDate, "expected a date YYYY-MM-DD");
/**
 * `additional_fields`: any object (a loose object of no known fields: the same values and output
 * as a record of unknown values, without a second object function in the bundle).
 */
const freeMap = looseObject({});
/** A date, or `""` (which clears the field in a PATCH). */
const dateOrEmpty = check(
  string(),
  (s) => s === "" || isValidDate(s),
  'expected a date YYYY-MM-DD or ""',
);

/** @internal One time a tracked car was seen listed. */
export const SightingSchema = looseObject({
  at: optStr,
  lead_id: optStr,
  listing_url: optStr,
  listing_title: optStr,
  listing_price: optNum,
  seller_type: optStr,
});

/** @internal A tracked customer as the API returns it. Only `id` is required. */
export const CustomerSchema = looseObject({
  id: string(),
  upload_id: optStr,
  region: optStr,
  rego: optStr,
  state: optStr,
  vin: optStr,
  vin_source: optStr,
  external_id: optStr,
  vehicle_title: optStr,
  client_name: optStr,
  mobile_number: optStr,
  sale_date: optStr,
  expiry_date: optStr,
  monitor_start_date: optStr,
  monitor_end_date: optStr,
  additional_fields: nullish(freeMap),
  sightings: nullish(array(SightingSchema)),
  created_at: optStr,
  last_updated: optStr,
});

/** @internal An upload as the API returns it. `id` and the three counters are required. */
export const UploadSchema = looseObject({
  id: string(),
  name: optStr,
  region: optStr,
  enable_rego_lookups: nullish(boolean()),
  monitor_start_date: optStr,
  monitor_end_date: optStr,
  status: optStr,
  total_uploaded_customers: number(),
  total_processed_customers: number(),
  total_errors: number(),
  created_at: optStr,
  updated_at: optStr,
});

/** @internal `{ success, upload }` */
export const UploadEnvelopeSchema = looseObject({ upload: UploadSchema });
/** @internal `{ success, customer }` */
export const CustomerEnvelopeSchema = looseObject({ customer: CustomerSchema });
/**
 * @internal `{ success, customers, total, offset, limit }`: only `customers` is required (the
 * rest is our decision, API_FACTS.md), so a page without them is accepted.
 */
export const CustomerPageSchema = looseObject({
  customers: array(CustomerSchema),
  total: nullish(number()),
  offset: nullish(number()),
  limit: nullish(number()),
});
/** @internal OAuth token answer. */
export const TokenSchema = looseObject({
  access_token: minLength(1),
  expires_in: nullish(number()),
  token_type: optStr,
  scope: optStr,
});

/** @internal A customer row in an upload request, after normalisation. */
export const CustomerInputSchema = strictObject({
  rego: optional(minLength(1)),
  state: optional(string()),
  vin: optional(check(string(), (vin) => VIN_PATTERN.test(vin), "expected a VIN")),
  external_id: optional(string()),
  client_name: optional(string()),
  mobile_number: optional(string()),
  sale_date: optional(dateSchema),
  expiry_date: optional(dateSchema),
  monitor_start_date: optional(dateSchema),
  monitor_end_date: optional(dateSchema),
  additional_fields: optional(freeMap),
});

/** @internal The upload request body (unknown fields are refused, as by the sandbox). */
export const UploadCreateParamsSchema = strictObject({
  name: minLength(1),
  enable_rego_lookups: optional(boolean()),
  monitor_start_date: optional(dateSchema),
  monitor_end_date: optional(dateSchema),
  customers: array(CustomerInputSchema),
});

/** @internal The PATCH body: only these four fields; `""` clears a field. */
export const CustomerUpdateParamsSchema = strictObject({
  client_name: optional(string()),
  mobile_number: optional(string()),
  sale_date: optional(dateOrEmpty),
  expiry_date: optional(dateOrEmpty),
});

// ---------------------------------------------------------------------------------------------
// Public types (written out, so the public surface shows plain interfaces).

/** One time a tracked car was seen listed for sale. Extra fields from the API are kept. */
export interface Sighting {
  /** When it was seen (ISO 8601). */
  at?: string | null;
  /** The lead id of the listing. */
  lead_id?: string | null;
  /** The listing URL. */
  listing_url?: string | null;
  /** The listing title. */
  listing_title?: string | null;
  /** The asking price. */
  listing_price?: number | null;
  /** `dealer`, `private`, ... */
  seller_type?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** A tracked customer. Every field but `id` is optional and nullable; extra fields are kept. */
export interface Customer {
  /** The customer id. */
  id: string;
  /** The upload that created it. */
  upload_id?: string | null;
  /** Its region. */
  region?: string | null;
  /** Registration plate, upper case without spaces. */
  rego?: string | null;
  /** Registration state (AU). */
  state?: string | null;
  /** Vehicle identification number. */
  vin?: string | null;
  /** `provided`, `rego_lookup` or null. */
  vin_source?: string | null;
  /** The caller's own id for the customer. */
  external_id?: string | null;
  /** The resolved vehicle. */
  vehicle_title?: string | null;
  /** The customer's name. */
  client_name?: string | null;
  /** The customer's mobile number. */
  mobile_number?: string | null;
  /** Sale date (reference only), `YYYY-MM-DD`. */
  sale_date?: string | null;
  /** The customer is deleted on this date, `YYYY-MM-DD`. */
  expiry_date?: string | null;
  /** Monitoring starts on this date. */
  monitor_start_date?: string | null;
  /** Monitoring ends on this date. */
  monitor_end_date?: string | null;
  /** Free map of anything else. */
  additional_fields?: { [key: string]: unknown } | null;
  /** Every time the car was seen listed. */
  sightings?: Sighting[] | null;
  /** Creation time (ISO 8601). */
  created_at?: string | null;
  /** Last change (ISO 8601). */
  last_updated?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/**
 * An upload. `id` and the three counters are required; the upload is done when
 * `total_processed_customers` reaches `total_uploaded_customers` (or it is cancelled).
 */
export interface Upload {
  /** The upload id. */
  id: string;
  /** The name given at creation. */
  name?: string | null;
  /** Its region. */
  region?: string | null;
  /** Whether VINs are looked up from regos. */
  enable_rego_lookups?: boolean | null;
  /** Upload-level default monitoring start. */
  monitor_start_date?: string | null;
  /** Upload-level default monitoring end. */
  monitor_end_date?: string | null;
  /** `queued`, `processing`, `completed` or `cancelled`. */
  status?: string | null;
  /** Customers received. */
  total_uploaded_customers: number;
  /** Customers processed, errors included. */
  total_processed_customers: number;
  /** Customers that failed processing. */
  total_errors: number;
  /** Creation time (ISO 8601). */
  created_at?: string | null;
  /** Last change (ISO 8601). */
  updated_at?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** One page of customers. */
export interface CustomerPage {
  /** The customers on this page. */
  customers: Customer[];
  /** How many customers match in all, when the API says it. */
  total?: number | null;
  /** Offset of this page, when the API says it. */
  offset?: number | null;
  /** Page size asked for, when the API says it. */
  limit?: number | null;
  /** Fields the SDK does not know yet (e.g. `success`). */
  [key: string]: unknown;
}

/**
 * A customer row to upload. Each customer needs a `rego` or a `vin`. Normalised by
 * {@link validateCustomers}: rego upper-cased with spaces removed, vin and state upper-cased.
 */
export interface CustomerInput {
  /** Registration plate. */
  rego?: string;
  /** Registration state; in `au` one of NSW VIC QLD SA WA TAS NT ACT. */
  state?: string;
  /** 17-character VIN (no I, O, Q). */
  vin?: string;
  /** The caller's own id for the customer. */
  external_id?: string;
  /** The customer's name. */
  client_name?: string;
  /** The customer's mobile number. */
  mobile_number?: string;
  /** Sale date (reference only), `YYYY-MM-DD`. */
  sale_date?: string;
  /** The customer is deleted on this date, `YYYY-MM-DD`. */
  expiry_date?: string;
  /** Monitoring starts on this date, `YYYY-MM-DD`. */
  monitor_start_date?: string;
  /** Monitoring ends on this date, `YYYY-MM-DD`. */
  monitor_end_date?: string;
  /** Free map of anything else. */
  additional_fields?: { [key: string]: unknown };
}

/** The body of `uploads.create`. */
export interface UploadCreateParams {
  /** A name for reference. */
  name: string;
  /** Look up VINs from regos (extra cost). */
  enable_rego_lookups?: boolean;
  /** Default monitoring start for customers without their own, `YYYY-MM-DD`. */
  monitor_start_date?: string;
  /** Default monitoring end for customers without their own, `YYYY-MM-DD`. */
  monitor_end_date?: string;
  /** The customers (at least one). */
  customers: CustomerInput[];
}

/** The body of `customers.update`: only the given fields change; `""` sets a field to null. */
export interface CustomerUpdateParams {
  /** New name, or `""` to clear. */
  client_name?: string;
  /** New mobile number, or `""` to clear. */
  mobile_number?: string;
  /** New sale date `YYYY-MM-DD`, or `""` to clear. */
  sale_date?: string;
  /** New expiry date `YYYY-MM-DD`, or `""` to clear. */
  expiry_date?: string;
}

/**
 * One problem found in the input. `index` is the 0-based row in the customers given, or `-1`
 * for a problem with the upload itself (its name, dates, or an empty list).
 */
export interface RowIssue {
  /** 0-based position of the row in the input, or -1 for the upload itself. */
  index: number;
  /** The field at fault (`rego|vin` when both are missing, `""` for the whole row). */
  field: string;
  /** What is wrong. */
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Compile-time check: every public interface equals its schema's inferred output.

/** @internal `true` when A and B are the same type. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** @internal Compiles only when T is `true`. */
export type Assert<T extends true> = T;
/** @internal */
export type _SchemaTypesAgree = [
  Assert<Same<Infer<typeof SightingSchema>, Sighting>>,
  Assert<Same<Infer<typeof CustomerSchema>, Customer>>,
  Assert<Same<Infer<typeof UploadSchema>, Upload>>,
  Assert<Same<Infer<typeof CustomerPageSchema>, CustomerPage>>,
  Assert<Same<Infer<typeof CustomerInputSchema>, CustomerInput>>,
  Assert<Same<Infer<typeof UploadCreateParamsSchema>, UploadCreateParams>>,
  Assert<Same<Infer<typeof CustomerUpdateParamsSchema>, CustomerUpdateParams>>,
];
