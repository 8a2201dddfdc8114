/**
 * A generator of realistic customer lists for the demo, tests and benchmarks: AU regos and
 * states, VINs, names, mobiles and sale dates, with a chosen share of bad rows (no rego or VIN,
 * a malformed VIN, an unknown state, an impossible date).
 *
 * @example
 * ```ts
 * import { generateCustomers } from "./_customers.ts";
 *
 * const { customers, bad } = generateCustomers(1000, { badRatio: 0.03, seed: 1 });
 * console.log(customers.length, bad.size);
 * ```
 * @module
 */
import { AU_STATES, type CustomerInput } from "../mod.ts";

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
 * Generates `count` customers; about `badRatio` of them are bad in one of four ways.
 * Answers the rows and the indexes of the bad ones.
 */
export function generateCustomers(
  count: number,
  options: { badRatio?: number; seed?: number } = {},
): { customers: GeneratedCustomer[]; bad: Set<number> } {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
  const customers: GeneratedCustomer[] = [];
  const bad = new Set<number>();
  const badRatio = options.badRatio ?? 0;
  for (let i = 0; i < count; i++) {
    const year = 2019 + Math.floor(random() * 6);
    const month = String(1 + Math.floor(random() * 12)).padStart(2, "0");
    const dayOfMonth = String(1 + Math.floor(random() * 28)).padStart(2, "0");
    const c: GeneratedCustomer = {
      rego: `${pick(LETTERS)}${pick(LETTERS)}${pick(LETTERS)}${digits(3)}`,
      state: pick(STATES),
      external_id: `CRM-${String(i + 1).padStart(7, "0")}`,
      client_name: `${pick(FIRST)} ${pick(LAST)}`,
      mobile_number: `04${digits(2)} ${digits(3)} ${digits(3)}`,
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
      else if (kind === 2) c.state = "XYZ";
      else c.sale_date = `${year}-02-30`;
    }
    customers.push(c);
  }
  return { customers, bad };
}
