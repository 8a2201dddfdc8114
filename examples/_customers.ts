/**
 * A generator of realistic customer lists for the demo, tests and benchmarks, shaped for the
 * region: regos and mobile numbers as written there, a state only in AU (elsewhere the API takes
 * no state), VINs, names and sale dates, with a chosen share of bad rows (no rego or VIN, a
 * malformed VIN, an unknown state or outside AU a mobile number too short, an impossible date).
 *
 * @example
 * ```ts
 * import { generateCustomers } from "./_customers.ts";
 *
 * const { customers, bad } = generateCustomers(1000, { badRatio: 0.03, seed: 1, region: "nz" });
 * console.log(customers.length, bad.size, customers[0].state); // 1000 27 undefined
 * ```
 * @module
 */
import { AU_STATES, type CustomerInput, type Region } from "../mod.ts";

/** A generated customer row: the SDK's input shape. */
export type GeneratedCustomer = CustomerInput;

const FIRST = [
  "Olivia",
  "Jack",
  "Charlotte",
  "Noah",
  "Amelia",
  "William",
  "Isla",
  "Oliver",
  "Mia",
  "Thomas",
  "Ava",
  "James",
  "Grace",
  "Lucas",
  "Chloe",
  "Henry",
  "Zoe",
  "Liam",
  "Ruby",
  "Ethan",
];
const LAST = [
  "Smith",
  "Jones",
  "Williams",
  "Brown",
  "Wilson",
  "Taylor",
  "Nguyen",
  "Johnson",
  "Martin",
  "White",
  "Anderson",
  "Walker",
  "Thompson",
  "Kelly",
  "Ryan",
  "Lee",
  "Harris",
  "Clarke",
  "Singh",
  "Patel",
];
/** How many times a state stands in the draw (any other: once); the SDK's list names them. */
const STATE_WEIGHTS: Readonly<Record<string, number>> = { NSW: 3, VIC: 2, QLD: 2 };
const STATES = AU_STATES.flatMap((state) =>
  Array.from({ length: STATE_WEIGHTS[state] ?? 1 }, () => state)
);
const VIN_CHARS = [..."ABCDEFGHJKLMNPRSTUVWXYZ0123456789"];
const LETTERS = [..."ABCDEFGHJKLMNPRSTUVWXYZ"];

/** What a region's rows are drawn with. */
interface Draw {
  /** One item of `list`. */
  pick<T>(list: readonly T[]): T;
  /** `n` random digits. */
  digits(n: number): string;
}

/** How a region writes a rego and a mobile number, and (AU only) draws a state. */
interface RegionStyle {
  rego(d: Draw): string;
  state?(d: Draw): string;
  mobile(d: Draw): string;
}

/** UK age identifiers of recent years (March and September registrations, 2019 to 2024). */
const UK_AGES = ["19", "69", "20", "70", "21", "71", "22", "72", "23", "73", "24", "74"];
/** Malaysian plate prefixes of a few states (W and V Kuala Lumpur, B Selangor, J Johor, P Penang). */
const MY_PREFIXES = ["W", "V", "B", "J", "P"];

/** Each region's style. (AU's draws, in this order, are what every seed gave before regions.) */
const STYLES: Readonly<Record<Region, RegionStyle>> = {
  au: {
    rego: (d) => `${d.pick(LETTERS)}${d.pick(LETTERS)}${d.pick(LETTERS)}${d.digits(3)}`,
    state: (d) => d.pick(STATES),
    mobile: (d) => `04${d.digits(2)} ${d.digits(3)} ${d.digits(3)}`,
  },
  nz: {
    rego: (d) => `${d.pick(LETTERS)}${d.pick(LETTERS)}${d.pick(LETTERS)}${d.digits(3)}`,
    mobile: (d) => `02${d.pick(["1", "2", "7"])} ${d.digits(3)} ${d.digits(4)}`,
  },
  uk: {
    rego: (d) =>
      `${d.pick(LETTERS)}${d.pick(LETTERS)}${d.pick(UK_AGES)} ` +
      `${d.pick(LETTERS)}${d.pick(LETTERS)}${d.pick(LETTERS)}`,
    mobile: (d) => `07${d.digits(3)} ${d.digits(6)}`,
  },
  my: {
    rego: (d) =>
      `${d.pick(MY_PREFIXES)}${d.pick(LETTERS)}${d.pick(LETTERS)} ` +
      `${d.pick(["1", "2", "3", "4", "5", "6", "7", "8", "9"])}${d.digits(3)}`,
    mobile: (d) => `01${d.pick(["2", "3", "6", "7", "9"])}-${d.digits(3)} ${d.digits(4)}`,
  },
};

/**
 * A small seeded random number generator (mulberry32): the same seed gives the same numbers in
 * [0, 1), so generated data, and a test's failure, can be replayed.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./_customers.ts";
 *
 * const random = seededRandom(7);
 * console.log(random() === seededRandom(7)()); // true
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generates `count` customers for `region` (default `au`); about `badRatio` of them are bad in
 * one of four ways. Answers the rows and the indexes of the bad ones.
 *
 * @example
 * ```ts
 * import { generateCustomers } from "./_customers.ts";
 *
 * const { customers } = generateCustomers(2, { seed: 7, region: "uk" });
 * console.log(customers.map((c) => c.rego)); // ["TM21 LFN", "TS70 JDD"]
 * ```
 */
export function generateCustomers(
  count: number,
  options: { badRatio?: number; seed?: number; region?: Region } = {},
): { customers: GeneratedCustomer[]; bad: Set<number> } {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
  const draw: Draw = { pick, digits };
  const style = STYLES[options.region ?? "au"];
  const customers: GeneratedCustomer[] = [];
  const bad = new Set<number>();
  const badRatio = options.badRatio ?? 0;
  for (let i = 0; i < count; i++) {
    const year = 2019 + Math.floor(random() * 6);
    const month = String(1 + Math.floor(random() * 12)).padStart(2, "0");
    const dayOfMonth = String(1 + Math.floor(random() * 28)).padStart(2, "0");
    const c: GeneratedCustomer = {
      rego: style.rego(draw),
      ...(style.state ? { state: style.state(draw) } : {}),
      external_id: `CRM-${String(i + 1).padStart(7, "0")}`,
      client_name: `${pick(FIRST)} ${pick(LAST)}`,
      mobile_number: style.mobile(draw),
      sale_date: `${year}-${month}-${dayOfMonth}`,
      additional_fields: { salesperson: pick(FIRST), stock_no: `S${digits(5)}` },
    };
    if (random() < 0.6) {
      c.vin = Array.from({ length: 17 }, () => pick(VIN_CHARS)).join("");
    }
    if (random() < badRatio) {
      bad.add(i);
      const kind = Math.floor(random() * 4);
      if (kind === 0) {
        delete c.rego;
        delete c.vin;
      } else if (kind === 1) c.vin = "1HGCM82633A00435O"; // contains an O
      else if (kind === 2) {
        // Only AU checks a state; elsewhere any state passes, so the row is bad another way.
        if (style.state) c.state = "XYZ";
        else c.mobile_number = "12345"; // five digits: a phone number has at least six
      } else c.sale_date = `${year}-02-30`;
    }
    customers.push(c);
  }
  return { customers, bad };
}
