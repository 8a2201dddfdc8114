/**
 * Sandbox processing throughput: a 100,000-customer upload from POST to done (customers/s),
 * beside the raw rate of batched Deno KV atomic writes (400 per atomic) of the same customer
 * records, measured in the same run, in memory and on a file. Each figure is the median of
 * `rounds` runs, alternating raw and sandbox. Prints both rates and their ratio (goal ≥ 0.5),
 * for POST sent → done (acceptance included) and POST answered → done (processing only).
 *
 * Run: `deno run -A bench/sandbox.ts [count] [rounds]` (also part of `deno task bench`).
 *
 * @module
 */
import { createSandbox, SANDBOX_API_KEY } from "../src/sandbox/mod.ts";
import { generateCustomers } from "../examples/_customers.ts";

const COUNT = Number(Deno.args[0] ?? 100_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
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
    const processingSeconds = (performance.now() - accepted) / 1000;
    const seconds = (performance.now() - started) / 1000;
    const status = await sandbox.fetch(
      new Request(`http://sandbox/v2/recapture/upload/${upload.id}?region=au`, {
        headers: { ApiKey: SANDBOX_API_KEY },
      }),
    );
    const done = (await status.json()).upload;
    if (done.total_processed_customers !== COUNT) throw new Error("upload not complete");
    return { endToEnd: COUNT / seconds, processing: COUNT / processingSeconds };
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
const dir = await Deno.makeTempDir({ prefix: "recapture_bench_" });
try {
  for (const storage of ["memory", "file"] as const) {
    const raw: number[] = [];
    const endToEnd: number[] = [];
    const processing: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const p = (name: string) => storage === "memory" ? ":memory:" : `${dir}/${name}${round}.kv`;
      raw.push(await rawRate(records, p("raw")));
      const s = await sandboxRate(body, p("sandbox"));
      endToEnd.push(s.endToEnd);
      processing.push(s.processing);
    }
    const r = median(raw);
    const e = median(endToEnd);
    const q = median(processing);
    const n = (x: number) => Math.round(x).toLocaleString("en-AU");
    console.log(
      `${storage.padEnd(6)} ${COUNT} customers, median of ${ROUNDS}: raw batched KV writes ${
        n(r)
      }/s; ` +
        `sandbox POST sent→done ${n(e)}/s (ratio ${(e / r).toFixed(2)}), ` +
        `POST answered→done ${n(q)}/s (ratio ${(q / r).toFixed(2)}); goal ≥ 0.5`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
