/**
 * The code-mode tasks of issue 17 on one 20k-customer sandbox account, shared by
 * `code_tasks_test.ts` (each task is one call, with the right answer) and `bench/mcp_code.ts`
 * (tokens in code mode vs the per-operation tools, start-up and per-call overhead).
 *
 * The account: 20,000 generated customers (VINs given for ~60%, the rest looked up from the rego,
 * ~1 in 40 not found), 25 planted duplicates by rego + state, and 40 cars seen listed at prices
 * from $16,000 to $45,250 (21 over $30,000).
 *
 * @module
 */
import { RecaptureClient } from "../../mod.ts";
import type { Customer } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import type { Sandbox } from "../../src/sandbox/mod.ts";
import { simulateMarketEvent } from "../../src/sandbox/simulate.ts";
import { generateCustomers } from "../../examples/_customers.ts";

/** The size of the account. */
export const ACCOUNT_SIZE = 20_000;
/** The state whose customers the CSV task exports. */
export const CSV_STATE = "TAS";
/** Most CSV rows the export task returns (it says how many there are in all). */
export const CSV_ROWS = 100;

/** A seeded account. */
export interface TaskAccount {
  sandbox: Sandbox;
  client: RecaptureClient;
  /** Every customer, as the API lists them (for the expected answers). */
  customers: Customer[];
  close(): Promise<void>;
}

/** Makes the 20k-customer account (about 2 s). */
export async function seedAccount(): Promise<TaskAccount> {
  const sandbox = await createSandbox({ rateLimit: false });
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    maxRetries: 0,
    fetch: (req: Request) => sandbox.fetch(req),
  });
  const { customers: rows } = generateCustomers(ACCOUNT_SIZE - 25, { seed: 17 });
  // 25 duplicates by rego + state (another CRM id, the same car).
  const duplicates = rows.slice(0, 25).map((r, i) => ({
    ...r,
    external_id: `DUP-${i}`,
    vin: undefined,
  }));
  const upload = await client.uploads.create({
    name: "20k account",
    enable_rego_lookups: true,
    customers: [...rows, ...duplicates],
  }, { validate: false });
  await client.uploads.wait(upload.id, { intervalMs: 50 });
  for (let i = 0; i < 40; i++) {
    const row = rows[100 + i * 97];
    await simulateMarketEvent(client, {
      event: "listed",
      rego: row.rego,
      state: row.state,
      marketplace: "carsales",
      price: 16_000 + i * 750,
    });
  }
  const customers: Customer[] = [];
  for await (const c of client.customers.iterate({ pageSize: 1000 })) customers.push(c);
  return {
    sandbox,
    client,
    customers,
    async close() {
      await sandbox.idle();
      await sandbox.close();
    },
  };
}

/** Highest listing price a customer's car was seen at (0 without sightings). */
function topPrice(c: Customer): number {
  return Math.max(0, ...(c.sightings ?? []).map((s) => s.listing_price ?? 0));
}

/** One task: the script an agent sends, and the answer it must give. */
export interface Task {
  name: string;
  script: string;
  expected(customers: readonly Customer[]): unknown;
}

/** The four tasks. */
export const TASKS: readonly Task[] = [
  {
    name: "count customers with a looked-up VIN",
    script: `let customers = 0, looked_up = 0;
for await (const c of client.customers.iterate()) {
  customers++;
  if (c.vin_source === "rego_lookup") looked_up++;
}
return { customers, looked_up };`,
    expected: (cs) => ({
      customers: cs.length,
      looked_up: cs.filter((c) => c.vin_source === "rego_lookup").length,
    }),
  },
  {
    name: "regos seen listed over $30,000",
    script: `const out = [];
for await (const c of client.customers.iterate()) {
  const top = Math.max(0, ...(c.sightings ?? []).map((s) => s.listing_price ?? 0));
  if (top > 30000) out.push([c.rego, c.state, top]);
}
return out;`,
    expected: (cs) =>
      cs.filter((c) => topPrice(c) > 30_000).map((c) => [c.rego, c.state, topPrice(c)]),
  },
  {
    name: `${CSV_STATE} customers as CSV (first ${CSV_ROWS} rows)`,
    script:
      `const q = (v) => { const s = String(v ?? ""); return /[",\\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s; };
const lines = ["rego,vin,client_name,sale_date"];
let total = 0;
for await (const c of client.customers.iterate()) {
  if (c.state !== "${CSV_STATE}") continue;
  total++;
  if (lines.length <= ${CSV_ROWS}) lines.push([c.rego, c.vin, c.client_name, c.sale_date].map(q).join(","));
}
return { total, rows: lines.length - 1, csv: lines.join("\\n") };`,
    expected: (cs) => {
      const tas = cs.filter((c) => c.state === CSV_STATE);
      return { total: tas.length, rows: Math.min(CSV_ROWS, tas.length) };
    },
  },
  {
    name: "duplicates by rego + state",
    script: `const seen = new Map();
for await (const c of client.customers.iterate()) {
  const key = c.rego + "/" + c.state;
  seen.set(key, [...(seen.get(key) ?? []), c.id]);
}
const groups = [...seen].filter(([, ids]) => ids.length > 1);
return { groups: groups.length, first: groups.slice(0, 10).map(([key, ids]) => ({ key, ids })) };`,
    expected: (cs) => {
      const seen = new Map<string, number>();
      for (const c of cs) {
        seen.set(`${c.rego}/${c.state}`, (seen.get(`${c.rego}/${c.state}`) ?? 0) + 1);
      }
      return { groups: [...seen.values()].filter((n) => n > 1).length };
    },
  },
];
