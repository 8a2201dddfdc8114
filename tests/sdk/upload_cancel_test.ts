// Cancel says what really happened: `outcome.result` is "cancelled" (with how many customers
// will not be created) or "already_completed" (nothing cancelled). Processing is held at a known
// chunk by the sandbox's `beforeChunk` hook: no timing bet.

import { assertEquals } from "@std/assert";
import { RecaptureClient } from "../../src/sdk/client.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

/** A gate the hook waits on for chunks at or after `from`; `open()` lets them through. */
function gate(from: number) {
  const opened = Promise.withResolvers<void>();
  return {
    hook: (_upload: string, index: number) => index >= from ? opened.promise : undefined,
    open: () => opened.resolve(),
  };
}

Deno.test("cancel mid-way: outcome cancelled, the rows not processed are never created", async () => {
  const hold = gate(1);
  const sandbox = await createSandbox({ chunkSize: 2, beforeChunk: hold.hook });
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const customers = Array.from({ length: 6 }, (_, i) => ({ rego: `CAN${i}`, state: "NSW" }));
    const upload = await client.uploads.create({ name: "held", customers });
    // Chunk 0 goes through; chunks 1 and 2 wait at the gate: processing stops at exactly 2.
    let seen = await client.uploads.retrieve(upload.id);
    while (seen.total_processed_customers < 2) seen = await client.uploads.retrieve(upload.id);
    const cancelled = await client.uploads.cancel(upload.id);
    assertEquals(cancelled.status, "cancelled");
    assertEquals(cancelled.outcome, { result: "cancelled", notProcessed: 4 });
    // The wire fields are untouched: `outcome` is not one of them.
    assertEquals(Object.keys(cancelled).includes("outcome"), false);
    hold.open();
    await sandbox.idle();
    const stored = [];
    for await (const c of client.customers.iterate({ upload_id: upload.id })) stored.push(c.rego);
    assertEquals(stored, ["CAN0", "CAN1"]);
  } finally {
    hold.open();
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("cancel after completion: outcome already_completed, nothing cancelled", async () => {
  const sandbox = await createSandbox();
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const upload = await client.uploads.create({ name: "done", customers: [{ rego: "DONE1" }] });
    await sandbox.idle();
    const answer = await client.uploads.cancel(upload.id);
    assertEquals(answer.outcome, { result: "already_completed", notProcessed: 0 });
    assertEquals(answer.total_processed_customers, 1);
    assertEquals((await client.customers.list({ upload_id: upload.id })).customers.length, 1);
  } finally {
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("cancel twice: the second says already_cancelled and changes nothing", async () => {
  const hold = gate(1);
  const sandbox = await createSandbox({ chunkSize: 2, beforeChunk: hold.hook });
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const customers = Array.from({ length: 6 }, (_, i) => ({ rego: `TWI${i}`, state: "NSW" }));
    const upload = await client.uploads.create({ name: "held", customers });
    let seen = await client.uploads.retrieve(upload.id);
    while (seen.total_processed_customers < 2) seen = await client.uploads.retrieve(upload.id);
    assertEquals((await client.uploads.cancel(upload.id)).outcome.result, "cancelled");
    const again = await client.uploads.cancel(upload.id);
    assertEquals(again.outcome, { result: "already_cancelled", notProcessed: 4 });
    assertEquals(again.status, "cancelled");
  } finally {
    hold.open();
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("cancel whose first answer is lost: the retried DELETE still says cancelled", async () => {
  // The API answers a second cancel with the upload unchanged (no 404), so the retry after a lost
  // answer reports what the first attempt did.
  const hold = gate(1);
  const sandbox = await createSandbox({ chunkSize: 2, beforeChunk: hold.hook });
  let lost = 0;
  try {
    const client = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      timeoutMs: 50,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      fetch: async (request) => {
        const answer = await sandbox.fetch(request);
        if (request.method === "DELETE" && lost++ === 0) {
          await new Promise((r) => setTimeout(r, 150)); // the cancel is done; its answer is late
        }
        return answer;
      },
    });
    const customers = Array.from({ length: 6 }, (_, i) => ({ rego: `LOS${i}`, state: "NSW" }));
    const upload = await client.uploads.create({ name: "held", customers });
    let seen = await client.uploads.retrieve(upload.id);
    while (seen.total_processed_customers < 2) seen = await client.uploads.retrieve(upload.id);
    const cancelled = await client.uploads.cancel(upload.id);
    assertEquals(lost, 2); // two DELETEs: the first timed out
    assertEquals(cancelled.outcome, { result: "cancelled", notProcessed: 4 });
  } finally {
    hold.open();
    await new Promise((r) => setTimeout(r, 160));
    await sandbox.idle();
    await sandbox.close();
  }
});
