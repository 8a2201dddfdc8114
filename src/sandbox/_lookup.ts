/**
 * The simulated rego→VIN lookup and vehicle titles: deterministic (the same rego always gives the
 * same VIN), with about one rego in forty not found, as happens with the real registries.
 *
 * @module
 */

const VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
const VEHICLES = [
  "Toyota Corolla Ascent Sport",
  "Toyota HiLux SR5",
  "Mazda CX-5 Maxx Sport",
  "Ford Ranger XLT",
  "Hyundai i30 Active",
  "Mitsubishi Triton GLX+",
  "Kia Sportage S",
  "Volkswagen Golf 110TSI",
  "Subaru Forester 2.5i-L",
  "Nissan X-Trail ST",
  "Honda CR-V VTi",
  "Tesla Model 3 Long Range",
];

/** A 32-bit FNV-1a hash, then mixed; `seed` varies the stream. */
function hash(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The VIN the simulated registry holds for a rego, or null when it has none. */
export function simulateRegoLookup(
  region: string,
  state: string | null,
  rego: string,
): string | null {
  const input = `${region}|${state ?? ""}|${rego}`;
  if (hash(input, 7) % 40 === 0) return null;
  let vin = "";
  for (let i = 0; i < 17; i++) vin += VIN_CHARS[hash(input, i + 100) % VIN_CHARS.length];
  return vin;
}

/** A plausible vehicle title for a VIN ("2019 Mazda CX-5 Maxx Sport"). */
export function vehicleTitle(vin: string): string {
  const year = 2008 + (hash(vin, 1) % 17);
  return `${year} ${VEHICLES[hash(vin, 2) % VEHICLES.length]}`;
}
