/**
 * Sandbox at scale (issue 18): processing time per customer, and the time of one page of
 * `GET /v2/recapture/customers` at the start, the middle and the end of the list, for sandboxes
 * of 10,000, 100,000 and 1,000,000 customers (in memory, in process).
 *
 * Definitions (printed with the results):
 * - customers are sent in uploads of at most 100,000 rows (the 64 MiB body limit), one after the
 *   other, while processing runs (the bodies are made before the clock starts); µs per customer
 *   = (idle() resolved − first POST sent) / count: accepting and processing every row;
 * - a page is `limit=50` at offset 0, count / 2 and count − 50, account-wide and filtered to the
 *   last upload (its own start, middle and end); rounds interleave the three offsets so the
 *   machine's drift falls on all of them alike; printed: the median of the rounds and the ratio
 *   of each offset's median to offset 0's (goal at 1M: end / first ≤ 3).
 *
 * Not part of the test suite. Run: `deno run -A bench/sandbox_scale.ts [counts] [rounds]`, e.g.
 * `deno run -A bench/sandbox_scale.ts 10000,100000,1000000 21`.
 *
 * @module
 */
import { createSandbox, type Sandbox, SANDBOX_API_KEY } from "../src/sandbox/mod.ts";
import { generateCustomers } from "../examples/_customers.ts";

const COUNTS = (Deno.args[0] ?? "10000,100000,1000000").split(",").map(Number);
const ROUNDS = Number(Deno.args[1] ?? 21);
const PER_UPLOAD = 100_000;
const LIMIT = 50;

async function send(sandbox: Sandbox, path: string, init: RequestInit = {}): Promise<unknown> {
  const response = await sandbox.fetch(
    new Request(`http://sandbox${path}`, {
      ...init,
      headers: { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" },
    }),
  );
  const body = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function fill(
  sandbox: Sandbox,
  count: number,
): Promise<{ usPerCustomer: number; last: string }> {
  // Every body is made before the clock starts: only the sandbox's work is timed.
  const bodies: string[] = [];
  for (let from = 0; from < count; from += PER_UPLOAD) {
    const n = Math.min(PER_UPLOAD, count - from);
    const { customers } = generateCustomers(n, { seed: 1 + from / PER_UPLOAD });
    bodies.push(JSON.stringify({ name: `scale ${from}`, customers }));
  }
  const started = performance.now();
  let last = "";
  for (let k = 0; k < bodies.length; k++) {
    const body = bodies[k];
    bodies[k] = "";
    const answer = await send(sandbox, "/v2/recapture/upload?region=au", { method: "POST", body });
    last = (answer as { upload: { id: string } }).upload.id;
  }
  await sandbox.idle();
  return { usPerCustomer: (performance.now() - started) * 1000 / count, last };
}

async function pageMs(sandbox: Sandbox, offset: number, filter: string): Promise<number> {
  const started = performance.now();
  const answer = await send(
    sandbox,
    `/v2/recapture/customers?region=au&offset=${offset}&limit=${LIMIT}${filter}`,
  ) as { customers: unknown[] };
  const ms = performance.now() - started;
  if (answer.customers.length === 0) throw new Error(`empty page at ${offset}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(
  `uploads of ≤ ${PER_UPLOAD.toLocaleString("en-AU")} rows; µs/customer = (idle − first POST ` +
    `sent) / count; pages: limit ${LIMIT}, median of ${ROUNDS} interleaved rounds, ratio to ` +
    `offset 0 (goal at 1M: end ≤ 3×)`,
);
for (const count of COUNTS) {
  const sandbox = await createSandbox({ rateLimit: false, sweepIntervalMs: false });
  try {
    const { usPerCustomer, last } = await fill(sandbox, count);
    const lastSize = count - Math.floor((count - 1) / PER_UPLOAD) * PER_UPLOAD;
    const scopes = [
      { name: "account", filter: "", size: count },
      { name: "last upload", filter: `&upload_id=${last}`, size: lastSize },
    ];
    const lines = [
      `${count.toLocaleString("en-AU")} customers: processing ${
        usPerCustomer.toFixed(2)
      } µs/customer`,
    ];
    for (const scope of scopes) {
      const offsets = [0, Math.floor(scope.size / 2), scope.size - LIMIT];
      const times = offsets.map(() => [] as number[]);
      for (let round = 0; round <= ROUNDS; round++) {
        for (let k = 0; k < offsets.length; k++) {
          const ms = await pageMs(sandbox, offsets[k], scope.filter);
          if (round > 0) times[k].push(ms); // round 0 warms up
        }
      }
      const first = median(times[0]);
      lines.push(
        `  ${scope.name.padEnd(11)} page at ` +
          offsets.map((o, k) =>
            `${o.toLocaleString("en-AU")}: ${median(times[k]).toFixed(2)} ms (${
              (median(times[k]) / first).toFixed(2)
            }×)`
          ).join(", "),
      );
    }
    console.log(lines.join("\n"));
  } finally {
    await sandbox.close();
  }
}
