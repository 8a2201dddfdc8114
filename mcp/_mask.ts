/**
 * PII masking for tool results: mobile numbers keep their last three digits, names keep the
 * first letter of each word.
 *
 * @module
 */

/** Which personal fields to mask. */
export interface MaskSettings {
  mobileNumbers: boolean;
  names: boolean;
}

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

/** Returns a copy of `record` with the personal fields masked as `settings` says. */
export function maskRecord<T extends Record<string, unknown>>(
  record: T,
  settings: MaskSettings,
): T {
  if (!settings.mobileNumbers && !settings.names) return record;
  const out: Record<string, unknown> = { ...record };
  if (settings.mobileNumbers && typeof out.mobile_number === "string") {
    out.mobile_number = maskMobile(out.mobile_number);
  }
  if (settings.names && typeof out.client_name === "string") {
    out.client_name = maskName(out.client_name);
  }
  return out as T;
}
