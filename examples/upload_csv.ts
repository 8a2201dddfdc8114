/**
 * Upload a CSV export with progress: the file is streamed (never held whole in memory), columns
 * are mapped by their headers (`Rego`, `Plate`, `VIN`, `Customer Name`, `Mobile`, `Sale
 * Date`...; unknown columns go to `additional_fields`), every row is validated, bad rows are
 * reported with their line and field and not sent, and the good ones go up in batches.
 *
 * ```sh
 * deno run -A examples/upload_csv.ts                                  # examples/data/customers.csv, sandbox
 * deno run -A examples/upload_csv.ts exports/march.csv --batch 5000   # your file
 * RECAPTURE_API_KEY=sec_... deno run -A examples/upload_csv.ts march.csv   # the real API
 * ```
 *
 * The manifest printed at the end (upload ids and the rows each covers) is what `bulkUpload`
 * takes as `resume` to continue an interrupted run without sending a row twice.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RecaptureClient } from "@recapture/sdk";
import { type BulkProgress, bulkUpload } from "@recapture/sdk/bulk";
import { readCsv } from "@recapture/sdk/csv";
import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { batch: { type: "string", default: "5000" }, name: { type: "string" } },
});
const path = positionals[0] ?? new URL("./data/customers.csv", import.meta.url).pathname;
const batchSize = Number(values.batch);
if (!Number.isInteger(batchSize) || batchSize < 1) {
  console.error(`--batch must be a positive whole number (got "${values.batch}")`);
  Deno.exit(2);
}

const apiKey = Deno.env.get("RECAPTURE_API_KEY");
const sandbox = apiKey ? undefined : await createSandbox();
const client = new RecaptureClient(
  sandbox ? { apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch } : { apiKey },
);

let last = -Infinity;
function show(p: BulkProgress): void {
  const now = performance.now();
  if (p.phase !== "done" && now - last < 250) return; // at most 4 lines a second
  last = now;
  console.log(
    `${p.phase.padEnd(10)} read ${p.rowsRead}, bad ${p.badRows}, sent ${p.rowsUploaded} ` +
      `in ${p.uploads} upload(s), processed ${p.processed} (${p.errors} errors)`,
  );
}

const file = await Deno.open(path);
try {
  const result = await bulkUpload(client, readCsv(file.readable), {
    name: values.name ?? `CSV ${path.split("/").at(-1)}`,
    batchSize,
    waitForProcessing: true,
    pollIntervalMs: sandbox ? 50 : 2000,
    onProgress: show,
  });
  for (const bad of result.badRows) {
    const what = bad.issues.map((i) => `${i.column ?? i.field}: ${i.reason}`).join("; ");
    console.log(`  line ${bad.line ?? "?"} not sent: ${what}`);
  }
  for (const u of result.manifest.uploads) {
    console.log(`  upload ${u.upload_id}: rows ${u.first_row}-${u.last_row}, ${u.customers} sent`);
  }
} finally {
  await sandbox?.idle();
  await sandbox?.close();
}
