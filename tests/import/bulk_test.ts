import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  type BadRow,
  type BulkManifest,
  type BulkProgress,
  bulkUpload,
  BulkUploadError,
  settleInFlight,
  validateRows,
} from "../../src/import/bulk.ts";
import { RecaptureClient } from "../../src/sdk/client.ts";
import { CsvError, readCsv } from "../../src/import/csv.ts";
import { ServerError } from "../../src/sdk/errors.ts";
import type { CustomerInput } from "../../src/sdk/schemas.ts";
import { createSandbox, type Sandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

type Fetch = (request: Request) => Promise<Response>;

/** A fresh in-memory sandbox and a client on it; `wrap` may put a fetch in between. */
async function setup(
  wrap: (inner: Fetch) => Fetch = (f) => f,
): Promise<{ sandbox: Sandbox; client: RecaptureClient } & AsyncDisposable> {
  const sandbox = await createSandbox();
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    fetch: wrap((request) => sandbox.fetch(request)),
    maxRetries: 0,
  });
  return {
    sandbox,
    client,
    async [Symbol.asyncDispose]() {
      await sandbox.idle();
      await sandbox.close();
    },
  };
}

/** Regos of every customer of the account, in creation order. */
async function storedRegos(
  env: { sandbox: Sandbox; client: RecaptureClient },
  uploadId?: string,
): Promise<string[]> {
  await env.sandbox.idle();
  const client = env.client;
  const out: string[] = [];
  for await (
    const c of client.customers.iterate({
      pageSize: 1000,
      ...(uploadId ? { upload_id: uploadId } : {}),
    })
  ) out.push(c.rego ?? c.vin ?? "?");
  return out;
}

/** `n` customers; rows whose index is in `bad` lack both rego and VIN. */
function* customers(n: number, bad: ReadonlySet<number> = new Set()): Generator<CustomerInput> {
  for (let i = 0; i < n; i++) yield bad.has(i) ? { client_name: `nobody ${i}` } : { rego: `R${i}` };
}

Deno.test("bulk: batches are cut at the size, ranges cover every row, bad rows are not sent", async () => {
  await using env = await setup();
  const bad = new Set([0, 4, 5, 9]);
  const result = await bulkUpload(env.client, customers(13, bad), { name: "Cuts", batchSize: 3 });
  // Good rows: 1 2 3 | 6 7 8 | 10 11 12 ; bad rows 0, 4, 5, 9 sit inside the spans.
  assertEquals(
    result.manifest.uploads.map((u) => [u.first_row, u.last_row, u.customers, u.bad_rows]),
    [[0, 3, 3, 1], [4, 8, 3, 2], [9, 12, 3, 1]],
  );
  assertEquals(result.manifest.name, "Cuts");
  assertEquals(result.badRows.map((b) => b.index), [0, 4, 5, 9]);
  assertEquals(result.badRows[0].issues, [
    { field: "rego|vin", reason: "a customer needs a rego or a vin" },
  ]);
  assertEquals(result.progress.rowsRead, 13);
  assertEquals(result.progress.rowsUploaded, 9);
  assertEquals(result.progress.uploads, 3);
  // Each upload holds exactly its span's good rows, in order.
  const [a, b, c] = result.manifest.uploads.map((u) => u.upload_id!);
  assertEquals(await storedRegos(env, a), ["R1", "R2", "R3"]);
  assertEquals(await storedRegos(env, b), ["R6", "R7", "R8"]);
  assertEquals(await storedRegos(env, c), ["R10", "R11", "R12"]);
  const names = await Promise.all(
    result.manifest.uploads.map(async (u) =>
      (await env.client.uploads.retrieve(u.upload_id!)).name
    ),
  );
  assertEquals(names, ["Cuts (part 1)", "Cuts (part 2)", "Cuts (part 3)"]);
});

Deno.test("bulk: exact multiples, a bad-only tail, an empty source", async () => {
  await using env = await setup();
  let r = await bulkUpload(env.client, customers(6), { name: "Even", batchSize: 3 });
  assertEquals(r.manifest.uploads.map((u) => [u.first_row, u.last_row]), [[0, 2], [3, 5]]);
  // A tail of bad rows is recorded without an upload, so a resumed run does not report it again.
  r = await bulkUpload(env.client, customers(5, new Set([3, 4])), { name: "Tail", batchSize: 3 });
  assertEquals(
    r.manifest.uploads.map((u) => [u.upload_id === null, u.first_row, u.last_row, u.bad_rows]),
    [[false, 0, 2, 0], [true, 3, 4, 2]],
  );
  r = await bulkUpload(env.client, customers(4, new Set([1, 2, 3])), { name: "T2", batchSize: 1 });
  assertEquals(
    r.manifest.uploads.map((u) => [u.upload_id === null, u.first_row, u.last_row, u.bad_rows]),
    [[false, 0, 0, 0], [true, 1, 3, 3]],
  );
  r = await bulkUpload(env.client, [], { name: "Empty" });
  assertEquals([r.manifest.uploads, r.badRows, r.progress.rowsRead], [[], [], 0]);
});

Deno.test("bulk: every bad row of a CSV is reported once, with its line and column", async () => {
  await using env = await setup();
  const csv = "Rego,State,VIN,Name,Sale Date\n" +
    "AB1,NSW,,Jo,01/03/2024\n" + // row 0, line 2: good
    "AB2,XX,,Lee,01/03/2024\n" + // row 1, line 3: bad state
    ",,,Nobody,\n" + // row 2, line 4: no rego or vin
    '"AB3",NSW,,"Multi\nline",31/02/2024\n' + // row 3, lines 5-6: bad date
    "AB4,VIC,SHORTVIN,Kim,\n" + // row 4, line 7: bad VIN
    "\n" +
    "AB5,QLD,,Sam,2024-01-01\n"; // row 5, line 9: good
  const seen: BadRow[] = [];
  const result = await bulkUpload(env.client, readCsv(new Blob([csv]).stream()), {
    name: "CSV",
    batchSize: 2,
    onBadRow: (b) => seen.push(b),
  });
  assertEquals(result.badRows, seen.sort((x, y) => x.index - y.index));
  assertEquals(result.badRows.map((b) => [b.index, b.line, b.issues.map((i) => i.field)]), [
    [1, 3, ["state"]],
    [2, 4, ["rego|vin"]],
    [3, 5, ["sale_date"]],
    [4, 7, ["vin"]],
  ]);
  assertEquals(result.badRows[2].issues[0].column, "Sale Date");
  assertStringIncludes(result.badRows[2].issues[0].reason, 'on line 5, column "Sale Date"');
  // Spans are cut at 2 good rows or 2 bad rows; together they cover lines 2 to 9.
  const spans = result.manifest.uploads;
  assertEquals([spans[0].first_line, spans.at(-1)!.last_line], [2, 9]);
  assertEquals(spans.reduce((n, u) => n + u.customers, 0), 2);
  assertEquals(spans.reduce((n, u) => n + u.bad_rows, 0), 4);
  assertEquals(await storedRegos(env), ["AB1", "AB5"]);
});

/**
 * Counts the upload POSTs in flight at once. Each one is held for one macrotask before it goes
 * through, so every POST that bulkUpload starts at the same time is seen overlapping (no sleep,
 * no timing: the hold ends on the event loop's next turn).
 */
function overlap(): { wrap: (inner: Fetch) => Fetch; peak: number } {
  let inFlight = 0;
  const counter = {
    peak: 0,
    wrap: (inner: Fetch): Fetch => async (request) => {
      if (request.method !== "POST") return await inner(request);
      counter.peak = Math.max(counter.peak, ++inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 0));
        return await inner(request);
      } finally {
        inFlight--;
      }
    },
  };
  return counter;
}

Deno.test("bulk: no more uploads in flight than the concurrency", async () => {
  const posts = overlap();
  await using env = await setup(posts.wrap);
  const r = await bulkUpload(env.client, customers(50), {
    name: "C",
    batchSize: 4,
    concurrency: 3,
  });
  assertEquals(r.progress.uploads, 13);
  assertEquals(posts.peak, 3);
  assertEquals((await storedRegos(env)).length, 50);
  posts.peak = 0;
  await bulkUpload(env.client, customers(20), { name: "C1", batchSize: 4, concurrency: 1 });
  assertEquals(posts.peak, 1);
});

Deno.test("bulk: cancelled midway, then resumed from the manifest: every row sent once", async () => {
  await using env = await setup();
  const bad = new Set([2, 17, 18, 40, 99]);
  const controller = new AbortController();
  const firstBad: BadRow[] = [];
  let saved: BulkManifest | undefined;
  const error = await assertRejects(
    () =>
      bulkUpload(env.client, customers(100, bad), {
        name: "Resumable",
        batchSize: 7,
        concurrency: 2,
        signal: controller.signal,
        onBadRow: (b) => firstBad.push(b),
        onManifest: (m) => {
          saved = JSON.parse(JSON.stringify(m)); // as a CLI would save it
          if (m.uploads.length === 4) controller.abort(new Error("user pressed Ctrl-C"));
        },
      }),
    BulkUploadError,
  );
  assertEquals(error.code, "bulk_upload_interrupted");
  assertEquals((error.cause as Error).message, "user pressed Ctrl-C");
  assertEquals(error.manifest, saved);
  const sentFirst = error.manifest.uploads.reduce((n, u) => n + u.customers, 0);
  assertGreater(sentFirst, 0);
  assert(sentFirst < 95, `stopped midway, sent ${sentFirst}`);
  assertEquals((await storedRegos(env)).length, sentFirst);

  const secondBad: BadRow[] = [];
  const resumed = await bulkUpload(env.client, customers(100, bad), {
    name: "Resumable",
    batchSize: 7,
    resume: saved,
    onBadRow: (b) => secondBad.push(b),
  });
  assertGreater(resumed.progress.rowsSkipped, 0);
  // Nothing twice, nothing missing, each bad row reported in exactly one of the two runs.
  const regos = await storedRegos(env);
  assertEquals(regos.length, 95);
  assertEquals(new Set(regos).size, 95);
  assertEquals([...firstBad, ...secondBad].map((b) => b.index).sort((x, y) => x - y), [...bad]);
  // The final manifest covers rows 0-99 with no overlap and no gap.
  let next = 0;
  for (const u of resumed.manifest.uploads) {
    assertEquals(u.first_row, next);
    next = u.last_row + 1;
  }
  assertEquals(next, 100);
  assertEquals(resumed.manifest.uploads.reduce((n, u) => n + u.customers, 0), 95);
  // Resuming a finished run sends nothing.
  const again = await bulkUpload(env.client, customers(100, bad), {
    name: "Resumable",
    batchSize: 7,
    resume: resumed.manifest,
  });
  assertEquals([again.progress.uploads, again.progress.rowsSkipped, again.badRows], [0, 100, []]);
  assertEquals((await storedRegos(env)).length, 95);
});

Deno.test("bulk: a failed upload stops the run with the manifest of what went through", async () => {
  let posts = 0;
  await using env = await setup((inner) => async (request) => {
    if (request.method === "POST" && ++posts === 3) {
      return Response.json({ error: true, message: "Injected failure" }, { status: 500 });
    }
    return await inner(request);
  });
  const error = await assertRejects(
    () => bulkUpload(env.client, customers(30), { name: "F", batchSize: 5, concurrency: 1 }),
    BulkUploadError,
  );
  assertInstanceOf(error.cause, ServerError);
  assertStringIncludes(error.message, "Injected failure");
  assertEquals(error.manifest.uploads.map((u) => [u.first_row, u.last_row]), [[0, 4], [5, 9]]);
  // A 5xx leaves the upload's fate unknown: it stays in flight, and is not found.
  assertEquals(error.manifest.in_flight?.map((s) => [s.first_row, s.last_row]), [[10, 14]]);
  const { manifest, unconfirmed } = await settleInFlight(env.client, error.manifest);
  assertEquals(unconfirmed.length, 1);
  // Here it provably never arrived (the 500 was injected before the sandbox): send it again.
  const { in_flight: _, ...resume } = manifest;
  const resumed = await bulkUpload(env.client, customers(30), {
    name: "F",
    batchSize: 5,
    resume,
  });
  assertEquals(resumed.progress.rowsUploaded, 20);
  const regos = await storedRegos(env);
  assertEquals([regos.length, new Set(regos).size], [30, 30]);
});

Deno.test("bulk: a status check failing after every row was sent still gives the manifest", async () => {
  let sent = false;
  await using env = await setup((inner) => async (request) => {
    if (sent && request.method === "GET") {
      return Response.json({ error: true, message: "Status hiccup" }, { status: 503 });
    }
    const response = await inner(request);
    if (request.method === "POST") sent = true;
    return response;
  });
  const error = await assertRejects(
    () =>
      bulkUpload(env.client, customers(20), {
        name: "P",
        waitForProcessing: true,
        pollIntervalMs: 5,
      }),
    BulkUploadError,
  );
  assertInstanceOf(error.cause, ServerError);
  assertStringIncludes(error.message, "sent every upload");
  assertEquals(error.allSent, true, "so the caller does not send the rows again");
  assertEquals(error.manifest.uploads.map((u) => [u.first_row, u.last_row]), [[0, 19]]);
});

Deno.test("bulk: a malformed line in the file stops the run, keeping what was sent", async () => {
  await using env = await setup();
  const csv = "Rego\n" + Array.from({ length: 2500 }, (_, i) => `A${i}\n`).join("") + '"broken\n';
  const error = await assertRejects(
    () =>
      bulkUpload(env.client, readCsv(new Blob([csv]).stream()), {
        name: "M",
        batchSize: 1000,
        concurrency: 1,
      }),
    BulkUploadError,
  );
  assertInstanceOf(error.cause, CsvError);
  assertEquals((error.cause as CsvError).line, 2502);
  assertStringIncludes(error.message, "Line 2502: a quoted field is never closed");
  // Full batches before the bad line went; the rest waits for the fixed file and a resume.
  assertEquals(
    error.manifest.uploads.map((u) => [u.first_line, u.last_line]),
    [[2, 1001], [1002, 2001]],
  );
  assertEquals((await storedRegos(env)).length, 2000);
});

Deno.test("bulk: waits for processing and reports progress that only moves forward", async () => {
  // The wait is bounded by the test's own signals (they only bound a failure, nothing is timed):
  // once every upload is sent and the sandbox says it has processed them all, bulkUpload must
  // see it within a few status polls; past 20, the run is stopped (and the test fails) instead
  // of polling forever. If polling stalls altogether, the 60 s signal stops the run.
  const stuck = new AbortController();
  let pollsAfterIdle = -1; // -1 until the sandbox has processed every upload
  await using env = await setup((inner) => async (request) => {
    if (request.method === "GET" && pollsAfterIdle >= 0 && ++pollsAfterIdle > 20) {
      stuck.abort(new Error("still polling 20 times after the sandbox processed every upload"));
    }
    return await inner(request);
  });
  const events: BulkProgress[] = [];
  let processed: Promise<void> | undefined;
  const r = await bulkUpload(env.client, customers(2500, new Set([5])), {
    name: "W",
    batchSize: 1000,
    waitForProcessing: true,
    pollIntervalMs: 10,
    signal: AbortSignal.any([stuck.signal, AbortSignal.timeout(60_000)]),
    onProgress: (p) => {
      events.push(p);
      if (p.phase === "processing") {
        processed ??= env.sandbox.idle().then(() => {
          pollsAfterIdle = 0;
        });
      }
    },
  });
  await processed;
  assertEquals(r.progress.phase, "done");
  assertEquals([r.progress.processed, r.progress.rowsUploaded, r.progress.errors], [2499, 2499, 0]);
  assert(r.uploads.every((u) => u.status === "completed"), JSON.stringify(r.uploads));
  assertEquals(events.at(-1), r.progress);
  for (let i = 1; i < events.length; i++) {
    for (const key of ["rowsRead", "rowsUploaded", "processed", "uploads"] as const) {
      assert(events[i][key] >= events[i - 1][key], `${key} went back at event ${i}`);
    }
  }
  assert(events.some((e) => e.phase === "processing"));
});

Deno.test("bulk: once processing is over, the wait sees every upload done in one sweep, 8 polls at a time", async () => {
  // 40 uploads. Every status poll of the processing phase is held until the sandbox has
  // processed everything, so the first sweep finds all 40 done: it must go on through them
  // (8 in flight at once, each asked once) instead of asking two per interval. The interval is
  // an hour: a second round would stop the run through the test's bounding signal.
  let inFlight = 0;
  let maxInFlight = 0;
  const asked: string[] = [];
  let sent = false;
  await using env = await setup((inner) => async (request) => {
    if (request.method !== "GET" || !sent) return await inner(request);
    asked.push(new URL(request.url).pathname);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      await env.sandbox.idle();
      return await inner(request);
    } finally {
      inFlight--;
    }
  });
  const r = await bulkUpload(env.client, customers(400), {
    name: "Sweep",
    batchSize: 10,
    waitForProcessing: true,
    pollIntervalMs: 3_600_000,
    signal: AbortSignal.timeout(60_000),
    onProgress: (p) => {
      if (p.phase === "processing") sent = true;
    },
  });
  assertEquals(r.uploads.length, 40);
  assert(r.uploads.every((u) => u.status === "completed"), JSON.stringify(r.uploads));
  assertEquals(asked.length, 40, asked.join(" "));
  assertEquals(new Set(asked).size, 40);
  assertEquals(maxInFlight, 8);
});

Deno.test("bulk: bad options are refused before anything is sent", async () => {
  await using env = await setup();
  await assertRejects(() => bulkUpload(env.client, [], { name: "x", batchSize: 0 }), RangeError);
  await assertRejects(
    () => bulkUpload(env.client, [], { name: "x", concurrency: 1.5 }),
    RangeError,
  );
  await assertRejects(() => bulkUpload(env.client, [], { name: " " }), TypeError);
  await assertRejects(
    () =>
      bulkUpload(env.client, [], { name: "x", resume: { version: 2 } as unknown as BulkManifest }),
    TypeError,
    "not a bulk upload manifest",
  );
  await assertRejects(
    () =>
      bulkUpload(env.client, [], {
        name: "x",
        region: "nz",
        resume: { version: 1, name: "x", region: "au", uploads: [] },
      }),
    TypeError,
    "region au, not nz",
  );
});

Deno.test("validateRows: the same checks as bulkUpload, nothing sent", async () => {
  const csv = "Rego,State,Sale Date\nA1,NSW,01/03/2024\nA2,XX,\n,NSW,\nA4,VIC,30/02/2024\n";
  const seen: number[] = [];
  const report = await validateRows(readCsv(new Blob([csv]).stream()), {
    onBadRow: (b) => seen.push(b.line!),
  });
  assertEquals([report.rowsRead, report.valid, report.badCount], [4, 1, 3]);
  assertEquals(seen, [3, 4, 5]);
  assertEquals(report.badRows.map((b) => b.issues.map((i) => i.field)), [
    ["state"],
    ["rego|vin"],
    ["sale_date"],
  ]);
  // Region nz: any state is accepted.
  const nz = await validateRows([{ rego: "A1", state: "Auckland" }], { region: "nz" });
  assertEquals([nz.valid, nz.badCount], [1, 0]);
});

Deno.test("bulk: a progress poll before the first upload exists does not stall the wait", async () => {
  // The poll timer fires while the first POST is still on its way: there is nothing to poll yet.
  // Later polls must still run, so waiting for processing ends. The signal only bounds a failure.
  let release!: () => void;
  const firstPostHeld = new Promise<void>((resolve) => release = resolve);
  let polledEmpty = false;
  await using env = await setup((inner) => async (request) => {
    if (request.method === "POST") await firstPostHeld;
    return inner(request);
  });
  const signal = AbortSignal.timeout(30_000);
  const run = bulkUpload(env.client, customers(10), {
    name: "Early poll",
    batchSize: 10,
    waitForProcessing: true,
    pollIntervalMs: 1,
    signal,
    onProgress: (p) => {
      if (p.phase === "uploading" && p.uploads === 0 && !polledEmpty) {
        polledEmpty = true;
        setTimeout(release, 20);
      }
    },
  });
  const r = await run;
  assert(polledEmpty, "the run never reported progress before its first upload");
  assertEquals([r.progress.phase, r.progress.processed], ["done", 10]);
});

Deno.test("bulk: no rows are read ahead while every upload slot is busy (backpressure)", async () => {
  let read = 0;
  let readWhenSent = -1;
  let answer: (() => void) | undefined;
  const answered = new Promise<void>((resolve) => answer = resolve);
  await using env = await setup((inner) => async (request) => {
    if (readWhenSent === -1) {
      // Hold the first upload: with one slot, it is busy until this answers.
      await new Promise((resolve) => setTimeout(resolve, 50));
      readWhenSent = read;
      answer!();
    }
    return await inner(request);
  });
  function* customers() {
    for (let i = 0; i < 3000; i++) {
      read++;
      yield { rego: `BP${i}`, state: "NSW" };
    }
  }
  const result = await bulkUpload(env.client, customers(), {
    name: "Backpressure",
    batchSize: 1000,
    concurrency: 1,
  });
  await answered;
  // The first batch (1000 rows) is sent; nothing more is read until its slot frees up.
  assertEquals(readWhenSent, 1000);
  assertEquals(result.progress.rowsUploaded, 3000);
  assertEquals(result.manifest.uploads.map((u) => [u.first_row, u.last_row, u.customers]), [
    [0, 999, 1000],
    [1000, 1999, 1000],
    [2000, 2999, 1000],
  ]);
  assertEquals((await storedRegos(env)).length, 3000);
});

Deno.test("a rego that looks like a date is sent with a suspicious_value warning, as written", async () => {
  // Dashes and spaces are dropped from a rego before it is sent, so the check must see the
  // value as the file wrote it: "12-03-2024" is sent as 12032024, a valid rego.
  const report = await validateRows([
    { rego: "12-03-2024", state: "VIC" },
    { rego: "2024-03-12", state: "VIC" },
    { rego: "ABC-123", state: "VIC" },
  ]);
  assertEquals(report.valid, 3);
  assertEquals(
    report.warnings.map((w) => [w.index, w.kind, w.field]),
    [[0, "suspicious_value", "rego"], [1, "suspicious_value", "rego"]],
  );
  assertEquals(
    report.warnings[0].message,
    "12-03-2024 looks like a date, not a rego: is the column right?",
  );
});

Deno.test("bulkUpload: an upload is in the manifest as in flight before its POST; settleInFlight finds the one whose answer was lost", async () => {
  let posts = 0;
  const saved: BulkManifest[] = [];
  await using env = await setup((inner) => async (request) => {
    if (request.method !== "POST" || posts >= 2) return await inner(request);
    posts++;
    // Each POST goes out only once the manifest saved says it is in flight.
    assertEquals(saved.at(-1)?.in_flight?.at(-1)?.name, `March (part ${posts})`);
    const answer = await inner(request);
    if (posts === 2) throw new TypeError("connection reset"); // it arrived; the answer is lost
    return answer;
  });
  const rows = Array.from({ length: 30 }, (_, i) => ({ rego: `INF${i}`, state: "NSW" }));
  const error = await assertRejects(
    () =>
      bulkUpload(env.client, rows, {
        name: "March",
        batchSize: 10,
        concurrency: 1,
        onManifest: (m) => {
          saved.push(m);
        },
      }),
    BulkUploadError,
  );
  const manifest = error.manifest;
  assertEquals(manifest.in_flight?.map((s) => [s.first_row, s.last_row]), [[10, 19]]);
  // Not resumed blindly: the rows in flight would be sent twice.
  await assertRejects(
    () => bulkUpload(env.client, rows, { name: "March", resume: manifest }),
    TypeError,
    "in flight",
  );
  await env.sandbox.idle();
  const { manifest: settled, unconfirmed } = await settleInFlight(env.client, manifest);
  assertEquals(unconfirmed, []);
  assertEquals(settled.uploads.map((u) => [u.first_row, u.upload_id !== null]), [[0, true], [
    10,
    true,
  ]]);
  await bulkUpload(env.client, rows, { name: "March", resume: settled });
  await env.sandbox.idle();
  const all = await env.client.customers.list({ limit: 100 });
  assertEquals(all.customers.map((c) => c.rego).sort(), rows.map((r) => r.rego).sort());

  // A span whose upload never arrived stays unconfirmed.
  const lost = { ...manifest.in_flight![0], name: "March (part 99)" };
  const again = await settleInFlight(env.client, { ...settled, in_flight: [lost] });
  assertEquals(again.unconfirmed.map((s) => s.name), ["March (part 99)"]);
});
