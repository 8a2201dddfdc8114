/**
 * A fast path for validating API responses with valibot schemas. valibot's `safeParse` costs
 * ~20 µs for one customer (it copies every object and builds datasets), a third of a loopback
 * request. Two predicates stand in front of it; when one accepts, the parsed JSON is returned as
 * is (valibot would return an equal copy); when it rejects, valibot runs and reports the issue.
 * The schema stays the single source of truth.
 *
 * - The hot schemas (customer, upload, their envelopes and the customer page) have hand-written
 *   predicates reading each field by name: the objects of one API answer share a hidden class,
 *   so each read is a few ns, where a generic `x[key]` is a hash lookup.
 * - Any other plain structural schema of `schemas.ts` (objects, arrays, records, strings,
 *   numbers, booleans, picklists, literals, optional/nullable/nullish, unknown; no pipes, no
 *   defaults) is compiled into a predicate from the schema itself.
 *
 * `tests/sdk/fast_parse_test.ts` holds both to valibot's answer, field by field.
 * @module
 */
import * as v from "valibot";
import {
  CustomerEnvelopeSchema,
  CustomerPageSchema,
  CustomerSchema,
  SightingSchema,
  UploadEnvelopeSchema,
  UploadSchema,
} from "./schemas.ts";

/** A predicate: true when valibot would accept `x` and return an equal value. */
export type Check = (x: unknown) => boolean;

interface SchemaNode {
  type: string;
  pipe?: unknown[];
  default?: unknown;
  fallback?: unknown;
  entries?: Record<string, SchemaNode>;
  wrapped?: SchemaNode;
  item?: SchemaNode;
  key?: SchemaNode;
  value?: SchemaNode;
  options?: unknown[];
  literal?: unknown;
}

/**
 * A plain object (made by `Object`, as `JSON.parse` makes them) without the keys valibot drops
 * from its copies (`__proto__`, `constructor`, `prototype`). Anything else takes the valibot path
 * so the outputs stay identical: arrays (valibot copies them into objects), class instances,
 * null-prototype objects, and objects with such keys.
 *
 * Cheap checks first, as this runs for every object of every answer: through the prototype,
 * `constructor` reads `Object` and `prototype` is absent, so an own `constructor` key holding a
 * JSON value, or any `prototype` key, shows without a lookup by `Object.hasOwn`. (An own
 * `constructor` holding the `Object` function itself would pass; JSON cannot make one.)
 */
const isObj = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && (x as { constructor?: unknown }).constructor === Object &&
  !("prototype" in x) && !Object.hasOwn(x, "__proto__");

/** The predicate for `schema`, or null when the schema is not purely structural. */
export function compileCheck(schema: SchemaNode): Check | null {
  if (schema.pipe !== undefined || schema.default !== undefined) return null;
  if (schema.fallback !== undefined) return null;
  switch (schema.type) {
    case "string":
      return (x) => typeof x === "string";
    case "number":
      return (x) => typeof x === "number" && !Number.isNaN(x);
    case "boolean":
      return (x) => typeof x === "boolean";
    case "unknown":
      return () => true;
    case "literal": {
      const lit = schema.literal;
      return (x) => x === lit;
    }
    case "picklist": {
      const options = schema.options ?? [];
      return (x) => options.includes(x);
    }
    case "optional":
    case "nullable":
    case "nullish": {
      const inner = schema.wrapped ? compileCheck(schema.wrapped) : null;
      if (inner === null) return null;
      const allowNull = schema.type !== "optional";
      const allowUndefined = schema.type !== "nullable";
      return (x) => (x === null && allowNull) || (x === undefined && allowUndefined) || inner(x);
    }
    case "array": {
      const item = schema.item ? compileCheck(schema.item) : null;
      if (item === null) return null;
      return (x) => {
        if (!Array.isArray(x)) return false;
        for (let i = 0; i < x.length; i++) if (!item(x[i])) return false;
        return true;
      };
    }
    case "record": {
      const key = schema.key ? compileCheck(schema.key) : null;
      const value = schema.value ? compileCheck(schema.value) : null;
      if (key === null || value === null) return null;
      return (x) => {
        if (!isObj(x)) return false;
        for (const k in x) {
          if (!Object.hasOwn(x, k)) continue;
          if (!key(k) || !value(x[k])) return false;
        }
        return true;
      };
    }
    case "loose_object": {
      const entries = Object.entries(schema.entries ?? {});
      const checks: [string, Check][] = [];
      for (const [k, s] of entries) {
        const c = compileCheck(s);
        if (c === null) return null;
        checks.push([k, c]);
      }
      return (x) => {
        if (!isObj(x)) return false;
        for (let i = 0; i < checks.length; i++) {
          const [k, c] = checks[i];
          if (!c(x[k])) return false;
        }
        return true;
      };
    }
    default:
      return null;
  }
}

// Hand-written predicates for the hot schemas. Each accepts exactly what valibot accepts
// without changing it: `isObj` leaves arrays and objects with keys valibot drops to valibot.

/** `v.nullish(v.string())` */
const nStr = (x: unknown): boolean => x === undefined || x === null || typeof x === "string";
/** `v.nullish(v.number())` */
const nNum = (x: unknown): boolean =>
  x === undefined || x === null || (typeof x === "number" && !Number.isNaN(x));
/** `v.number()` */
const num = (x: unknown): boolean => typeof x === "number" && !Number.isNaN(x);

/** {@link SightingSchema} */
function isSighting(x: unknown): boolean {
  if (!isObj(x)) return false;
  return nStr(x.at) && nStr(x.lead_id) && nStr(x.listing_url) && nStr(x.listing_title) &&
    nNum(x.listing_price) && nStr(x.seller_type);
}

/** `v.nullish(v.array(SightingSchema))` */
function isSightings(x: unknown): boolean {
  if (x === undefined || x === null) return true;
  if (!Array.isArray(x)) return false;
  for (let i = 0; i < x.length; i++) if (!isSighting(x[i])) return false;
  return true;
}

/** {@link CustomerSchema} */
function isCustomer(x: unknown): boolean {
  if (!isObj(x)) return false;
  const extra = x.additional_fields;
  return typeof x.id === "string" && nStr(x.upload_id) && nStr(x.region) && nStr(x.rego) &&
    nStr(x.state) && nStr(x.vin) && nStr(x.vin_source) && nStr(x.external_id) &&
    nStr(x.vehicle_title) && nStr(x.client_name) && nStr(x.mobile_number) &&
    nStr(x.sale_date) && nStr(x.expiry_date) && nStr(x.monitor_start_date) &&
    nStr(x.monitor_end_date) &&
    // `v.nullish(v.record(v.string(), v.unknown()))`: any plain object.
    (extra === undefined || extra === null || isObj(extra)) &&
    isSightings(x.sightings) && nStr(x.created_at) && nStr(x.last_updated);
}

/** {@link UploadSchema} */
function isUpload(x: unknown): boolean {
  if (!isObj(x)) return false;
  const lookups = x.enable_rego_lookups;
  return typeof x.id === "string" && nStr(x.name) && nStr(x.region) &&
    (lookups === undefined || lookups === null || typeof lookups === "boolean") &&
    nStr(x.monitor_start_date) && nStr(x.monitor_end_date) && nStr(x.status) &&
    num(x.total_uploaded_customers) && num(x.total_processed_customers) &&
    num(x.total_errors) && nStr(x.created_at) && nStr(x.updated_at);
}

/** {@link CustomerPageSchema} */
function isCustomerPage(x: unknown): boolean {
  if (!isObj(x)) return false;
  const customers = x.customers;
  if (!Array.isArray(customers)) return false;
  for (let i = 0; i < customers.length; i++) if (!isCustomer(customers[i])) return false;
  return nNum(x.total) && nNum(x.offset) && nNum(x.limit);
}

/** The hand-written predicates, by schema (exported for the tests). */
export const HAND_WRITTEN: ReadonlyMap<v.GenericSchema, Check> = new Map<v.GenericSchema, Check>([
  [SightingSchema, isSighting],
  [CustomerSchema, isCustomer],
  [UploadSchema, isUpload],
  [CustomerEnvelopeSchema, (x) => isObj(x) && isCustomer(x.customer)],
  [UploadEnvelopeSchema, (x) => isObj(x) && isUpload(x.upload)],
  [CustomerPageSchema, isCustomerPage],
]);

const cache = new WeakMap<object, Check | null>(HAND_WRITTEN);
/** The last schema looked up, and its predicate: calls come in runs of one schema. */
let lastSchema: object | null = null;
let lastCheck: Check | null = null;

/** The predicate for `schema` (hand-written, compiled, or null for valibot only). */
function checkFor(schema: object): Check | null {
  if (schema === lastSchema) return lastCheck;
  let check = cache.get(schema);
  if (check === undefined) {
    check = compileCheck(schema as SchemaNode);
    cache.set(schema, check);
  }
  lastSchema = schema;
  lastCheck = check;
  return check;
}

/**
 * `v.safeParse(schema, input)`, answering from the predicate when it accepts (for the JSON
 * values `parseBody` hands it, the very answer valibot gives).
 */
export function fastSafeParse<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): v.SafeParseResult<S> {
  const check = checkFor(schema);
  if (check !== null && check(input)) {
    return {
      typed: true,
      success: true,
      output: input as v.InferOutput<S>,
      issues: undefined,
    } as v.SafeParseResult<S>;
  }
  return v.safeParse(schema, input);
}
