/**
 * Import benchmark (issue 6): a generated N-row CSV read, validated and uploaded to an
 * in-process sandbox (Deno KV on a temp file).
 *
 *   deno run -A bench/import_bench.ts            # 100k and 1M rows, each in its own process
 *   deno run -A bench/import_bench.ts 200000     # one size
 *
 * Each size is generated once, then measured in child processes so that each peak RSS is its
 * own:
 *   - "ratio" child, interleaved, best of five each: (a) papaparse's documented streaming API
 *     (Papa.parse on a file stream, header: true, chunk callback: records keyed by header, the
 *     baseline of the goal); (b) papaparse's core Parser over the web stream (arrays only, the
 *     floor); (c) read + validate: readCsv (mapping, dates) + validateCustomers in blocks of
 *     1000, as bulkUpload does, nothing sent. Ratios (c)/(a) (goal <= 1.5) and (c)/(b).
 *   - "send" child: read + validate + send: bulkUpload to the sandbox (batches of 5000, 2 in
 *     flight, no waiting for processing), rows/s and peak RSS,
 * with RSS sampled every 20 ms (goal: peak <= 250 MB), with the V8 flags `deno task recapture`
 * ships (read from deno.json) and again with V8's defaults. The sandbox upload runs twice: once as
 * is, once with --expose-gc to measure the live heap after a full GC every 100,000 rows (garbage
 * not yet collected is most of the peak RSS). The same two runs send to a stand-in for the
 * remote API (each body parsed, 201 answered): the client side alone, which is what the CLI
 * holds against the real API; its peak RSS and rows/s come from the run without --expose-gc,
 * measured exactly as the sandbox's. The in-process sandbox keeps nothing of an accepted upload
 * in memory, but its own garbage (each request body, parsed) shares the process's heap.
 *
 * One child alone:
 *   RECAPTURE_BENCH_CHILD=1 deno run -A bench/import_bench.ts send|client|ratio <csv> <rows>
 */
// @ts-types="../src/import/_papaparse.d.ts"
import Papa from "papaparse";
import { bulkUpload } from "../src/import/bulk.ts";
import { RecaptureClient } from "../src/sdk/client.ts";
import { readCsv } from "../src/import/csv.ts";
import { createSandbox, SANDBOX_API_KEY } from "../src/sandbox/mod.ts";
import { validateCustomers } from "../src/sdk/validate.ts";
import { AU_STATES } from "../src/sdk/schemas.ts";
import { createReadStream } from "node:fs";

const NAMES = ["Smith, Jo", "Lee", "Nguyen", "O'Brien", 'Kim "KJ" Park', "Singh", "Brown"];

/** Writes an n-row export-like CSV (quotes, commas, DD/MM/YYYY, Excel serials, extra columns). */
export async function generateCsv(path: string, n: number): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let out = "Rego,State,VIN,Customer Name,Mobile,Sale Date,Expiry,Salesperson,Stock No\r\n";
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const name = NAMES[i % NAMES.length];
    const quoted = /[",]/.test(name) ? `"${name.replaceAll('"', '""')}"` : name;
    const vin = i % 3 === 0 ? `1HGCM8263${String(i).padStart(8, "0")}` : "";
    const sale = i % 5 === 0 ? String(43000 + (i % 2000)) : `${(i % 28) + 1}/${(i % 12) + 1}/2023`;
    out += `R${i.toString(36).toUpperCase()},${
      AU_STATES[i % AU_STATES.length]
    },${vin},${quoted},04${String(i % 1e8).padStart(8, "0")},${sale},2030-01-01,Bob,S${i}\r\n`;
    if (out.length > 1 << 16) {
      const b = enc.encode(out);
      bytes += b.length;
      await file.write(b);
      out = "";
    }
  }
  const b = enc.encode(out);
  bytes += b.length;
  await file.write(b);
  file.close();
  return bytes;
}

async function bareParse(path: string): Promise<number> {
  const file = await Deno.open(path);
  const decoder = new TextDecoder();
  const parser = new Papa.Parser({ delimiter: ",", newline: "\r\n" });
  let pending = "";
  let rows = 0;
  for await (const chunk of file.readable) {
    pending += decoder.decode(chunk, { stream: true });
    const r = parser.parse(pending, 0, true);
    rows += r.data.length;
    pending = pending.substring(r.meta.cursor);
  }
  rows += parser.parse(pending + decoder.decode(), 0, false).data.length;
  return rows - 1; // header
}

/** papaparse's documented way to stream a file into records: a file stream, header, chunks. */
function papaRecords(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    Papa.parse(createReadStream(path), {
      header: true,
      chunk: (result) => {
        rows += result.data.length;
      },
      complete: () => resolve(rows),
      error: reject,
    });
  });
}

async function readOnly(path: string): Promise<number> {
  const file = await Deno.open(path);
  let rows = 0;
  for await (const _ of readCsv(file.readable)) rows++;
  return rows;
}

async function readAndValidate(path: string): Promise<[number, number]> {
  const file = await Deno.open(path);
  let block: unknown[] = [];
  let valid = 0;
  let rows = 0;
  for await (const row of readCsv(file.readable)) {
    rows++;
    block.push(row.customer);
    if (block.length === 1000) {
      valid += validateCustomers(block).valid.length;
      block = [];
    }
  }
  valid += validateCustomers(block).valid.length;
  return [rows, valid];
}

function mb(bytes: number): number {
  return Math.round(bytes / 1e5) / 10;
}

/** RSS sampled every 20 ms while `fn` runs; answers its value, time and the peak RSS. */
async function measured<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  let peak = Deno.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 20);
  try {
    const t = performance.now();
    const value = await fn();
    const ms = performance.now() - t;
    return [value, ms, Math.max(peak, Deno.memoryUsage().rss)];
  } finally {
    clearInterval(sampler);
  }
}

/** Child "ratio": bare parses and read+validate, interleaved, best of five each. */
async function ratioChild(csv: string, n: number): Promise<unknown> {
  const dir = await Deno.makeTempDir({ prefix: "recapture_bench_" });
  try {
    // Warm-up so every path is compiled before timing.
    const warm = `${dir}/warm.csv`;
    await generateCsv(warm, 20_000);
    await bareParse(warm);
    await papaRecords(warm);
    await readOnly(warm);
    await readAndValidate(warm);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const best = { bare: Infinity, records: Infinity, read: Infinity, rv: Infinity };
  let counts: number[] = [];
  let rvRss = 0;
  for (let round = 0; round < 5; round++) {
    const [b, bMs] = await measured(() => bareParse(csv));
    const [r, rMs] = await measured(() => papaRecords(csv));
    const [, readMs] = await measured(() => readOnly(csv));
    const [[rows, valid], vMs, vRss] = await measured(() => readAndValidate(csv));
    counts = [b, r, rows, valid];
    rvRss = Math.max(rvRss, vRss);
    best.bare = Math.min(best.bare, bMs);
    best.records = Math.min(best.records, rMs);
    best.read = Math.min(best.read, readMs);
    best.rv = Math.min(best.rv, vMs);
  }
  const rate = (ms: number) => Math.round(n / ms * 1000);
  return {
    papaArrays: { rows: counts[0], ms: Math.round(best.bare), rowsPerSec: rate(best.bare) },
    papaRecords: { rows: counts[1], ms: Math.round(best.records), rowsPerSec: rate(best.records) },
    readValidate: {
      rows: counts[2],
      valid: counts[3],
      ms: Math.round(best.rv),
      rowsPerSec: rate(best.rv),
      peakRssMB: mb(rvRss),
    },
    readOnly: { ms: Math.round(best.read), rowsPerSec: rate(best.read) },
    readOnlyVsRecords: Math.round(best.read / best.records * 100) / 100,
    ratioVsRecords: Math.round(best.rv / best.records * 100) / 100,
    ratioVsArrays: Math.round(best.rv / best.bare * 100) / 100,
  };
}

/**
 * A stand-in for the real API, as far as the client side's memory goes: reads and parses each
 * upload's body as a server would, answers 201 with the upload. What a CLI process holds when it
 * talks to the real API (the in-process sandbox holds the API's own data as well).
 */
function remoteApi(): (request: Request) => Promise<Response> {
  let next = 0;
  return async (request) => {
    const body = await request.json() as { name: string; customers: unknown[] };
    const count = body.customers.length;
    return Response.json({
      success: true,
      upload: {
        id: `upl_${next++}`,
        name: body.name,
        status: "queued",
        total_uploaded_customers: count,
        total_processed_customers: 0,
        total_errors: 0,
      },
    }, { status: 201 });
  };
}

/**
 * Child "send" (to the in-process sandbox on a temp KV file) or "client" (to `remoteApi`):
 * bulkUpload of the file.
 */
async function sendChild(csv: string, n: number, remote: boolean): Promise<unknown> {
  const dir = await Deno.makeTempDir({ prefix: "recapture_bench_" });
  const startRss = Deno.memoryUsage().rss;
  try {
    const sandbox = remote
      ? undefined
      : await createSandbox({ path: `${dir}/sandbox.kv`, rateLimit: false });
    const client = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      fetch: sandbox ? (r) => sandbox.fetch(r) : remoteApi(),
    });
    try {
      // With --expose-gc, the live heap is measured after a full GC every
      // 100,000 rows: what the process really holds, as opposed to garbage not yet collected.
      const gc = (globalThis as { gc?: () => void }).gc;
      let liveHeap = 0;
      let nextGc = 100_000;
      const [result, ms, peak] = await measured(async () => {
        const file = await Deno.open(csv);
        return await bulkUpload(client, readCsv(file.readable), {
          name: "bench",
          onProgress: gc
            ? (p) => {
              if (p.rowsRead < nextGc) return;
              nextGc += 100_000;
              gc();
              liveHeap = Math.max(liveHeap, Deno.memoryUsage().heapUsed);
            }
            : undefined,
        });
      });
      return {
        uploaded: result.progress.rowsUploaded,
        uploads: result.progress.uploads,
        badRows: result.progress.badRows,
        ms: Math.round(ms),
        rowsPerSec: Math.round(n / ms * 1000),
        startRssMB: mb(startRss),
        peakRssMB: mb(peak),
        ...(gc ? { liveHeapAfterGcMB: mb(liveHeap) } : {}),
      };
    } finally {
      await sandbox?.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Lets a child force a full GC to measure its live heap. */
const GC = "--v8-flags=--expose-gc";

/**
 * The V8 flags `deno task recapture` runs the CLI with, read from deno.json (one source of
 * truth): a heap limit far above the CLI's flat live heap (~20 MB), so V8 collects old garbage
 * sooner instead of growing the heap. Measured both ways: with them, and with V8's defaults.
 */
const CLI_FLAGS: string[] = (() => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const task: string = config.tasks.recapture;
  return task.match(/--v8-flags=\S+/g) ?? [];
})();

async function runChild(
  kind: string,
  csv: string,
  n: number,
  flags: string[] = [],
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, import.meta.filename!, kind, csv, String(n)],
    env: { RECAPTURE_BENCH_CHILD: "1" },
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`bench child ${kind} for ${n} rows failed:\n${text}`);
  return JSON.parse(text.split("\n").at(-1)!);
}

if (import.meta.main) {
  if (Deno.env.get("RECAPTURE_BENCH_CHILD")) {
    const [kind, csv, n] = Deno.args;
    const result = kind === "ratio"
      ? await ratioChild(csv, Number(n))
      : await sendChild(csv, Number(n), kind === "client");
    console.log(JSON.stringify(result));
  } else {
    const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [100_000, 1_000_000];
    console.log(
      "rows | file MB | papaparse records rows/s | papaparse arrays rows/s | " +
        "read only rows/s | read+validate rows/s | ratio vs records (goal <= 1.5) | " +
        "read only vs records | ratio vs arrays | " +
        `read+validate+send rows/s | peak RSS MB with the CLI's ${
          CLI_FLAGS.join(" ") || "(no flags)"
        } (goal <= 250) | live heap after GC MB | ` +
        "client side only (API stand-in): " +
        "rows/s | peak RSS MB | live heap after GC MB",
    );
    for (const n of sizes) {
      const dir = await Deno.makeTempDir({ prefix: "recapture_bench_" });
      try {
        const csv = `${dir}/customers.csv`;
        const bytes = await generateCsv(csv, n);
        const ratio = await runChild("ratio", csv, n) as Record<string, Record<string, number>>;
        const send = await runChild("send", csv, n, CLI_FLAGS) as Record<string, number>;
        const sendDefaults = await runChild("send", csv, n) as Record<string, number>;
        const live = await runChild("send", csv, n, [GC]) as Record<string, number>;
        const client = await runChild("client", csv, n) as Record<string, number>;
        const clientLive = await runChild("client", csv, n, [GC]) as Record<string, number>;
        console.log(
          `${n} | ${
            mb(bytes)
          } | ${ratio.papaRecords.rowsPerSec} | ${ratio.papaArrays.rowsPerSec} | ` +
            `${ratio.readOnly.rowsPerSec} | ${ratio.readValidate.rowsPerSec} | ` +
            `${ratio.ratioVsRecords} | ${ratio.readOnlyVsRecords} | ${ratio.ratioVsArrays} | ` +
            `${send.rowsPerSec} | ${send.peakRssMB} (V8 defaults: ${sendDefaults.peakRssMB}) | ` +
            `${live.liveHeapAfterGcMB} | ${client.rowsPerSec} | ${client.peakRssMB} | ` +
            `${clientLive.liveHeapAfterGcMB}`,
        );
        console.log(
          JSON.stringify({
            rows: n,
            fileMB: mb(bytes),
            cliFlags: CLI_FLAGS,
            ...ratio,
            send,
            sendDefaults,
            live,
            client,
            clientLive,
          }),
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  }
}
