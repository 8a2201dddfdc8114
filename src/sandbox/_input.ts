/**
 * Request bodies checked for shape and types. A wrong shape or type is a 400 naming the path
 * (`customers[12].rego must be a string (got number)`) and nothing is stored. Field values
 * (a bad VIN, a bad date) are checked while processing and count in `total_errors`.
 *
 * @module
 */
import { HttpError, isPlainObject, MESSAGES, objectBody, typeProblem } from "./_http.ts";
import { dateProblem, mobileProblem, nameProblem } from "./_rows.ts";
// Deeper rows would be accepted and then fail their chunk forever (Deno KV cannot store them).
import { MAX_ADDITIONAL_DEPTH } from "../sdk/validate.ts";
import {
  CustomerInputSchema,
  CustomerUpdateParamsSchema,
  UploadCreateParamsSchema,
} from "../sdk/schemas.ts";

/** The largest `additional_fields` accepted, serialised, in bytes. */
export const MAX_ADDITIONAL_BYTES = 8192;

// The field names come from the request schemas: one list per fact, shared with the SDK.
const UPLOAD_FIELDS = Object.keys(UploadCreateParamsSchema.entries);
const ROW_STRING_FIELDS = Object.keys(CustomerInputSchema.entries)
  .filter((field) => field !== "additional_fields");
/** The fields PATCH may change. */
export const EDITABLE_FIELDS: string[] = Object.keys(CustomerUpdateParamsSchema.entries);

/** A checked upload request. */
export interface UploadInput {
  name: string;
  enable_rego_lookups: boolean;
  monitor_start_date: string | null;
  monitor_end_date: string | null;
  /**
   * The rows, in order, types checked. Each serialises to at most 10 string fields of
   * `MAX_FIELD_LENGTH` characters plus `MAX_ADDITIONAL_BYTES`: under 40 KB. (`Store.acceptUpload`
   * empties the array once the rows are serialised.)
   */
  rows: Record<string, unknown>[];
}

function optionalDate(body: Record<string, unknown>, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw typeProblem(field, "a string", value);
  const problem = dateProblem(value);
  if (problem) throw new HttpError(400, `${field} ${problem}`);
  return value;
}

/** Checks the body of `POST /v2/recapture/upload`. */
export function parseUpload(input: unknown): UploadInput {
  const body = objectBody(input, UPLOAD_FIELDS);
  if (body.name === undefined) throw new HttpError(400, "name is required");
  if (typeof body.name !== "string") throw typeProblem("name", "a string", body.name);
  if (body.name.length > 200) throw new HttpError(400, "name must be at most 200 characters");
  const lookups = body.enable_rego_lookups ?? false;
  if (typeof lookups !== "boolean") throw typeProblem("enable_rego_lookups", "a boolean", lookups);
  const start = optionalDate(body, "monitor_start_date");
  const end = optionalDate(body, "monitor_end_date");
  if (start && end && start > end) {
    throw new HttpError(400, `monitor_end_date must not be before monitor_start_date`);
  }
  const customers = body.customers;
  if (customers === undefined) throw new HttpError(400, "customers is required");
  if (!Array.isArray(customers)) throw typeProblem("customers", "an array", customers);
  if (customers.length === 0) throw new HttpError(400, MESSAGES.emptyUpload);
  for (let i = 0; i < customers.length; i++) checkRow(customers[i], i);
  const rows = customers as Record<string, unknown>[];
  return {
    name: body.name,
    enable_rego_lookups: lookups,
    monitor_start_date: start,
    monitor_end_date: end,
    rows,
  };
}

const STRING_FIELDS = new Set(ROW_STRING_FIELDS);
/** The longest string accepted in a customer field. */
export const MAX_FIELD_LENGTH = 1000;

/**
 * An upper bound of the UTF-8 size of a flat object's JSON (6 bytes per UTF-16 code unit of its
 * keys and strings covers escapes and multi-byte characters), without serialising it; `Infinity`
 * when a value is nested (then the JSON is measured). Every row's `additional_fields` is checked:
 * this keeps the common case free of allocations.
 */
function flatJsonBound(value: Record<string, unknown>): number {
  let size = 2;
  for (const key in value) {
    const v = value[key];
    size += 6 * key.length + 4;
    if (typeof v === "string") size += 6 * v.length + 2;
    else if (typeof v === "number" || typeof v === "boolean" || v === null) size += 24;
    else return Infinity;
  }
  return size;
}

/** Whether objects and arrays nest deeper than `limit` levels in `value` (a level is one). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  for (const key in value) {
    if (nestedDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  }
  return false;
}

function checkRow(row: unknown, i: number): void {
  if (!isPlainObject(row)) throw typeProblem(`customers[${i}]`, "an object", row);
  for (const field in row) {
    const value = row[field];
    if (STRING_FIELDS.has(field)) {
      if (typeof value === "string") {
        if (value.length > MAX_FIELD_LENGTH) {
          throw new HttpError(
            400,
            `customers[${i}].${field} is ${value.length} characters; the limit is ${MAX_FIELD_LENGTH}`,
          );
        }
      } else if (value !== null) {
        throw typeProblem(`customers[${i}].${field}`, "a string or null", value);
      }
    } else if (field === "additional_fields") {
      if (value === null) continue;
      if (!isPlainObject(value)) {
        throw typeProblem(`customers[${i}].additional_fields`, "an object or null", value);
      }
      if (flatJsonBound(value) <= MAX_ADDITIONAL_BYTES) continue;
      if (nestedDeeperThan(value, MAX_ADDITIONAL_DEPTH)) {
        throw new HttpError(
          400,
          `customers[${i}].additional_fields nests objects or arrays more than ${MAX_ADDITIONAL_DEPTH} levels deep`,
        );
      }
      const json = JSON.stringify(value);
      // UTF-8 takes at most 3 bytes per UTF-16 code unit: encode only when that could be over.
      const size = json.length * 3 <= MAX_ADDITIONAL_BYTES
        ? json.length
        : new TextEncoder().encode(json).length;
      if (size > MAX_ADDITIONAL_BYTES) {
        throw new HttpError(
          400,
          `customers[${i}].additional_fields is ${size} bytes; the limit is ${MAX_ADDITIONAL_BYTES}`,
        );
      }
    } else {
      throw new HttpError(
        400,
        `customers[${i}] has an unknown field "${field}"; put extra data in additional_fields`,
      );
    }
  }
}

/** A checked PATCH: each given field, with `null` to clear it. */
export type CustomerPatch = Partial<Record<string, string | null>>;

/** Checks the body of `PATCH /v2/recapture/customers/{id}`. */
export function parsePatch(body: unknown): CustomerPatch {
  if (!isPlainObject(body)) throw typeProblem("Request body", "a JSON object", body);
  const fields = Object.keys(body);
  if (fields.length === 0) {
    throw new HttpError(400, `Nothing to update: give any of ${EDITABLE_FIELDS.join(", ")}`);
  }
  const patch: CustomerPatch = {};
  for (const field of fields) {
    if (!EDITABLE_FIELDS.includes(field)) {
      throw new HttpError(
        400,
        `Field "${field}" cannot be updated; only ${EDITABLE_FIELDS.join(", ")} can`,
      );
    }
    const value = body[field];
    if (value !== null && typeof value !== "string") {
      throw typeProblem(field, 'a string ("" clears it)', value);
    }
    const trimmed = value?.trim() ?? "";
    if (trimmed === "") {
      patch[field] = null;
      continue;
    }
    const problem = field === "mobile_number"
      ? mobileProblem(trimmed)
      : field === "client_name"
      ? nameProblem(trimmed)
      : dateProblem(trimmed);
    if (problem) throw new HttpError(400, `${field} ${problem}`);
    patch[field] = trimmed;
  }
  return patch;
}
