/**
 * Sandbox processing throughput (issue 3): a 100,000-customer upload to an in-process sandbox,
 * beside the raw rate of batched Deno KV atomic writes (400 records per atomic, awaited one after
 * the other) of the same customer records, in the same process, in memory and on a file.
 *
 * Definitions (printed with the results):
 * - raw: customers / time to write the records with `kv.atomic().set(...)` × 400 + `commit()`;
 * - end to end: customers / time from sending the POST until `idle()` resolves (the POST parses,
 *   checks and stores the whole list before answering; then every row is processed into a
 *   customer);
 * - processing: customers / time from the POST's answer until `idle()` resolves.
 *
 * Each round runs raw, sandbox, raw, so that each sandbox run has a raw run on either side; the
 * round's ratio is the sandbox rate over the mean of those two raw rates (the machine's load
 * drifts between runs; pairing keeps it out of the ratio). One warm-up round is not counted.
 * Prints the median and the range of the per-round ratios (goal ≥ 0.5).
 *
 * Run: `deno run -A bench/sandbox.ts [count] [rounds]` (also part of `deno task bench`).
 *
 * @module
 */
import { createSandbox, SANDBOX_API_KEY } from "../src/sandbox/mod.ts";
import { generateCustomers } from "../examples/_customers.ts";

const COUNT = Number(Deno.args[0] ?? 100_000);
const ROUNDS = Number(Deno.args[1] ?? 5);
const BATCH = 400;

async function sandboxRate(
  body: string,
  path: string,
): Promise<{ endToEnd: number; processing: number }> {
  const sandbox = await createSandbox({ path, rateLimit: false });
  try {
    const started = performance.now();
    const response = await sandbox.fetch(
      new Request("http://sandbox/v2/recapture/upload?region=au", {
        method: "POST",
        headers: { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" },
        body,
      }),
    );
    if (response.status !== 201) throw new Error(`upload failed: ${await response.text()}`);
    const { upload } = await response.json();
    const accepted = performance.now();
    await sandbox.idle();
    const done = performance.now();
    const status = await sandbox.fetch(
      new Request(`http://sandbox/v2/recapture/upload/${upload.id}?region=au`, {
        headers: { ApiKey: SANDBOX_API_KEY },
      }),
    );
    const view = (await status.json()).upload;
    if (view.total_processed_customers !== COUNT) throw new Error("upload not complete");
    return {
      endToEnd: COUNT / ((done - started) / 1000),
      processing: COUNT / ((done - accepted) / 1000),
    };
  } finally {
    await sandbox.close();
  }
}

async function rawRate(records: Record<string, unknown>[], path: string): Promise<number> {
  const kv = await Deno.openKv(path);
  try {
    const started = performance.now();
    for (let i = 0; i < records.length; i += BATCH) {
      const op = kv.atomic();
      for (let j = i; j < Math.min(i + BATCH, records.length); j++) {
        op.set(["raw", "acct", "au", records[j].id as string], records[j]);
      }
      const result = await op.commit();
      if (!result.ok) throw new Error("raw commit failed");
    }
    return records.length / ((performance.now() - started) / 1000);
  } finally {
    kv.close();
  }
}

const { customers } = generateCustomers(COUNT, { seed: 7 });
const body = JSON.stringify({ name: "bench", customers });
const now = new Date().toISOString();
// The same records the sandbox stores (same fields and sizes).
const records = customers.map((c, i) => ({
  id: `cus_bench${String(i).padStart(19, "0")}`,
  upload_id: "upl_bench000000000000",
  region: "au",
  rego: c.rego ?? null,
  state: c.state ?? null,
  vin: c.vin ?? null,
  vin_source: c.vin ? "provided" : null,
  external_id: c.external_id ?? null,
  vehicle_title: c.vin ? "2019 Mazda CX-5 Maxx Sport" : null,
  client_name: c.client_name ?? null,
  mobile_number: c.mobile_number ?? null,
  sale_date: c.sale_date ?? null,
  expiry_date: null,
  monitor_start_date: null,
  monitor_end_date: null,
  additional_fields: c.additional_fields ?? {},
  sightings: [],
  created_at: now,
  last_updated: now,
}));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const n = (x: number) => Math.round(x).toLocaleString("en-AU");
console.log(
  `${COUNT} customers, ${ROUNDS} rounds (+1 warm-up) of raw, sandbox, raw. raw = batched KV ` +
    `writes (${BATCH} per atomic); end to end = POST sent → idle(); processing = POST answered ` +
    `→ idle(); ratio = sandbox rate / mean of the two raw rates beside it; goal ≥ 0.5`,
);
const dir = await Deno.makeTempDir({ prefix: "recapture_bench_" });
try {
  for (const storage of ["memory", "file"] as const) {
    const raw: number[] = [];
    const rates = { endToEnd: [] as number[], processing: [] as number[] };
    const endToEnd: number[] = [];
    const processing: number[] = [];
    let file = 0;
    const path = () => storage === "memory" ? ":memory:" : `${dir}/${file++}.kv`;
    for (let round = 0; round <= ROUNDS; round++) {
      const before = await rawRate(records, path());
      const s = await sandboxRate(body, path());
      const after = await rawRate(records, path());
      if (round === 0) continue; // warm-up
      const r = (before + after) / 2;
      raw.push(r);
      rates.endToEnd.push(s.endToEnd);
      rates.processing.push(s.processing);
      endToEnd.push(s.endToEnd / r);
      processing.push(s.processing / r);
    }
    console.log(
      `${storage.padEnd(6)} medians: raw ${n(median(raw))}/s; end to end ${
        n(median(rates.endToEnd))
      }/s, ratio ${median(endToEnd).toFixed(2)} (rounds ${range(endToEnd)}); processing ${
        n(median(rates.processing))
      }/s, ratio ${median(processing).toFixed(2)} (rounds ${range(processing)})`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
