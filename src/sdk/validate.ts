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

function typeName(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "array" : typeof x;
}

/**
 * A text field of a row as it is checked: trimmed; `undefined` when absent (`undefined`, `null`,
 * blank); `null` when it is not a string, the issue recorded.
 */
function text(
  raw: Record<string, unknown>,
  field: keyof CustomerInput,
  index: number,
  issues: RowIssue[],
): string | null | undefined {
  const x = raw[field];
  if (typeof x === "string") {
    const trimmed = x.trim();
    return trimmed === "" ? undefined : trimmed;
  }
  if (x === undefined || x === null) return undefined;
  issues.push(notString(index, field, x));
  return null;
}

/** Whether a field's check found no `problem`; else the issue is recorded. */
function passes(problem: string | null, field: string, index: number, issues: RowIssue[]): boolean {
  if (problem !== null) issues.push({ index, field, reason: problem });
  return problem === null;
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
 * `additional_fields` is an object that JSON carries unchanged (no bigint, cycle, NaN, ±Infinity,
 * function, symbol, Map or Set, nested at most 2,000 levels); unknown fields are refused. Blank
 * values count as absent. An `expiry_date` of today or earlier is refused unless
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
    issues.push({ index, field: "", reason: `must be an object, got ${typeName(raw)}` });
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

  const rego = text(raw, "rego", index, issues);
  // Judged as stored (spaces and dashes aside), sent as written less its spaces (API_FACTS).
  if (rego && passes(FIELD_RULES.rego(rego), "rego", index, issues)) out.rego = sentRego(rego);

  const state = text(raw, "state", index, issues);
  if (state) {
    const s = AU_STATES.includes(state) ? state : state.toUpperCase();
    const problem = region === "au" && !AU_STATES.includes(s)
      ? `must be one of ${AU_STATES.join(", ")} in region au`
      : null;
    if (passes(problem, "state", index, issues)) out.state = s;
  }

  const vin = text(raw, "vin", index, issues);
  if (vin) {
    const v = vin.toUpperCase();
    const problem = v.length !== 17
      ? `must be 17 characters, got ${v.length}`
      : VIN_PATTERN.test(v)
      ? null
      : "must contain only letters and digits, without I, O or Q";
    if (passes(problem, "vin", index, issues)) out.vin = v;
  }

  if (rego === undefined && vin === undefined) {
    issues.push({ index, field: "rego|vin", reason: "a customer needs a rego or a vin" });
  }

  const externalId = text(raw, "external_id", index, issues);
  if (externalId) out.external_id = externalId;
  const name = text(raw, "client_name", index, issues);
  if (name && passes(FIELD_RULES.client_name(name), "client_name", index, issues)) {
    out.client_name = name;
  }
  const mobile = text(raw, "mobile_number", index, issues);
  if (mobile && passes(FIELD_RULES.mobile_number(mobile), "mobile_number", index, issues)) {
    out.mobile_number = mobile;
  }

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
        reason: `must be an object, got ${typeName(extra)}`,
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
 * turns NaN and ±Infinity into null and a Map or Set into `{}`. Objects with `toJSON` (a Date)
 * are what they say they are.
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
  if (x === null || typeof (x as { toJSON?: unknown }).toJSON === "function") return null;
  const object = x as Record<string, unknown>;
  if (object instanceof Map || object instanceof Set) {
    return {
      path: [],
      reason: `is a ${object instanceof Map ? "Map" : "Set"}, which JSON would send as {}`,
    };
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
      found = jsonProblemAt(object[i], ancestors, depth + 1);
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
  const date = typeof x === "string" ? x.trim() : x;
  if (date === undefined || date === null || date === "") return undefined;
  return passes(dateProblem(date), field, index, issues) ? date as string : undefined;
}

/** Why `x` (trimmed, if a string) is not a date, or null. */
function dateProblem(x: unknown): string | null {
  if (typeof x !== "string") return `must be a date YYYY-MM-DD, got ${typeName(x)}`;
  return isValidDate(x) ? null : "must be a real date written YYYY-MM-DD";
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
 * Checks a PATCH body: only the four updatable fields, strings, dates real or `""`, and no
 * `expiry_date` that deletes the customer at once unless `allowPastExpiry`.
 */
export function checkUpdateParams(
  params: CustomerUpdateParams,
  options: CheckUpdateOptions = {},
): RowIssue[] {
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
        reason: `cannot be updated (only ${[...UPDATABLE].join(", ")})`,
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
 * home of that rule: SDK validation, the CLI and MCP confirmation all ask here. `""` (which a PATCH
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
  if (!/^\d{4}-\d{2}-\d{2}$/.test(expiryDate)) return false;
  return expiryDate <= earliestToday(options.now ?? new Date());
}

/** Today's date in UTC+14 at `now`, `YYYY-MM-DD`: the rule of {@linkcode expiresImmediately}. */
function earliestToday(now: Date): string {
  return new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}
