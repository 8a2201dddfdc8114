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
  CustomerInputSchema,
  type CustomerUpdateParams,
  CustomerUpdateParamsSchema,
  FIELD_RULES,
  isRegion,
  isValidDate,
  type Region,
  REGIONS,
  type RowIssue,
  type UploadCreateParams,
  UploadCreateParamsSchema,
  VIN_PATTERN,
} from "./schemas.ts";

/** Options for {@link validateCustomers}. */
export interface ValidateCustomersOptions {
  /** The region the rows go to (default `au`): in `au`, `state` must be an AU state. */
  region?: Region;
  /**
   * Accept an `expiry_date` of today or earlier (default `false`: such a row is refused, since
   * the API deletes the customer at once; see {@linkcode expiresImmediately}).
   */
  allowPastExpiry?: boolean;
  /** The moment "today" is judged at for `expiry_date` (default now). */
  now?: Date;
}

/** The reason given for an `expiry_date` of today or earlier, without the hint. */
export const PAST_EXPIRY_REASON =
  "is today or earlier (judged in UTC+14, the earliest today anywhere): the API deletes such " +
  "a customer at once";

/** The outcome of {@link validateCustomers}. */
export interface ValidateCustomersResult {
  /** The valid rows, normalised, in input order. */
  valid: CustomerInput[];
  /** Every problem, in input order (`index` = 0-based position in the input). */
  issues: RowIssue[];
}

/** The fields a customer row may have: the keys of the upload schema's customer. */
const FIELDS: ReadonlySet<string> = new Set(Object.keys(CustomerInputSchema.entries));

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** The reason for a value that is not a plain object (a class instance is told apart). */
function notObject(x: unknown): string {
  const instance = typeof x === "object" && x !== null && !Array.isArray(x);
  return `must be ${instance ? "a plain" : "an"} object, got ${typeName(x)}`;
}

/** What a value is, for messages: `null`, `array`, `string`..., `object`, `an instance of Date`. */
function typeName(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "array";
  if (typeof x !== "object" || isPlainObject(x)) return typeof x;
  return `an instance of ${Object.getPrototypeOf(x)?.constructor?.name || "a class"}`;
}

/**
 * A field's value as it is checked: a string trimmed, `undefined` when absent (`undefined`,
 * `null`, a blank string), anything else as it is (refused by the caller).
 */
function given(x: unknown): unknown {
  if (typeof x === "string") {
    const text = x.trim();
    return text === "" ? undefined : text;
  }
  return x === null ? undefined : x;
}

/**
 * A rego as it is sent: without whitespace, upper case. Printable ASCII is read by character
 * codes (the import benchmark's read + validate figure), anything else plainly.
 */
function sentRego(rego: string): string {
  let lower = false;
  for (let i = 0; i < rego.length; i++) {
    const c = rego.charCodeAt(i);
    if (c < 33 || c > 126) return rego.replace(/\s+/g, "").toUpperCase();
    if (c >= 97 && c <= 122) lower = true;
  }
  return lower ? rego.toUpperCase() : rego;
}

/**
 * Checks and normalises customer rows. A row needs a `rego` or a `vin`; a `vin` is 17 characters
 * without I, O or Q; in `au` a `state` is one of NSW VIC QLD SA WA TAS NT ACT; dates are real
 * `YYYY-MM-DD` dates (monitor start not after end); text fields are strings;
 * `additional_fields` is an object that JSON carries unchanged (plain objects, arrays and values
 * with `toJSON`; no bigint, cycle, NaN, ±Infinity, invalid Date, function, symbol, `undefined` in
 * an array, Map, Set or other class instance; nested at most 2,000 levels); unknown fields are
 * refused. Blank values count as absent. An `expiry_date` of today or earlier is refused unless
 * `allowPastExpiry` (the API would delete the customer at once).
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
  const { valid, issues } = validateEach(customers, options, () => true);
  return { valid, issues };
}

/**
 * @internal {@link validateCustomers}, handing each valid row to `keep` as it is found; stops
 * (the result then holds the rows up to that one) when `keep` answers `false`.
 */
export function validateEach(
  customers: unknown[],
  options: ValidateCustomersOptions | undefined,
  keep: (row: CustomerInput, index: number) => boolean,
): ValidateCustomersResult & { stoppedAt: number | null } {
  const region = options?.region ?? "au";
  if (!isRegion(region)) {
    throw new TypeError(`region must be one of ${REGIONS.join(", ")}`);
  }
  if (!Array.isArray(customers)) throw new TypeError("customers must be an array");
  const valid: CustomerInput[] = [];
  const issues: RowIssue[] = [];
  const lastDeleted = options?.allowPastExpiry ? "" : earliestToday(options?.now ?? new Date());
  for (let index = 0; index < customers.length; index++) {
    const row = checkRow(customers[index], index, region, issues, lastDeleted);
    if (row === null) continue;
    valid.push(row);
    if (!keep(row, index)) return { valid, issues, stoppedAt: index };
  }
  return { valid, issues, stoppedAt: null };
}

function checkRow(
  raw: unknown,
  index: number,
  region: Region,
  issues: RowIssue[],
  lastDeleted: string,
): CustomerInput | null {
  if (!isPlainObject(raw)) {
    issues.push({ index, field: "", reason: notObject(raw) });
    return null;
  }
  const before = issues.length;
  const out: CustomerInput = {};

  for (const key in raw) {
    if (!FIELDS.has(key) && raw[key] !== undefined) {
      issues.push({
        index,
        field: key,
        reason: "unknown field (put extra data in additional_fields)",
      });
    }
  }

  const rego = given(raw.rego);
  if (typeof rego === "string") {
    // Judged as stored (spaces and dashes aside), sent as written less its spaces (API_FACTS).
    const problem = FIELD_RULES.rego(rego);
    if (problem !== null) issues.push({ index, field: "rego", reason: problem });
    else out.rego = sentRego(rego);
  } else if (rego !== undefined) issues.push(notString(index, "rego", rego));

  const state = given(raw.state);
  if (typeof state === "string") {
    const s = AU_STATES.includes(state) ? state : state.toUpperCase();
    if (region === "au" && !AU_STATES.includes(s)) {
      issues.push({
        index,
        field: "state",
        reason: `must be one of ${AU_STATES.join(", ")} in region au`,
      });
    } else out.state = s;
  } else if (state !== undefined) issues.push(notString(index, "state", state));

  const vin = given(raw.vin);
  if (typeof vin === "string") {
    const v = vin.toUpperCase();
    if (v.length !== 17) {
      issues.push({ index, field: "vin", reason: `must be 17 characters, got ${v.length}` });
    } else if (!VIN_PATTERN.test(v)) {
      issues.push({
        index,
        field: "vin",
        reason: "must contain only letters and digits, without I, O or Q",
      });
    } else out.vin = v;
  } else if (vin !== undefined) issues.push(notString(index, "vin", vin));

  if (rego === undefined && vin === undefined) {
    issues.push({ index, field: "rego|vin", reason: "a customer needs a rego or a vin" });
  }

  const externalId = given(raw.external_id);
  if (typeof externalId === "string") out.external_id = externalId;
  else if (externalId !== undefined) issues.push(notString(index, "external_id", externalId));
  const clientName = given(raw.client_name);
  if (typeof clientName === "string") {
    const problem = FIELD_RULES.client_name(clientName);
    if (problem !== null) issues.push({ index, field: "client_name", reason: problem });
    else out.client_name = clientName;
  } else if (clientName !== undefined) issues.push(notString(index, "client_name", clientName));
  const mobile = given(raw.mobile_number);
  if (typeof mobile === "string") {
    const problem = FIELD_RULES.mobile_number(mobile);
    if (problem !== null) issues.push({ index, field: "mobile_number", reason: problem });
    else out.mobile_number = mobile;
  } else if (mobile !== undefined) issues.push(notString(index, "mobile_number", mobile));

  const saleDate = checkDate(raw.sale_date, index, "sale_date", issues);
  if (saleDate !== undefined) out.sale_date = saleDate;
  const expiryDate = checkDate(raw.expiry_date, index, "expiry_date", issues);
  if (expiryDate !== undefined && expiryDate <= lastDeleted) {
    issues.push({
      index,
      field: "expiry_date",
      reason: `${expiryDate} ${PAST_EXPIRY_REASON} (allowPastExpiry: true sends it anyway)`,
    });
  } else if (expiryDate !== undefined) out.expiry_date = expiryDate;
  const monitorStart = checkDate(raw.monitor_start_date, index, "monitor_start_date", issues);
  if (monitorStart !== undefined) out.monitor_start_date = monitorStart;
  const monitorEnd = checkDate(raw.monitor_end_date, index, "monitor_end_date", issues);
  if (monitorEnd !== undefined) out.monitor_end_date = monitorEnd;
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
        reason: notObject(extra),
      });
    } else {
      const problem = jsonProblem(extra, "additional_fields");
      if (problem === null) out.additional_fields = extra;
      else issues.push({ index, field: "additional_fields", reason: problem });
    }
  }

  return issues.length === before ? out : null;
}

/**
 * The deepest nesting of objects and arrays accepted in `additional_fields` (the object itself is
 * level 1), by `validateCustomers` and by the sandbox. Deno KV's serialiser overflows its stack
 * at about 3,500 levels, and arrays that deep fit in a few KB.
 */
export const MAX_ADDITIONAL_DEPTH = 2000;

/**
 * Why `x` cannot travel as JSON unchanged, naming where in it (`additional_fields.crm.id`), or
 * null. `JSON.stringify` throws on a bigint or a cycle, and silently drops functions and symbols,
 * turns NaN, ±Infinity, an invalid Date and `undefined` in an array (or a hole) into null, and any
 * object but a plain one or an array into its own fields (a Map, a RegExp or an Error into `{}`).
 * Objects with `toJSON` (a valid Date) are what they say they are; `undefined` in an object is
 * absent, as it is in a row.
 */
function jsonProblem(x: Record<string, unknown>, name: string): string | null {
  // The common case, a flat object of strings, numbers and booleans, without the full walk.
  for (const key in x) {
    const value = x[key];
    const type = typeof value;
    if (
      type === "string" || type === "boolean" || value === null || value === undefined ||
      (type === "number" && Number.isFinite(value))
    ) continue;
    return jsonProblemPath(x, name);
  }
  return null;
}

/** {@link jsonProblem} by the full walk. */
function jsonProblemPath(x: unknown, name: string): string | null {
  const found = jsonProblemAt(x, [], 0);
  if (found === null) return null;
  let path = name;
  const steps = found.path.length;
  for (let i = steps - 1; i >= Math.max(0, steps - 8); i--) {
    const step = found.path[i];
    path += typeof step === "number" ? `[${step}]` : `.${step}`;
  }
  if (steps > 8) path += "…";
  return `${path} ${found.reason}`;
}

/** The walk of {@link jsonProblem}; the path comes back innermost first (built only on failure). */
function jsonProblemAt(
  x: unknown,
  ancestors: object[],
  depth: number,
): { path: (string | number)[]; reason: string } | null {
  let reason: string | null = null;
  switch (typeof x) {
    case "string":
    case "boolean":
    case "undefined":
      return null;
    case "number":
      if (Number.isFinite(x)) return null;
      reason = `is ${x}, which JSON would send as null`;
      break;
    case "bigint":
      reason = "is a bigint, which JSON cannot carry (convert it to a string or number)";
      break;
    case "function":
    case "symbol":
      reason = `is a ${typeof x}, which JSON would leave out`;
      break;
  }
  if (reason !== null) return { path: [], reason };
  if (x === null) return null;
  const object = x as Record<string, unknown>;
  if (object instanceof Date && Number.isNaN(object.getTime())) {
    return { path: [], reason: "is an invalid Date, which JSON would send as null" };
  }
  if (typeof object.toJSON === "function") return null;
  if (object instanceof Map || object instanceof Set) {
    return {
      path: [],
      reason: `is a ${object instanceof Map ? "Map" : "Set"}, which JSON would send as {}`,
    };
  }
  if (!Array.isArray(object) && !isPlainObject(object)) {
    return { path: [], reason: `is ${typeName(object)}, which JSON would not carry as it is` };
  }
  if (ancestors.includes(object)) {
    return { path: [], reason: "refers back to an object that contains it" };
  }
  if (depth >= MAX_ADDITIONAL_DEPTH) {
    return { path: [], reason: `nests more than ${MAX_ADDITIONAL_DEPTH} levels deep` };
  }
  ancestors.push(object);
  let found: { path: (string | number)[]; reason: string } | null = null;
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length && found === null; i++) {
      found = object[i] === undefined
        ? { path: [], reason: "is undefined (or a hole), which JSON would send as null" }
        : jsonProblemAt(object[i], ancestors, depth + 1);
      if (found !== null) found.path.push(i);
    }
  } else {
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      found = jsonProblemAt(object[key], ancestors, depth + 1);
      if (found !== null) {
        found.path.push(key);
        break;
      }
    }
  }
  ancestors.pop();
  return found;
}

function notString(index: number, field: string, x: unknown): RowIssue {
  return { index, field, reason: `must be a string, got ${typeName(x)}` };
}

/** A date field: the date (trimmed) when it is a real `YYYY-MM-DD`; else an issue, or absent. */
function checkDate(
  x: unknown,
  index: number,
  field: string,
  issues: RowIssue[],
): string | undefined {
  const date = given(x);
  if (date === undefined) return undefined;
  const reason = dateProblem(date);
  if (reason === null) return date as string;
  issues.push({ index, field, reason });
  return undefined;
}

/** Why `x` (trimmed, if a string) is not a date, or null. */
function dateProblem(x: unknown): string | null {
  if (typeof x !== "string") return `must be a date YYYY-MM-DD, got ${typeName(x)}`;
  return isValidDate(x) ? null : "must be a real date written YYYY-MM-DD";
}

/** @internal The reason given for an upload-level field the API does not know. */
export const UNKNOWN_FIELD = "unknown field";

/** The fields of an upload request: the keys of its schema. */
const UPLOAD_FIELDS: ReadonlySet<string> = new Set(Object.keys(UploadCreateParamsSchema.entries));

/** Checks the upload-level fields (issues have `index: -1`). */
export function checkUploadParams(params: UploadCreateParams): RowIssue[] {
  const issues: RowIssue[] = [];
  const p = params as unknown as Record<string, unknown>;
  if (!isPlainObject(p)) {
    return [{ index: -1, field: "", reason: `params ${notObject(p)}` }];
  }
  for (const key in p) {
    if (!UPLOAD_FIELDS.has(key) && p[key] !== undefined) {
      issues.push({ index: -1, field: key, reason: UNKNOWN_FIELD });
    }
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
  const dates: Record<string, string> = {};
  for (const f of ["monitor_start_date", "monitor_end_date"]) {
    if (p[f] === undefined) continue;
    const value = typeof p[f] === "string" ? p[f].trim() : p[f];
    const reason = dateProblem(value);
    if (reason !== null) issues.push({ index: -1, field: f, reason });
    else dates[f] = value as string;
  }
  if (
    dates.monitor_start_date !== undefined && dates.monitor_end_date !== undefined &&
    dates.monitor_start_date > dates.monitor_end_date
  ) {
    issues.push({
      index: -1,
      field: "monitor_end_date",
      reason: "must not be before monitor_start_date",
    });
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

const UPDATABLE = new Set(Object.keys(CustomerUpdateParamsSchema.entries));

/** Options of {@linkcode checkUpdateParams}. */
export interface CheckUpdateOptions {
  /** Accept an `expiry_date` of today or earlier (default false: the API deletes the customer). */
  allowPastExpiry?: boolean;
  /** The moment to judge expiry at; default now. */
  now?: Date;
}

/**
 * Checks a PATCH body: at least one of the four updatable fields and no other, strings, each (once
 * trimmed) blank to clear it or meeting the upload's rule (client name length, mobile number, a
 * real date), and no `expiry_date` that deletes the customer at once unless `allowPastExpiry`.
 */
export function checkUpdateParams(
  params: CustomerUpdateParams,
  options: CheckUpdateOptions = {},
): RowIssue[] {
  const p = params as unknown as Record<string, unknown>;
  if (!isPlainObject(p)) {
    return [{ index: -1, field: "", reason: `params ${notObject(p)}` }];
  }
  const issues: RowIssue[] = [];
  let given = 0;
  for (const [key, raw] of Object.entries(p)) {
    if (raw === undefined) continue;
    given++;
    // Judged as the API stores it: trimmed, and blank clears the field.
    const value = typeof raw === "string" ? raw.trim() : raw;
    if (!UPDATABLE.has(key)) {
      issues.push({
        index: -1,
        field: key,
        reason: `cannot be updated (only ${[...UPDATABLE].join(", ")})`,
      });
    } else if (typeof value !== "string") {
      issues.push({ index: -1, field: key, reason: `must be a string, got ${typeName(value)}` });
    } else if (value === "") continue;
    else if (key === "client_name" || key === "mobile_number") {
      const problem = FIELD_RULES[key](value);
      if (problem !== null) issues.push({ index: -1, field: key, reason: problem });
    } else if (!isValidDate(value)) {
      issues.push({
        index: -1,
        field: key,
        reason: 'must be a real date written YYYY-MM-DD, or "" to clear it',
      });
    } else if (
      key === "expiry_date" && !options.allowPastExpiry &&
      expiresImmediately(value, { now: options.now })
    ) {
      issues.push({
        index: -1,
        field: key,
        reason: `${value} ${PAST_EXPIRY_REASON} (allowPastExpiry: true sends it anyway)`,
      });
    }
  }
  if (given === 0) {
    issues.push({
      index: -1,
      field: "",
      reason: `nothing to update: give any of ${[...UPDATABLE].join(", ")}`,
    });
  }
  return issues;
}

/** Options of {@linkcode expiresImmediately}. */
export interface ExpiresImmediatelyOptions {
  /** The moment to judge at; default now. */
  now?: Date;
}

/**
 * Whether an `expiry_date` deletes the customer at once: the API deletes a customer on its expiry
 * date, and its time zone for that is not documented, so a date counts as "today or earlier" when
 * it is on or before today's date in UTC+14, the earliest "today" anywhere (API_FACTS.md). The one
 * home of that rule: SDK validation, the CLI and MCP confirmation all ask here. The date is judged
 * trimmed, as the API stores it (`" 2020-01-01 "` deletes the customer too). `""` (which a PATCH
 * uses to clear the date) and anything not `YYYY-MM-DD` answer `false`.
 *
 * @example
 * ```ts
 * import { expiresImmediately } from "@recapture/sdk";
 *
 * const now = new Date("2026-03-01T12:00:00Z"); // already 2 March in UTC+14
 * expiresImmediately("2026-03-02", { now }); // true
 * expiresImmediately("2026-03-03", { now }); // false
 * ```
 */
export function expiresImmediately(
  expiryDate: string,
  options: ExpiresImmediatelyOptions = {},
): boolean {
  // Judged as the API stores it: trimmed (a padded past date deletes the customer all the same).
  const date = typeof expiryDate === "string" ? expiryDate.trim() : "";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  return date <= earliestToday(options.now ?? new Date());
}

/** Today's date in UTC+14 at `now`, `YYYY-MM-DD`: the rule of {@linkcode expiresImmediately}. */
function earliestToday(now: Date): string {
  return new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}
