// A 200k-row file as one job: 40 uploads under one job id, followed with jobStatus and stopped
// with cancelJob mid-way. Processing is held at a known point by the sandbox's beforeChunk hook
// (no timing bet). Afterwards: stored + not stored = rows, from the manifest and the customers
// each upload really created (listed by upload_id, no processing order assumed); a resumed run
// from reopenCancelled sends exactly the rows not stored, and no customer is there twice.

import { assert, assertEquals, assertGreater } from "@std/assert";
import {
  bulkUpload,
  cancelJob,
  jobStatus,
  reopenCancelled,
  waitForJob,
} from "../../src/import/bulk.ts";
import { RecaptureClient } from "../../src/sdk/client.ts";
import { isUploadDone } from "../../src/sdk/uploads.ts";
import { readCsv } from "../../src/import/csv.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

const ROWS = 200_000;
/** Chunks let through before the gate holds the rest (450 customers each). */
const PASS = 60;

/**
 * A sandbox whose processing lets `pass` chunks through, then holds: `held` resolves when it
 * has reached the gate, `open()` lets the rest through.
 */
async function gatedSandbox(pass: number) {
  const opened = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const sandbox = await createSandbox({
    beforeChunk: () => {
      if (++calls <= pass) return;
      held.resolve(); // processing has reached the gate
      return opened.promise;
    },
  });
  return { sandbox, held: held.promise, open: () => opened.resolve() };
}

function file(): string {
  const lines = ["Rego,State,Customer Name"];
  for (let i = 0; i < ROWS; i++) lines.push(`J${i.toString(36).toUpperCase()},NSW,Customer ${i}`);
  return lines.join("\n") + "\n";
}

Deno.test("a 200k-row file is one job: status and cancel by job, resume sends exactly the rest", async () => {
  const { sandbox, held, open } = await gatedSandbox(PASS);
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const text = file();
    const sent = await bulkUpload(client, readCsv(new Blob([text]).stream()), {
      name: "big file",
      batchSize: 5000,
    });
    const manifest = sent.manifest;
    assertEquals(manifest.uploads.length, 40);
    assert(manifest.job_id?.startsWith("job_"));
    await held;

    const status = await jobStatus(client, manifest);
    assertEquals(status.job_id, manifest.job_id);
    assertEquals(status.uploads.length, 40);
    assertEquals(status.total_uploaded_customers, ROWS);
    assertEquals(status.done, false);

    const cancel = await cancelJob(client, manifest);
    assertEquals(cancel.result, "cancelled");
    assertGreater(cancel.cancelled_uploads, 0);
    open();
    await sandbox.idle();

    // What each upload really created, listed by upload_id.
    let stored = 0;
    for (const entry of manifest.uploads) {
      for await (
        const _ of client.customers.iterate({ upload_id: entry.upload_id!, pageSize: 1000 })
      ) stored++;
    }
    const after = await jobStatus(client, manifest);
    assertEquals(after.done, true);
    assertEquals(stored, after.total_processed_customers - after.total_errors);
    assertEquals(stored + cancel.not_processed, ROWS); // stored + not stored = rows
    assertGreater(stored, 0);
    assertGreater(cancel.not_processed, 0);

    // Resume: exactly the rows not stored are sent, under the same job.
    const resume = await reopenCancelled(client, manifest);
    assertEquals(resume.job_id, manifest.job_id);
    const again = await bulkUpload(client, readCsv(new Blob([text]).stream()), {
      name: "big file",
      batchSize: 5000,
      resume,
    });
    assertEquals(again.progress.rowsUploaded, cancel.not_processed);
    assertEquals(again.progress.rowsSkipped, stored);
    assertEquals(again.manifest.job_id, manifest.job_id);
    await sandbox.idle();
    const final = await jobStatus(client, again.manifest);
    assertEquals(final.done, true);
    // Every row once: 200k customers, 200k distinct regos.
    const regos = new Set<string>();
    let total = 0;
    for await (const c of client.customers.iterate({ pageSize: 1000 })) {
      regos.add(c.rego!);
      total++;
    }
    assertEquals(total, ROWS);
    assertEquals(regos.size, ROWS);
  } finally {
    open();
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("waitForJob asks again only about the uploads not done yet", async () => {
  // Processing lets one chunk through (one whole upload of 10 rows), then holds. The first
  // round sees that upload done and the 4 others not; the gate opens, and the next round's
  // polls wait until the sandbox is idle: it must ask about the 4 only, and see the job done.
  const { sandbox, held, open } = await gatedSandbox(1);
  try {
    let rounds = 0;
    const asked: string[] = [];
    const client = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      fetch: async (request) => {
        if (request.method === "GET") {
          asked.push(new URL(request.url).pathname.split("/").at(-1)!);
          if (rounds > 0) await sandbox.idle();
        }
        return await sandbox.fetch(request);
      },
    });
    const lines = Array.from({ length: 50 }, (_, i) => `W${i},NSW`);
    const sent = await bulkUpload(
      client,
      readCsv(new Blob(["Rego,State\n" + lines.join("\n")]).stream()),
      {
        name: "wait",
        batchSize: 10,
      },
    );
    assertEquals(sent.manifest.uploads.length, 5);
    await held;
    // The gate holds the next chunk as soon as it starts, which can be before the chunk let
    // through has committed (chunks run in a pipeline): wait until that chunk's upload reads
    // completed, so that the first round below sees exactly one upload done.
    const direct = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const ids = sent.manifest.uploads.flatMap((u) => u.upload_id === null ? [] : [u.upload_id]);
    while (!(await Promise.all(ids.map((id) => direct.uploads.retrieve(id)))).some(isUploadDone)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seen: number[] = [];
    const status = await waitForJob(client, sent.manifest, {
      signal: AbortSignal.timeout(60_000),
      onProgress: (s) => {
        seen.push(s.uploads.filter((u) => u.status === "completed").length);
        rounds++;
        open();
      },
    });
    assert(status.done);
    assertEquals(status.total_processed_customers, 50);
    assertEquals(seen, [1, 5]);
    assertEquals(asked.length, 9, asked.join(" "));
    const once = sent.manifest.uploads.filter((u) =>
      asked.filter((a) => a === u.upload_id).length === 1
    );
    assertEquals(once.length, 1);
  } finally {
    open();
    await sandbox.idle();
    await sandbox.close();
  }
});
