/**
 * Pre-flight validation of customer rows: every problem reported with its row, field and reason,
 * and the valid rows normalised (rego upper-cased without spaces, vin and state upper-cased).
 *
 * @example
 * ```ts
 * import { validateCustomers } from "@recapture/sdk";
 * const { valid, issues } = validateCustomers([{ rego: "abc 123", state: "nsw" }, { name: 1 }]);
 * console.log(valid, issues.length); // [{ rego: "ABC123", state: "NSW" }] 2
 * ```
 * @module
 */
import {
  AU_STATES,
  type CustomerInput,
  type CustomerUpdateParams,
  isValidDate,
  type Region,
  REGIONS,
  type RowIssue,
  type UploadCreateParams,
  VIN_PATTERN,
} from "./schemas.ts";

/** Options for {@link validateCustomers}. */
export interface ValidateCustomersOptions {
  /** The region the rows go to (default `au`): in `au`, `state` must be an AU state. */
  region?: Region;
}

/** The outcome of {@link validateCustomers}. */
export interface ValidateCustomersResult {
  /** The valid rows, normalised, in input order. */
  valid: CustomerInput[];
  /** Every problem, in input order (`index` = 0-based position in the input). */
  issues: RowIssue[];
}

const STRING_FIELDS = ["external_id", "client_name", "mobile_number"] as const;
const DATE_FIELDS = ["sale_date", "expiry_date", "monitor_start_date", "monitor_end_date"] as const;
const KNOWN = new Set<string>([
  "rego",
  "state",
  "vin",
  ...STRING_FIELDS,
  ...DATE_FIELDS,
  "additional_fields",
]);
const AU = new Set(AU_STATES);
const HAS_SPACE = /\s/;
const SPACES = /\s+/g;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function typeName(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "array" : typeof x;
}

/** `undefined`, `null` and blank strings count as absent. */
function absent(x: unknown): boolean {
  return x === undefined || x === null || (typeof x === "string" && x.trim() === "");
}

/**
 * Checks and normalises customer rows. A row needs a `rego` or a `vin`; a `vin` is 17 characters
 * without I, O or Q; in `au` a `state` is one of NSW VIC QLD SA WA TAS NT ACT; dates are real
 * `YYYY-MM-DD` dates (monitor start not after end); text fields are strings;
 * `additional_fields` is an object; unknown fields are refused. Blank values count as absent.
 *
 * @example
 * ```ts
 * import { validateCustomers } from "@recapture/sdk";
 * const { issues } = validateCustomers([{ vin: "123" }]);
 * console.log(issues); // [{ index: 0, field: "vin", reason: "must be 17 characters ..." }]
 * ```
 */
export function validateCustomers(
  customers: unknown[],
  options?: ValidateCustomersOptions,
): ValidateCustomersResult {
  const region = options?.region ?? "au";
  if (!REGIONS.includes(region)) {
    throw new TypeError(`region must be one of ${REGIONS.join(", ")}`);
  }
  if (!Array.isArray(customers)) throw new TypeError("customers must be an array");
  const valid: CustomerInput[] = [];
  const issues: RowIssue[] = [];
  for (let index = 0; index < customers.length; index++) {
    const row = checkRow(customers[index], index, region, issues);
    if (row !== null) valid.push(row);
  }
  return { valid, issues };
}

function checkRow(
  raw: unknown,
  index: number,
  region: Region,
  issues: RowIssue[],
): CustomerInput | null {
  if (!isPlainObject(raw)) {
    issues.push({ index, field: "", reason: `must be an object, got ${typeName(raw)}` });
    return null;
  }
  const before = issues.length;
  const out: CustomerInput = {};

  for (const key in raw) {
    if (!KNOWN.has(key) && raw[key] !== undefined) {
      issues.push({
        index,
        field: key,
        reason: "unknown field (put extra data in additional_fields)",
      });
    }
  }

  const rego = raw.rego;
  if (!absent(rego)) {
    if (typeof rego !== "string") {
      issues.push({ index, field: "rego", reason: `must be a string, got ${typeName(rego)}` });
    } else {
      const r = (HAS_SPACE.test(rego) ? rego.replace(SPACES, "") : rego).toUpperCase();
      if (r.length > 16) {
        issues.push({ index, field: "rego", reason: "must be at most 16 characters" });
      } else out.rego = r;
    }
  }

  const state = raw.state;
  if (!absent(state)) {
    if (typeof state !== "string") {
      issues.push({ index, field: "state", reason: `must be a string, got ${typeName(state)}` });
    } else {
      const s = state.trim().toUpperCase();
      if (region === "au" && !AU.has(s)) {
        issues.push({
          index,
          field: "state",
          reason: `must be one of ${AU_STATES.join(", ")} in region au`,
        });
      } else out.state = s;
    }
  }

  const vin = raw.vin;
  if (!absent(vin)) {
    if (typeof vin !== "string") {
      issues.push({ index, field: "vin", reason: `must be a string, got ${typeName(vin)}` });
    } else {
      const v = vin.trim().toUpperCase();
      if (v.length !== 17) {
        issues.push({
          index,
          field: "vin",
          reason: `must be 17 characters, got ${v.length}`,
        });
      } else if (!VIN_PATTERN.test(v)) {
        issues.push({
          index,
          field: "vin",
          reason: "must contain only letters and digits, without I, O or Q",
        });
      } else out.vin = v;
    }
  }

  if (absent(rego) && absent(vin)) {
    issues.push({ index, field: "rego|vin", reason: "a customer needs a rego or a vin" });
  }

  for (const f of STRING_FIELDS) {
    const x = raw[f];
    if (absent(x)) continue;
    if (typeof x !== "string") {
      issues.push({ index, field: f, reason: `must be a string, got ${typeName(x)}` });
    } else out[f] = x.trim();
  }

  for (const f of DATE_FIELDS) {
    const x = raw[f];
    if (absent(x)) continue;
    if (typeof x === "string" && isValidDate(x)) {
      out[f] = x;
      continue;
    }
    const reason = dateProblem(x);
    if (reason !== null) issues.push({ index, field: f, reason });
    else out[f] = (x as string).trim();
  }
  if (
    out.monitor_start_date !== undefined && out.monitor_end_date !== undefined &&
    out.monitor_start_date > out.monitor_end_date
  ) {
    issues.push({
      index,
      field: "monitor_end_date",
      reason: "must not be before monitor_start_date",
    });
  }

  const extra = raw.additional_fields;
  if (extra !== undefined && extra !== null) {
    if (!isPlainObject(extra)) {
      issues.push({
        index,
        field: "additional_fields",
        reason: `must be an object, got ${typeName(extra)}`,
      });
    } else out.additional_fields = extra;
  }

  return issues.length === before ? out : null;
}

function dateProblem(x: unknown): string | null {
  if (typeof x !== "string") return `must be a date YYYY-MM-DD, got ${typeName(x)}`;
  return isValidDate(x.trim()) ? null : "must be a real date written YYYY-MM-DD";
}

/** Checks the upload-level fields (issues have `index: -1`). */
export function checkUploadParams(params: UploadCreateParams): RowIssue[] {
  const issues: RowIssue[] = [];
  const p = params as unknown as Record<string, unknown>;
  if (!isPlainObject(p)) {
    return [{ index: -1, field: "", reason: `params must be an object, got ${typeName(p)}` }];
  }
  if (typeof p.name !== "string" || p.name.trim() === "") {
    issues.push({ index: -1, field: "name", reason: "must be a non-empty string" });
  }
  if (p.enable_rego_lookups !== undefined && typeof p.enable_rego_lookups !== "boolean") {
    issues.push({
      index: -1,
      field: "enable_rego_lookups",
      reason: `must be a boolean, got ${typeName(p.enable_rego_lookups)}`,
    });
  }
  for (const f of ["monitor_start_date", "monitor_end_date"]) {
    if (p[f] === undefined) continue;
    const reason = dateProblem(p[f]);
    if (reason !== null) issues.push({ index: -1, field: f, reason });
  }
  if (!Array.isArray(p.customers)) {
    issues.push({
      index: -1,
      field: "customers",
      reason: `must be an array, got ${typeName(p.customers)}`,
    });
  } else if (p.customers.length === 0) {
    issues.push({
      index: -1,
      field: "customers",
      reason: "You must upload at least one customer record",
    });
  }
  return issues;
}

const UPDATABLE = new Set(["client_name", "mobile_number", "sale_date", "expiry_date"]);

/** Checks a PATCH body: only the four updatable fields, strings, dates real or `""`. */
export function checkUpdateParams(params: CustomerUpdateParams): RowIssue[] {
  const p = params as unknown as Record<string, unknown>;
  if (!isPlainObject(p)) {
    return [{ index: -1, field: "", reason: `params must be an object, got ${typeName(p)}` }];
  }
  const issues: RowIssue[] = [];
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined) continue;
    if (!UPDATABLE.has(key)) {
      issues.push({
        index: -1,
        field: key,
        reason: "cannot be updated (only client_name, mobile_number, sale_date, expiry_date)",
      });
    } else if (typeof value !== "string") {
      issues.push({ index: -1, field: key, reason: `must be a string, got ${typeName(value)}` });
    } else if ((key === "sale_date" || key === "expiry_date") && value !== "") {
      if (!isValidDate(value)) {
        issues.push({
          index: -1,
          field: key,
          reason: 'must be a real date written YYYY-MM-DD, or "" to clear it',
        });
      }
    }
  }
  return issues;
}
