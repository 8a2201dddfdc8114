/**
 * SDK core benchmarks, each against a baseline run interleaved in the same process:
 *
 * 1. per-request overhead: `client.customers.retrieve` vs raw `fetch` + `JSON.parse`, both on a
 *    local `Deno.serve` stub on 127.0.0.1 (goal: ratio ≤ 1.10), and raw `fetch` given a timeout
 *    signal, to split the platform's cost of a per-request timeout from the SDK's own;
 * 2. preparation of 100,000 customers (validate + serialize) vs bare `JSON.stringify`.
 *
 * Run: `deno run -A bench/client.ts` (part of `deno task bench`).
 * @module
 */
import { RecaptureClient, validateCustomers } from "../mod.ts";

const KEY = "sec_bench_key";

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

async function requestOverhead(): Promise<number> {
  const body = JSON.stringify({
    success: true,
    customer: {
      id: "cus_1",
      upload_id: "upl_1",
      region: "au",
      rego: "ABC123",
      state: "NSW",
      vin: "1HGCM82633A004352",
      vin_source: "provided",
      external_id: null,
      vehicle_title: "2019 Toyota Corolla Ascent Sport",
      client_name: "Jo Citizen",
      mobile_number: "0400000000",
      sale_date: "2024-01-31",
      expiry_date: null,
      monitor_start_date: null,
      monitor_end_date: null,
      additional_fields: { crm_id: 7 },
      sightings: [{
        at: "2025-01-02T00:00:00Z",
        lead_id: "l1",
        listing_url: "https://example.test/l1",
        listing_title: "Corolla",
        listing_price: 21990,
        seller_type: "dealer",
      }],
      created_at: "2025-01-01T00:00:00.000Z",
      last_updated: "2025-01-01T00:00:00.000Z",
    },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(body, { headers: { "content-type": "application/json" } }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const client = new RecaptureClient({ apiKey: KEY, baseUrl: base });
  const url = `${base}/v2/recapture/customers/cus_1?region=au`;
  const raw = async () => {
    const res = await fetch(url, { headers: { ApiKey: KEY, accept: "application/json" } });
    return JSON.parse(await res.text());
  };
  // The same raw fetch given a timeout signal, as the SDK's per-attempt timeout gives one: Deno
  // links every `init.signal` to a new signal per request, a cost of the platform, not the SDK.
  const timeout = AbortSignal.timeout(3_600_000);
  const rawWithTimeout = async () => {
    const res = await fetch(url, {
      headers: { ApiKey: KEY, accept: "application/json" },
      signal: timeout,
    });
    return JSON.parse(await res.text());
  };
  const sdk = () => client.customers.retrieve("cus_1");
  // Both sides get the same answer and end with the same customer.
  const expected = JSON.stringify((await raw()).customer);
  if (JSON.stringify(await sdk()) !== expected) throw new Error("the SDK read another customer");

  const batch = async (f: () => Promise<unknown>, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await f();
    return (performance.now() - t0) / n;
  };
  await batch(raw, 1000);
  await batch(rawWithTimeout, 1000);
  await batch(sdk, 1000);
  // Interleaved in small batches, in mirrored order (raw, timeout, sdk, sdk, timeout, raw) so
  // that no side profits from its position; each round gives one ratio, and the median of the
  // rounds is reported, so drift and other load on the machine cancel out.
  const ratios: number[] = [];
  const timeoutRatios: number[] = [];
  const rawTimes: number[] = [];
  const sdkTimes: number[] = [];
  for (let round = 0; round < 400; round++) {
    const r1 = await batch(raw, 10);
    const t1 = await batch(rawWithTimeout, 10);
    const s1 = await batch(sdk, 10);
    const s2 = await batch(sdk, 10);
    const t2 = await batch(rawWithTimeout, 10);
    const r2 = await batch(raw, 10);
    ratios.push((s1 + s2) / (r1 + r2));
    timeoutRatios.push((t1 + t2) / (r1 + r2));
    sdkTimes.push((s1 + s2) / 2);
    rawTimes.push((r1 + r2) / 2);
  }
  await server.shutdown();
  const r = median(rawTimes), s = median(sdkTimes);
  console.log(
    `customers.retrieve: ${(s * 1000).toFixed(1)} µs/request, raw fetch + JSON.parse: ${
      (r * 1000).toFixed(1)
    } µs/request (400 mirrored rounds of 6 × 10 requests; per-round ratio p25–p75 ${
      quantile(ratios, 0.25).toFixed(3)
    }–${quantile(ratios, 0.75).toFixed(3)})`,
  );
  console.log(
    `  of which the platform's cost of a timeout signal (raw fetch with one / without): ${
      median(timeoutRatios).toFixed(3)
    }; the SDK against raw fetch with a timeout signal: ${
      median(ratios.map((x, i) => x / timeoutRatios[i])).toFixed(3)
    }`,
  );
  return median(ratios);
}

function prepareCustomers(): number {
  const rows = Array.from({ length: 100_000 }, (_, i) => ({
    rego: `ab c${(i % 9999).toString().padStart(4, "0")}`,
    state: ["nsw", "VIC", "qld", "WA"][i % 4],
    vin: i % 3 === 0 ? `1hgcm82633a${(i % 999999).toString().padStart(6, "0")}` : undefined,
    client_name: `Customer ${i}`,
    mobile_number: `04${(i % 100000000).toString().padStart(8, "0")}`,
    sale_date: `2024-0${(i % 9) + 1}-1${i % 10}`,
    additional_fields: { crm_id: i },
  }));
  const baseline = () => JSON.stringify({ name: "bench", customers: rows });
  const prepared = () => {
    const { valid, issues } = validateCustomers(rows);
    if (issues.length > 0) throw new Error(`unexpected issues: ${issues[0].reason}`);
    return JSON.stringify({ name: "bench", enable_rego_lookups: false, customers: valid });
  };
  const time = (f: () => string) => {
    const t0 = performance.now();
    const out = f();
    if (out.length < 1000) throw new Error("too short");
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) time(baseline), time(prepared);
  const b: number[] = [], p: number[] = [];
  for (let round = 0; round < 15; round++) {
    if (round % 2 === 0) b.push(time(baseline)), p.push(time(prepared));
    else p.push(time(prepared)), b.push(time(baseline));
  }
  const mb = median(b), mp = median(p);
  console.log(
    `100,000 customers: validate + serialize ${mp.toFixed(1)} ms, bare JSON.stringify ${
      mb.toFixed(1)
    } ms (median of 15 interleaved rounds)`,
  );
  return mp / mb;
}

const overhead = await requestOverhead();
console.log(`ratio customers.retrieve / raw fetch: ${overhead.toFixed(3)} (goal ≤ 1.10)`);
const prep = prepareCustomers();
console.log(`ratio prepare 100k / JSON.stringify: ${prep.toFixed(2)}`);
