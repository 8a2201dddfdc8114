/**
 * Field rules of a customer row, applied while processing (a failure counts in `total_errors`
 * with its reason) and by PATCH (a failure is a 400).
 *
 * @module
 */
import { simulateRegoLookup, vehicleTitle } from "./_lookup.ts";
import {
  AU_STATES,
  DATE_PATTERN,
  FIELD_RULES,
  isValidDate,
  normalRego,
  VIN_PATTERN,
} from "../sdk/schemas.ts";
import type { CustomerRecord, Region, RowError } from "./_types.ts";

/** The problem with a `YYYY-MM-DD` date, or null. */
export function dateProblem(value: string): string | null {
  if (!DATE_PATTERN.test(value)) return `must be a date in YYYY-MM-DD format (got "${value}")`;
  return isValidDate(value) ? null : `is not a real date (got "${value}")`;
}

/** The problem with a mobile number (the SDK's rule), or null. */
export function mobileProblem(value: string): string | null {
  const problem = FIELD_RULES.mobile_number(value);
  return problem === null ? null : `${problem} (got "${value}")`;
}

/** The problem with a client name (the SDK's rule), or null. */
export function nameProblem(value: string): string | null {
  return FIELD_RULES.client_name(value);
}

function text(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const t = value.trim();
  return t === "" ? null : t;
}

/** What processing a row gives: a customer, or the reason it is an error. */
export type RowOutcome =
  | { ok: true; customer: CustomerRecord; lookedUp: boolean }
  | { ok: false; error: RowError };

/** Upload-level settings a row is processed with. */
export interface RowContext {
  uploadId: string;
  region: Region;
  enableRegoLookups: boolean;
  monitorStartDate: string | null;
  monitorEndDate: string | null;
  now: string;
}

function fail(index: number, field: string, reason: string): RowOutcome {
  return { ok: false, error: { index, field, reason } };
}

/** The first bad one of a row's dates, as `[field, problem]`, or null. */
function datesProblem(
  sale: string | null,
  expiry: string | null,
  start: string | null,
  end: string | null,
): [string, string] | null {
  let problem: string | null;
  if (sale && (problem = dateProblem(sale))) return ["sale_date", problem];
  if (expiry && (problem = dateProblem(expiry))) return ["expiry_date", problem];
  if (start && (problem = dateProblem(start))) return ["monitor_start_date", problem];
  if (end && (problem = dateProblem(end))) return ["monitor_end_date", problem];
  return null;
}

/**
 * Turns a stored row (types already checked at upload) into a customer, or an error naming the
 * field and the reason. (It runs for every row processed: no closures or temporary objects.)
 */
export function processRow(
  row: Record<string, unknown>,
  index: number,
  id: string,
  ctx: RowContext,
): RowOutcome {
  const given = text(row.rego);
  const rego = given === null ? null : normalRego(given);
  const vinGiven = text(row.vin)?.toUpperCase() ?? null;
  const state = text(row.state)?.toUpperCase() ?? null;
  if (!rego && !vinGiven) return fail(index, "rego", "a customer needs a rego or a VIN");
  const regoProblem = rego ? FIELD_RULES.rego(rego) : null;
  if (regoProblem !== null) {
    return fail(index, "rego", `${regoProblem} (got "${String(row.rego)}")`);
  }
  if (vinGiven && !VIN_PATTERN.test(vinGiven)) {
    return fail(
      index,
      "vin",
      `must be 17 characters of A-Z and 0-9 without I, O or Q (got "${String(row.vin)}")`,
    );
  }
  if (state && ctx.region === "au" && !AU_STATES.includes(state)) {
    return fail(
      index,
      "state",
      `must be one of ${AU_STATES.join(", ")} (got "${String(row.state)}")`,
    );
  }
  const saleDate = text(row.sale_date);
  const expiryDate = text(row.expiry_date);
  const startDate = text(row.monitor_start_date);
  const endDate = text(row.monitor_end_date);
  const badDate = datesProblem(saleDate, expiryDate, startDate, endDate);
  if (badDate) return fail(index, badDate[0], badDate[1]);
  const start = startDate ?? ctx.monitorStartDate;
  const end = endDate ?? ctx.monitorEndDate;
  if (start && end && start > end) {
    return fail(
      index,
      "monitor_end_date",
      `must not be before monitor_start_date (${start} > ${end})`,
    );
  }
  const mobile = text(row.mobile_number);
  if (mobile) {
    const problem = mobileProblem(mobile);
    if (problem) return fail(index, "mobile_number", problem);
  }
  const clientName = text(row.client_name);
  if (clientName) {
    const problem = nameProblem(clientName);
    if (problem) return fail(index, "client_name", problem);
  }
  let vin = vinGiven;
  let vinSource: CustomerRecord["vin_source"] = vin ? "provided" : null;
  let lookedUp = false;
  if (!vin && rego && ctx.enableRegoLookups && (ctx.region !== "au" || state)) {
    lookedUp = true;
    vin = simulateRegoLookup(ctx.region, state, rego);
    if (vin) vinSource = "rego_lookup";
  }
  const additional = row.additional_fields;
  return {
    ok: true,
    lookedUp,
    customer: {
      id,
      upload_id: ctx.uploadId,
      region: ctx.region,
      rego,
      state,
      vin,
      vin_source: vinSource,
      external_id: text(row.external_id),
      vehicle_title: vin ? vehicleTitle(vin) : null,
      client_name: clientName,
      mobile_number: mobile,
      sale_date: saleDate,
      expiry_date: expiryDate,
      monitor_start_date: start,
      monitor_end_date: end,
      additional_fields: additional && typeof additional === "object"
        ? additional as Record<string, unknown>
        : {},
      sightings: [],
      created_at: ctx.now,
      last_updated: ctx.now,
    },
  };
}
