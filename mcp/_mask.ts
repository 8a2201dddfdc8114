/**
 * PII masking by allowlist. With masking on, only fields known to be safe pass in clear (ids,
 * region, dates, counts, state, status, vehicle title; rego and VIN only if the operator allows);
 * every other value is masked, including all of `additional_fields` at any depth. Client names
 * keep each word's initial and mobile numbers their last three digits, so a person can still tell
 * records apart; everything else becomes `[masked]`.
 *
 * A second net, {@linkcode Scrubber}, removes every personal string a call handled (its arguments
 * and the records it read) from the text and structured content of its result, so a message that
 * echoes a value (an API error, a row problem) cannot leak it either.
 *
 * @module
 */

/** How a server masks. */
export interface MaskSettings {
  /** Mask personal data in every result. */
  enabled: boolean;
  /** Show rego and VIN in clear even when masking (the operator's choice). */
  clearVehicleIds: boolean;
}

/** What a masked value becomes (besides names and mobile numbers). */
export const MASKED = "[masked]";

/** Fields that carry no personal data: they pass in clear at any depth (outside the free maps). */
const SAFE_FIELDS: ReadonlySet<string> = new Set([
  // ids and references
  "id",
  "upload_id",
  "customer_id",
  "lead_id",
  "webhook_id",
  "event_id",
  // where and when
  "region",
  "state",
  "sale_date",
  "expiry_date",
  "monitor_start_date",
  "monitor_end_date",
  "created_at",
  "updated_at",
  "last_updated",
  "at",
  "listed_at",
  // what the vehicle is, and the listing's public facts
  "vehicle_title",
  "vin_source",
  "listing_title",
  "listing_price",
  "price",
  "seller_type",
  "marketplace",
  // upload state and counters
  "status",
  "total_uploaded_customers",
  "total_processed_customers",
  "total_errors",
  "enable_rego_lookups",
  // webhook configuration (the endpoint is masked by maskEndpoint before it gets here)
  "format",
  "events",
  "endpoint",
]);

/** Shown in clear only with {@linkcode MaskSettings.clearVehicleIds}. */
const VEHICLE_ID_FIELDS: ReadonlySet<string> = new Set(["rego", "vin"]);

/** Masks a mobile number: `0412 345 678` → `*******678`. */
export function maskMobile(value: string): string {
  const digits = value.replace(/\D/g, "");
  if (digits.length <= 3) return "*".repeat(digits.length);
  return "*".repeat(digits.length - 3) + digits.slice(-3);
}

/** Masks a name word by word: `Jane Citizen` → `J*** C******`. */
export function maskName(value: string): string {
  return value.replace(/\p{L}[\p{L}\p{M}'’-]*/gu, (word) => {
    const chars = [...word];
    return chars[0] + "*".repeat(chars.length - 1);
  });
}

/** Masks every leaf of `value` (strings and numbers), keeping the shape and the keys. */
function maskAll(value: unknown): unknown {
  if (typeof value === "string" || typeof value === "number") return MASKED;
  if (Array.isArray(value)) return value.map(maskAll);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v)]));
  }
  return value;
}

function maskField(key: string, value: unknown, settings: MaskSettings): unknown {
  if (value === null || value === undefined || typeof value === "boolean") return value;
  if (SAFE_FIELDS.has(key) || (settings.clearVehicleIds && VEHICLE_ID_FIELDS.has(key))) {
    return maskValue(value, settings);
  }
  if (key === "client_name" && typeof value === "string") return maskName(value);
  if (key === "mobile_number" && typeof value === "string") return maskMobile(value);
  if (key === "sightings" && Array.isArray(value)) return maskValue(value, settings);
  return maskAll(value);
}

/**
 * Masks `value` by the allowlist: objects keep their keys, each field passes in clear only if
 * it is known to be safe. Top-level primitives (a lone string) are masked.
 */
export function maskValue(value: unknown, settings: MaskSettings): unknown {
  if (Array.isArray(value)) return value.map((v) => maskValue(v, settings));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, maskField(k, v, settings)]),
    );
  }
  return value;
}

/** Returns `record` masked as `settings` say (unchanged when masking is off). */
export function maskRecord<T extends Record<string, unknown>>(
  record: T,
  settings: MaskSettings,
): T {
  return settings.enabled ? maskValue(record, settings) as T : record;
}

/**
 * Collects the personal strings of one call (the values `maskValue` would hide) and removes
 * them from its result. Short values (under 5 characters) are left: they would also match
 * innocent text, and a value that short identifies no one.
 */
export class Scrubber {
  readonly #values = new Set<string>();
  readonly #settings: MaskSettings;
  /** One pattern for every collected value, built on first use after a change. */
  #pattern: RegExp | null = null;

  /** @param settings the server's masking settings; with masking off nothing is collected. */
  constructor(settings: MaskSettings) {
    this.#settings = settings;
  }

  /** Notes every personal value in `value` (a record, the call's arguments, CSV text...). */
  collect(value: unknown, key = ""): void {
    if (!this.#settings.enabled || value === null || value === undefined) return;
    if (typeof value === "string" || typeof value === "number") {
      const safe = SAFE_FIELDS.has(key) ||
        (this.#settings.clearVehicleIds && VEHICLE_ID_FIELDS.has(key));
      if (safe) return;
      // CSV text: each cell counts apart.
      for (const part of String(value).split(/[\r\n,;\t|"]+/)) {
        const text = part.trim();
        if (text.length >= 5 && !this.#values.has(text)) {
          this.#values.add(text);
          this.#pattern = null;
        }
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const v of value) this.collect(v, key);
      return;
    }
    if (typeof value === "object") {
      // Inside a free map every key is personal: collect under a key that is never safe.
      const free = key === "additional_fields" || (key !== "" && !SAFE_FIELDS.has(key) &&
        key !== "sightings" && key !== "customers" && key !== "customer");
      for (const [k, v] of Object.entries(value)) this.collect(v, free ? "additional_fields" : k);
    }
  }

  /** `text` with every collected value replaced by `[masked]`. */
  text(text: string): string {
    if (this.#values.size === 0) return text;
    // Longest first, so a value containing another is replaced whole.
    this.#pattern ??= new RegExp(
      [...this.#values].sort((a, b) => b.length - a.length)
        .map((v) => v.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join("|"),
      "g",
    );
    return text.replace(this.#pattern, MASKED);
  }

  /** `value` with every string leaf scrubbed. */
  value<T>(value: T): T {
    if (this.#values.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      }
      return v;
    };
    return walk(value) as T;
  }
}
