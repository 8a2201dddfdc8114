// Row warnings: what is not wrong enough to refuse a row but must not pass unsaid (duplicates
// within a file, footer rows, AU regos without a state, suspicious values), and the customer
// fingerprint used to spot the same vehicle twice. Private to src/import/bulk.ts and the CLI.

import { type CustomerInput, normalRego, type Region } from "../sdk/schemas.ts";
import { FirstSeen, type Seen } from "./_first_seen.ts";

/** What a warning is about. */
export type RowWarningKind =
  | "already_sent"
  | "duplicate_row"
  | "same_vehicle"
  | "footer_row"
  | "missing_state"
  | "suspicious_value";

/** A row the importer sent with a caveat, or skipped (`skipped: true`) and says why. */
export interface RowWarning {
  /** 0-based position in the input (an array's index; files name rows by `line`). */
  index: number;
  /** The physical line of the file (1-based), when the source gave lines. */
  line?: number;
  /** What the warning is about. */
  kind: RowWarningKind;
  /** The field concerned (`""` for the whole row). */
  field: string;
  /** What was seen, in full. */
  message: string;
  /**
   * `true` when the row was not sent because of this (an exact duplicate, a footer row, a
   * customer sent before).
   */
  skipped: boolean;
  /** For duplicates: the earlier row it repeats (0-based) and its line. */
  first?: { index: number; line?: number };
}

/**
 * The fingerprint of a customer: `vin:<VIN>` when it has a VIN, else `rego:<REGO>|<STATE>`
 * (the rego as the API stores it: `normalRego`, no whitespace nor dashes, upper case), or `null`
 * without either. The same vehicle gives the same fingerprint whatever the spelling of its rego.
 *
 * @example
 * ```ts
 * import { fingerprint } from "@recapture/sdk/bulk";
 *
 * fingerprint({ rego: "abc-123", state: "nsw" }); // "rego:ABC123|NSW"
 * fingerprint({ rego: "ABC123", vin: "1hgcm82633a004352" }); // "vin:1HGCM82633A004352"
 * ```
 */
export function fingerprint(customer: CustomerInput): string | null {
  const vin = typeof customer.vin === "string" ? customer.vin.trim().toUpperCase() : "";
  if (vin !== "") return `vin:${vin}`;
  const rego = typeof customer.rego === "string" ? normalRego(customer.rego) : "";
  if (rego === "") return null;
  const state = typeof customer.state === "string" ? customer.state.trim().toUpperCase() : "";
  return `rego:${rego}|${state}`;
}

/**
 * A fingerprint as {@linkcode fingerprint} makes it today, from one an older version wrote (the
 * local record of what was sent keeps them): regos kept their dashes then.
 */
export function currentFingerprint(print: string): string {
  if (!print.startsWith("rego:")) return print;
  const bar = print.indexOf("|");
  return bar === -1 ? print : `rego:${normalRego(print.slice(5, bar))}${print.slice(bar)}`;
}

/** The vehicle a fingerprint names, for a message: `VIN 1HG...`, `rego ABC123 (NSW)`. */
export function vehicleOf(print: string): string {
  if (print.startsWith("vin:")) return `VIN ${print.slice(4)}`;
  const [rego, state] = print.slice(5).split("|");
  return `rego ${rego}${state ? ` (${state})` : ""}`;
}

/** A value a report's footer or summary line holds (`TOTAL`, `Grand Total: 290`, `End of report`). */
const FOOTER =
  /^(?:(?:grand|sub)[\s-]*)?totals?\s*(?::.*)?$|^(?:record|row|customer)s?[\s-]*(?:count|total)s?\s*(?::.*)?$|^count\s*:.*$|^end\s+of\s+(?:report|file|data|list)\.?$/i;

const DATE_LIKE = /^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$/;

/** The footer value of a row, if one of its text values looks like a report's footer. */
function footerValue(customer: CustomerInput): string | null {
  const found = footerText(customer.rego) ?? footerText(customer.vin) ??
    footerText(customer.client_name) ?? footerText(customer.external_id);
  if (found !== null) return found;
  const extra = customer.additional_fields;
  if (extra !== undefined && extra !== null && typeof extra === "object") {
    for (const value of Object.values(extra)) {
      const text = footerText(value);
      if (text !== null) return text;
    }
  }
  return null;
}

/** `value` trimmed, when it is text that looks like a report's footer. */
function footerText(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  return FOOTER.test(text) ? text : null;
}

/**
 * Warns about rows as they come, in file order: remembers each distinct row and each vehicle's
 * first row (by 64-bit hashes, so memory stays small per row) to spot duplicates.
 */
export class RowChecker {
  readonly #region: Region;
  /**
   * Each vehicle, by its fingerprint: where its first row was, with that row's JSON as the
   * detail. Two rows with the same JSON have the same fingerprint, so a row whose vehicle is new
   * repeats no row, and a row whose JSON is its vehicle's first row's repeats that one.
   */
  readonly #vehicles = new FirstSeen();
  /** The other rows of vehicles met more than once, by their JSON: where each was first seen. */
  readonly #repeats = new FirstSeen();

  constructor(region: Region) {
    this.#region = region;
  }

  /**
   * A footer warning (the row is skipped) when the raw row looks like a report's footer or
   * summary, checked before validation: a `TOTAL` in the rego column would pass as a rego.
   */
  footer(customer: unknown, row: number, line: number | undefined): RowWarning | null {
    if (typeof customer !== "object" || customer === null) return null;
    const value = footerValue(customer as CustomerInput);
    if (value === null) return null;
    return {
      index: row,
      ...(line !== undefined ? { line } : {}),
      kind: "footer_row",
      field: "",
      message: `looks like a footer or summary line (${
        JSON.stringify(value)
      }), not a customer: skipped`,
      skipped: true,
    };
  }

  /** Remembers a valid row of an earlier run (resumed), so later rows that repeat it are seen. */
  observe(customer: CustomerInput, row: number, line: number | undefined): void {
    this.#lookup(customer, JSON.stringify(customer), row, line);
  }

  /**
   * The warnings for a valid (normalised) row, `json` being its JSON (as it is sent) and `given`
   * the row as read (before a rego lost its dashes); one with `skipped: true` means: do not
   * send it.
   */
  check(
    customer: CustomerInput,
    json: string,
    row: number,
    line: number | undefined,
    given: unknown = customer,
  ): RowWarning[] {
    const out: RowWarning[] = [];
    const at = line !== undefined ? { index: row, line } : { index: row };
    const warn = (kind: RowWarningKind, field: string, message: string) =>
      out.push({ ...at, kind, field, message, skipped: false });
    const seen = this.#lookup(customer, json, row, line);
    if (seen !== null) {
      const first = seen.line !== undefined
        ? { index: seen.row, line: seen.line }
        : { index: seen.row };
      const where = first.line !== undefined ? `line ${first.line}` : `index ${first.index}`;
      if (seen.exact) {
        out.push({
          ...at,
          kind: "duplicate_row",
          field: "",
          message: `repeats ${where} exactly: skipped`,
          skipped: true,
          first,
        });
        return out;
      }
      out.push({
        ...at,
        kind: "same_vehicle",
        field: seen.fingerprint.startsWith("vin:") ? "vin" : "rego",
        message: `the same vehicle as ${where} (${
          vehicleOf(seen.fingerprint)
        }) with other details: sent, so it is tracked twice`,
        skipped: false,
        first,
      });
    }
    const rego = customer.rego;
    if (
      this.#region === "au" && rego !== undefined && customer.state === undefined &&
      customer.vin === undefined
    ) {
      warn(
        "missing_state",
        "state",
        "a rego without a state: in au alerts match by rego and state, so this customer may " +
          "never match a listing (add the state, or a vin)",
      );
    }
    // A rego or mobile number the API refuses is a bad row already (FIELD_RULES); a date with
    // dashes still passes the rego rule once its dashes are out, so the value as given is read.
    const raw = (given as { rego?: unknown } | null)?.rego;
    const written = typeof raw === "string" ? raw.trim() : undefined;
    if (rego !== undefined && written !== undefined && DATE_LIKE.test(written)) {
      warn(
        "suspicious_value",
        "rego",
        `${written} looks like a date, not a rego: is the column right?`,
      );
    }
    return out;
  }

  /**
   * Records the row and answers the earlier row it repeats (exactly, or the same vehicle), or
   * null when it is the first of its kind.
   */
  #lookup(
    customer: CustomerInput,
    json: string,
    row: number,
    line: number | undefined,
  ): (Seen & { exact: boolean; fingerprint: string }) | null {
    const fp = fingerprint(customer);
    if (fp === null) return null;
    const vehicle = this.#vehicles.first(fp, json, row, line);
    if (vehicle !== null) {
      const exact = vehicle.sameDetail ? vehicle : this.#repeats.first(json, "", row, line);
      if (exact !== null) return { row: exact.row, line: exact.line, exact: true, fingerprint: fp };
    }
    let found: Seen | null = vehicle;
    // A row with a VIN is known by its VIN and by its rego and state: a later row that gives
    // only the rego is the same vehicle.
    if (fp.startsWith("vin:") && customer.rego !== undefined) {
      const byRego = fingerprint({ rego: customer.rego, state: customer.state })!;
      const seenByRego = this.#vehicles.first(byRego, "", row, line);
      found ??= seenByRego;
    }
    return found === null
      ? null
      : { row: found.row, line: found.line, exact: false, fingerprint: fp };
  }
}
