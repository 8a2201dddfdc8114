// Column mapping: which export column feeds which customer field. Private to src/import/csv.ts.

import { type DateOrder, DateParseError, parseDate } from "./dates.ts";
import type { CustomerInput } from "../sdk/schemas.ts";

/** A customer field a column can feed: every field of an upload's customer but the map. */
export type CustomerField = Exclude<keyof CustomerInput, "additional_fields">;

/**
 * Where a column goes: a customer field, the first or last part of `client_name`, a key of
 * `additional_fields` (`"additional"`), or nowhere (`"ignore"`).
 */
export type ColumnTarget = CustomerField | "first_name" | "last_name" | "additional" | "ignore";

/** One column of the file and where its values go. */
export interface ColumnAssignment {
  /** 0-based position in the header. */
  index: number;
  /** The header as written (trimmed). */
  header: string;
  /** Where the values go. */
  target: ColumnTarget;
  /** For `"additional"`: the key in `additional_fields` (the header, made unique). */
  key: string;
  /**
   * Why it goes there: `"option"` (the `columns` option named it), `"builtin"` (a known export
   * header), or `"unknown"` (no rule: kept in `additional_fields`, or ignored).
   */
  by: "option" | "builtin" | "unknown";
  /**
   * For a column kept in `additional_fields` because another column feeds the field it names
   * (a second `Rego`): that field.
   */
  repeats?: ColumnTarget;
}

/** A header that looks like a customer field but does not feed it. */
export interface NearMiss {
  /** The header as written. */
  header: string;
  /** The field it looks like. */
  field: CustomerField;
  /** Why it looks like that field, and what mapping it would take. */
  reason: string;
}

/** Where every column of a file went: the mapping report. */
export interface ColumnReport {
  /** Each header feeding a customer field (`first_name` / `last_name` make `client_name`). */
  mapped: { header: string; field: ColumnTarget; by: "option" | "builtin"; caution?: string }[];
  /**
   * Each header kept in `additional_fields`, with its key there; `repeats` names the field and
   * the header feeding it when this column names that field too (its values are not used there).
   */
  additional: { header: string; key: string; repeats?: { field: ColumnTarget; by: string } }[];
  /** Headers whose values are dropped (mapped to `"ignore"`). */
  ignored: string[];
  /** Headers kept in `additional_fields` that look like a customer field. */
  nearMisses: NearMiss[];
}

/** One value of a row that cannot be used, with where it was. */
export interface FieldIssue {
  /** The customer field (`sale_date`) or `additional_fields.<key>`. */
  field: string;
  /** The column (header as written) or NDJSON key it came from. */
  column: string;
  /** What is wrong, without the location. */
  reason: string;
}

/** A customer read from a file, with the physical line it starts on and any unreadable values. */
export interface SourceRow {
  /** The physical line of the file (1-based) the row starts on. */
  line: number;
  /** The customer, fields trimmed, empty values left out, dates as `YYYY-MM-DD`. */
  customer: CustomerInput;
  /** Values that could not be read (such a row must not be sent as it is). Empty when none. */
  issues: FieldIssue[];
}

/** Options shared by the CSV and NDJSON readers for turning columns into customer fields. */
export interface ColumnOptions {
  /**
   * Where named columns go, overriding the built-in defaults. Keys are headers as written,
   * matched ignoring case, spaces and punctuation (`"Rego No."` matches `"rego no"`).
   */
  columns?: Record<string, ColumnTarget>;
  /** Use the built-in names for common export headers (default `true`). */
  defaultColumns?: boolean;
  /** How to read digit-only dates like `01/03/2024` (default `"dmy"`). */
  dateOrder?: DateOrder;
}

// Built-in header names, most specific first: when several columns map to one field, the one
// whose name comes earliest in its list wins and the others go to additional_fields.
const DEFAULTS: [ColumnTarget, string[]][] = [
  ["rego", [
    "rego",
    "registration",
    "registrationnumber",
    "regonumber",
    "regono",
    "registrationno",
    "regnumber",
    "regno",
    "reg",
    "plate",
    "platenumber",
    "numberplate",
    "licenseplate",
    "licenceplate",
    "registrationplate",
    "vrm",
    "vehicleregistration",
  ]],
  ["state", ["state", "regostate", "registrationstate", "platestate", "regstate"]],
  ["vin", [
    "vin",
    "vinnumber",
    "vinno",
    "vehicleidentificationnumber",
    "chassis",
    "chassisnumber",
    "chassisno",
    "vinchassis",
  ]],
  ["client_name", [
    "clientname",
    "customername",
    "name",
    "fullname",
    "customer",
    "client",
    "contactname",
    "ownername",
    "owner",
    "purchaser",
    "buyer",
  ]],
  ["first_name", ["firstname", "givenname", "forename", "fname"]],
  ["last_name", ["lastname", "surname", "familyname", "lname"]],
  ["mobile_number", [
    "mobilenumber",
    "mobile",
    "mobilephone",
    "mobileno",
    "cell",
    "cellphone",
    "phone",
    "phonenumber",
    "contactnumber",
    "telephone",
    "ph",
  ]],
  ["sale_date", [
    "saledate",
    "dateofsale",
    "salesdate",
    "solddate",
    "datesold",
    "deliverydate",
    "purchasedate",
    "dateofpurchase",
    "sold",
  ]],
  ["expiry_date", ["expirydate", "expiry", "expires", "expirationdate", "expiration", "deleteon"]],
  ["monitor_start_date", ["monitorstartdate", "monitorstart", "monitoringstart", "trackfrom"]],
  ["monitor_end_date", ["monitorenddate", "monitorend", "monitoringend", "trackuntil"]],
  ["external_id", [
    "externalid",
    "customerid",
    "customernumber",
    "customerno",
    "crmid",
    "dmsid",
    "id",
  ]],
];

const DEFAULT_INDEX: Map<string, [ColumnTarget, number]> = new Map();
for (const [target, names] of DEFAULTS) {
  names.forEach((name, rank) => DEFAULT_INDEX.set(name, [target, rank]));
}
/** Every target a column mapping may name. */
export const TARGETS: ReadonlySet<string> = new Set<string>([
  ...DEFAULTS.map(([target]) => target),
  "additional",
  "ignore",
]);

/** `"Rego No."` → `"regono"`: lower case, letters and digits only. */
export function normalizeHeader(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9]/g, "");
}

const DATE_FIELDS: ReadonlySet<string> = new Set([
  "sale_date",
  "expiry_date",
  "monitor_start_date",
  "monitor_end_date",
]);

/** Decides where each header goes. Throws `Error` with a readable message on a bad mapping. */
export function assignColumns(headers: string[], options: ColumnOptions = {}): ColumnAssignment[] {
  const overrides = new Map<string, ColumnTarget>();
  for (const [name, target] of Object.entries(options.columns ?? {})) {
    if (!TARGETS.has(target)) {
      throw new Error(
        `column mapping ${JSON.stringify(name)}: ${JSON.stringify(target)} is not a customer ` +
          `field (one of ${[...TARGETS].join(", ")})`,
      );
    }
    overrides.set(normalizeHeader(name), target);
  }
  const useDefaults = options.defaultColumns ?? true;
  const out: ColumnAssignment[] = [];
  // field -> [rank, position in out] of the column currently holding it
  const holder = new Map<ColumnTarget, [number, number]>();
  const usedKeys = new Set<string>();
  headers.forEach((raw, index) => {
    let header = raw.trim();
    if (header === "") header = `column_${index + 1}`;
    let key = header;
    for (let n = 2; usedKeys.has(key); n++) key = `${header} (${n})`;
    usedKeys.add(key);
    const norm = normalizeHeader(header);
    let target: ColumnTarget = "additional";
    let rank = Number.POSITIVE_INFINITY;
    const override = overrides.get(norm);
    if (override !== undefined) {
      target = override;
      rank = -2;
    } else if (useDefaults) {
      const found = DEFAULT_INDEX.get(norm);
      if (found) [target, rank] = found;
    }
    const assignment: ColumnAssignment = {
      index,
      header,
      target,
      key,
      by: override !== undefined ? "option" : target === "additional" ? "unknown" : "builtin",
    };
    if (target !== "additional" && target !== "ignore") {
      const current = holder.get(target);
      if (current === undefined) {
        holder.set(target, [rank, out.length]);
      } else if (rank < current[0]) {
        out[current[1]].target = "additional";
        out[current[1]].by = "unknown";
        out[current[1]].repeats = target;
        holder.set(target, [rank, out.length]);
      } else {
        assignment.target = "additional";
        assignment.by = "unknown";
        assignment.repeats = target;
      }
    }
    out.push(assignment);
  });
  return out;
}

/** Bare expiry headers: mapped to `expiry_date`, but in dealer exports often a rego or warranty date. */
const AMBIGUOUS_EXPIRY = new Set(["expiry", "expires", "expiration", "expirydate"]);

/** Words that say "the date the car was sold" alone or beside "date". */
const SALE_WORDS = new Set([
  "purchased",
  "purchase",
  "delivery",
  "delivered",
  "sold",
  "sale",
  "sales",
]);

/**
 * The field a header looks like, judged word by word (`Veh State` → state, `Warranty Expiry` →
 * expiry_date, `Purchased` → sale_date), with why; null when it looks like none.
 */
function lookalike(header: string): { field: CustomerField; why: string } | null {
  const words = header.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== "");
  const has = (w: string) => words.includes(w);
  if (words.some((w) => w.startsWith("expir") || w === "expires")) {
    return {
      field: "expiry_date",
      why: "looks like an expiry date; map it to expiry_date only if it is the date to stop " +
        "tracking: the customer is deleted on it (a rego or warranty expiry is not)",
    };
  }
  if (has("state") || has("st") || has("province")) {
    return { field: "state", why: "looks like the registration state" };
  }
  const dateLike = words.length === 1 || has("date") || has("dt") || has("on");
  if (dateLike && words.some((w) => SALE_WORDS.has(w))) {
    return { field: "sale_date", why: "looks like the date of sale" };
  }
  if (has("vin") || has("chassis")) return { field: "vin", why: "looks like a VIN" };
  if (has("rego") || has("registration") || has("plate") || has("reg")) {
    return { field: "rego", why: "looks like a rego" };
  }
  if (has("mobile") || has("phone") || has("cell") || has("ph")) {
    return { field: "mobile_number", why: "looks like a phone number" };
  }
  return null;
}

/**
 * The mapping report of a column plan: what feeds each field, what is kept in
 * `additional_fields`, what is ignored, and the near-misses: headers kept in
 * `additional_fields` by default that look like a field no other column feeds (a header the
 * `columns` option named is the user's choice, and never a near-miss). A bare `Expiry` column
 * mapped to `expiry_date` carries a caution: the API deletes the customer on that date.
 */
export function columnReport(plan: readonly ColumnAssignment[]): ColumnReport {
  const report: ColumnReport = { mapped: [], additional: [], ignored: [], nearMisses: [] };
  const fed = new Set<string>();
  for (const c of plan) {
    if (c.target === "additional") {
      report.additional.push({ header: c.header, key: c.key });
    } else if (c.target === "ignore") {
      report.ignored.push(c.header);
    } else {
      fed.add(c.target === "first_name" || c.target === "last_name" ? "client_name" : c.target);
      const caution = c.target === "expiry_date" && c.by === "builtin" &&
          AMBIGUOUS_EXPIRY.has(normalizeHeader(c.header))
        ? "the customer is deleted on this date: if this column is a rego or warranty " +
          "expiry, map it to additional"
        : undefined;
      report.mapped.push({
        header: c.header,
        field: c.target,
        by: c.by === "option" ? "option" : "builtin",
        ...(caution !== undefined ? { caution } : {}),
      });
    }
  }
  for (const a of report.additional) {
    const c = plan.find((p) => p.key === a.key && p.target === "additional");
    const feeder = c?.repeats && report.mapped.find((m) => m.field === c.repeats);
    if (c?.repeats && feeder) a.repeats = { field: c.repeats, by: feeder.header };
  }
  for (const c of plan) {
    if (c.target !== "additional" || c.by !== "unknown") continue;
    const like = lookalike(c.header);
    if (like === null || fed.has(like.field)) continue;
    report.nearMisses.push({ header: c.header, field: like.field, reason: like.why });
  }
  return report;
}

/** Writes one field of a customer under construction. */
type Setter = (customer: CustomerInput, value: string) => void;

// One named store per field: cheaper per row than `customer[key] = value` with a changing key.
const SETTERS: Readonly<Record<CustomerField, Setter>> = {
  rego: (c, v) => {
    c.rego = v;
  },
  state: (c, v) => {
    c.state = v;
  },
  vin: (c, v) => {
    c.vin = v;
  },
  client_name: (c, v) => {
    c.client_name = v;
  },
  mobile_number: (c, v) => {
    c.mobile_number = v;
  },
  sale_date: (c, v) => {
    c.sale_date = v;
  },
  expiry_date: (c, v) => {
    c.expiry_date = v;
  },
  monitor_start_date: (c, v) => {
    c.monitor_start_date = v;
  },
  monitor_end_date: (c, v) => {
    c.monitor_end_date = v;
  },
  external_id: (c, v) => {
    c.external_id = v;
  },
};

// The API's own field names (snake_case) always mean themselves.
for (const field of Object.keys(SETTERS) as CustomerField[]) {
  DEFAULT_INDEX.set(normalizeHeader(field), [field, -1]);
}

function ignoreValue(): void {}

/**
 * Values exports write for "nothing here", read as blank in every column (matched ignoring
 * case and surrounding spaces): `N/A`, `#N/A` (Excel), `-`, `--`, `none`, `null`.
 */
export const NULL_TOKENS: ReadonlySet<string> = new Set(["n/a", "#n/a", "-", "--", "none", "null"]);

/** Whether a trimmed value is one of {@linkcode NULL_TOKENS}, ignoring case. */
export function isNullToken(value: string): boolean {
  if (value.length > 4) return false;
  // Only a value starting with n, N, # or - can be one: the rest are let go without the lookup,
  // whose hashing of each new string cost ~20 ms per 100k rows of the import benchmark's read
  // only and read + validate figures. tests/import/null_tokens_test.ts holds it to the plain rule.
  const c = value.charCodeAt(0);
  return (c === 110 || c === 78 || c === 35 || c === 45) && NULL_TOKENS.has(value.toLowerCase());
}

// Kinds of column, as small integers for the per-row loop.
const FIELD = 0;
const DATE = 1;
const ADDITIONAL = 2;
const FIRST = 3;
const LAST = 4;

/**
 * Compiles the column plan into a function turning one row of strings into a customer. Values
 * are trimmed, empty ones left out, dates normalised; an unreadable date becomes an issue naming
 * the row, line and column.
 */
export function rowBuilder(
  plan: readonly ColumnAssignment[],
  dateOrder: DateOrder | undefined,
): (fields: readonly string[], line: number) => SourceRow {
  const used = plan.filter((c) => c.target !== "ignore");
  const n = used.length;
  const index = used.map((c) => c.index);
  const kind = used.map((c) =>
    c.target === "additional"
      ? ADDITIONAL
      : c.target === "first_name"
      ? FIRST
      : c.target === "last_name"
      ? LAST
      : DATE_FIELDS.has(c.target)
      ? DATE
      : FIELD
  );
  const key = used.map((c) => (c.target === "additional" ? c.key : c.target));
  const header = used.map((c) => c.header);
  const set = used.map((c): Setter => SETTERS[c.target as CustomerField] ?? ignoreValue);
  const dateOptions = { order: dateOrder };
  return (fields, line) => {
    const customer: CustomerInput = {};
    let additional: Record<string, string> | undefined;
    let issues: FieldIssue[] | undefined;
    let first: string | undefined;
    let last: string | undefined;
    for (let i = 0; i < n; i++) {
      let value = fields[index[i]];
      if (value === undefined || value === "") continue;
      if (value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32) {
        value = value.trim();
        if (value === "") continue;
      }
      if (value.length <= 4 && isNullToken(value)) continue;
      switch (kind[i]) {
        case FIELD:
          set[i](customer, value);
          break;
        case DATE:
          try {
            set[i](customer, parseDate(value, dateOptions));
          } catch (error) {
            if (!(error instanceof DateParseError)) throw error;
            // One numbering for files: the physical line (the row's place is not named).
            const where = { order: dateOrder, line, column: header[i] };
            (issues ??= []).push({
              field: key[i],
              column: header[i],
              reason: new DateParseError(error.value, error.reason, where).message,
            });
          }
          break;
        case ADDITIONAL:
          (additional ??= {})[key[i]] = value;
          break;
        case FIRST:
          first = value;
          break;
        default:
          last = value;
      }
    }
    if (customer.client_name === undefined && (first !== undefined || last !== undefined)) {
      customer.client_name = first !== undefined && last !== undefined
        ? `${first} ${last}`
        : (first ?? last);
    }
    if (additional !== undefined) customer.additional_fields = additional;
    return { line, customer, issues: issues ?? [] };
  };
}

/**
 * Wraps a row builder so that each non-blank cell of a date column is handed to `onDateCell`
 * (as found, with its header and line) before the row is built. Kept apart from
 * {@linkcode rowBuilder}: a reader not asked for the cells pays nothing per row.
 *
 * @example
 * ```ts ignore
 * const build = reportDateCells(plan, rowBuilder(plan, undefined), (value, column, line) => {});
 * ```
 */
export function reportDateCells(
  plan: readonly ColumnAssignment[],
  build: (fields: readonly string[], line: number) => SourceRow,
  onDateCell: (value: string, column: string, line: number) => void,
): (fields: readonly string[], line: number) => SourceRow {
  const dates = plan.filter((c) => DATE_FIELDS.has(c.target));
  if (dates.length === 0) return build;
  return (fields, line) => {
    for (const c of dates) {
      const value = fields[c.index];
      if (value !== undefined && value.trim() !== "") onDateCell(value, c.header, line);
    }
    return build(fields, line);
  };
}

/**
 * Turns one NDJSON object into a customer: known names map to fields, the rest to additional.
 * The keys are assigned together, as a CSV header is (so `rego` wins over `plate` whatever
 * their order); `cache` keeps the assignment per key list (an export's lines share one).
 */
export function buildObjectRow(
  object: Record<string, unknown>,
  line: number,
  options: ColumnOptions,
  cache: Map<string, ColumnTarget[]>,
): SourceRow {
  const customer: Record<string, unknown> = {};
  let additional: Record<string, unknown> | undefined;
  let issues: FieldIssue[] | undefined;
  let first: string | undefined;
  let last: string | undefined;
  const keys = Object.keys(object);
  const signature = keys.join("\u0000");
  let targets = cache.get(signature);
  if (targets === undefined) {
    targets = assignColumns(keys, options).map((a) => a.target);
    if (cache.size >= 1000) cache.clear(); // lines of many shapes: keep memory bounded
    cache.set(signature, targets);
  }
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const rawValue = object[key];
    if (rawValue === null || rawValue === undefined || rawValue === "") continue;
    if (typeof rawValue === "string" && isNullToken(rawValue.trim())) continue;
    if (key === "additional_fields" && typeof rawValue === "object" && !Array.isArray(rawValue)) {
      additional = { ...(rawValue as Record<string, unknown>), ...additional };
      continue;
    }
    const target = targets[k];
    if (target === "ignore") continue;
    if (target === "additional" || customer[target] !== undefined) {
      (additional ??= {})[key] = rawValue;
      continue;
    }
    if (typeof rawValue === "object" || typeof rawValue === "boolean") {
      (issues ??= []).push({
        field: target === "first_name" || target === "last_name" ? "client_name" : target,
        column: key,
        reason: `expected text, found ${Array.isArray(rawValue) ? "an array" : typeof rawValue}`,
      });
      continue;
    }
    if (DATE_FIELDS.has(target)) {
      try {
        customer[target] = parseDate(
          typeof rawValue === "number" ? rawValue : String(rawValue),
          { order: options.dateOrder, line, column: key },
        );
      } catch (error) {
        if (!(error instanceof DateParseError)) throw error;
        (issues ??= []).push({ field: target, column: key, reason: error.message });
      }
      continue;
    }
    const value = String(rawValue).trim();
    if (value === "") continue;
    if (target === "first_name") first = value;
    else if (target === "last_name") last = value;
    else customer[target] = value;
  }
  if (customer.client_name === undefined && (first !== undefined || last !== undefined)) {
    customer.client_name = first !== undefined && last !== undefined
      ? `${first} ${last}`
      : (first ?? last);
  }
  if (additional !== undefined) customer.additional_fields = additional;
  return { line, customer: customer as CustomerInput, issues: issues ?? [] };
}
