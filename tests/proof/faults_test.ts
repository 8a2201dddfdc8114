/**
 * Proof, faults during processing: KV queue messages delivered again (before, during and after
 * processing), the sandbox process killed with SIGKILL mid-chunk several times in a row on the
 * same KV file, and cancels racing with processing. Afterwards no customer is lost or
 * duplicated and the counters add up.
 */
import { assert, assertEquals } from "@std/assert";
import { SECRETS, serve } from "./_helpers.ts";
import { type SandboxChild as Child, startSandboxProcess as start } from "../sandbox/_helpers.ts";

const SANDBOX_KEY = "sec_sandbox_development_key";

interface UploadView {
  id: string;
  status: string;
  total_uploaded_customers: number;
  total_processed_customers: number;
  total_errors: number;
}

/** Rows with distinct regos; every 25th lacks rego and vin (a processing-time row error). */
function mixedRows(n: number, tag: string): Record<string, unknown>[] {
  return Array.from(
    { length: n },
    (_, i) =>
      i % 25 === 24
        ? { client_name: `no vehicle ${i}` }
        : { rego: `${tag}${i.toString(36).toUpperCase()}`, state: "VIC" },
  );
}

/** Every customer of an upload, paged; checks ids and regos are unique. */
async function customersOf(
  base: string,
  key: string,
  uploadId: string,
  fetcher: (r: Request) => Promise<Response> = fetch,
): Promise<{ ids: Set<string>; regos: Set<string>; total: number }> {
  const ids = new Set<string>();
  const regos = new Set<string>();
  let total = -1;
  for (let offset = 0;; offset += 1000) {
    const res = await fetcher(
      new Request(
        `${base}/v2/recapture/customers?region=au&upload_id=${uploadId}&limit=1000&offset=${offset}`,
        { headers: { ApiKey: key } },
      ),
    );
    assertEquals(res.status, 200);
    const page = await res.json();
    total = page.total;
    for (const c of page.customers as { id: string; rego: string }[]) {
      assert(!ids.has(c.id), `duplicate customer id ${c.id}`);
      assert(!regos.has(c.rego), `duplicate customer rego ${c.rego}`);
      ids.add(c.id);
      regos.add(c.rego);
    }
    if (page.customers.length < 1000) break;
  }
  return { ids, regos, total };
}

Deno.test("proof: redelivered queue messages create nothing twice", async () => {
  const served = await serve({ chunkSize: 50 });
  const kv = served.sandbox.kv;
  let redelivered = 0;
  try {
    const n = 3000;
    const res = await fetch(`${served.url}/v2/recapture/upload?region=au`, {
      method: "POST",
      headers: { ApiKey: SECRETS.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "redeliver", customers: mixedRows(n, "RD") }),
    });
    assertEquals(res.status, 201);
    const uploadId = (await res.json()).upload.id as string;
    // The chunk messages as the sandbox enqueued them, recovered from the stored parts.
    const parts = new Map<number, number>();
    for await (const e of kv.list({ prefix: ["rc", "chunk", uploadId] })) {
      const i = e.key[3] as number;
      parts.set(i, (parts.get(i) ?? 0) + 1);
    }
    const messages = [...parts].map(([i, p]) => ({ rc: "chunk", u: uploadId, i, p }));
    // Deliver each again three times: while the first delivery is queued or processing...
    for (let round = 0; round < 3; round++) {
      for (const m of messages) await kv.enqueue(m);
      redelivered += messages.length;
    }
    await served.sandbox.idle();
    // ...and again after everything is done.
    for (const m of messages) await kv.enqueue(m, { delay: 0 });
    redelivered += messages.length;
    await new Promise((r) => setTimeout(r, 300));
    await served.sandbox.idle();
    const view: UploadView = (await (await fetch(
      `${served.url}/v2/recapture/upload/${uploadId}?region=au`,
      { headers: { ApiKey: SECRETS.apiKey } },
    )).json()).upload;
    const bad = Math.floor(n / 25);
    assertEquals(
      [
        view.status,
        view.total_uploaded_customers,
        view.total_processed_customers,
        view.total_errors,
      ],
      ["completed", n, n, bad],
    );
    const { ids, total } = await customersOf(served.url, SECRETS.apiKey, uploadId);
    assertEquals(ids.size, n - bad);
    assertEquals(total, n - bad);
    console.log(
      `proof redelivery: ${messages.length} chunks, ${redelivered} extra deliveries, ` +
        `${ids.size} customers stored once, 0 lost, 0 duplicated`,
    );
  } finally {
    await served.close();
  }
});

Deno.test("proof: cancels racing with processing lose and duplicate nothing", async () => {
  const served = await serve({ chunkSize: 25 });
  const summary: string[] = [];
  try {
    for (const delay of [0, 10, 25, 40, 60, 90, 1500]) {
      const n = 2000;
      const res = await fetch(`${served.url}/v2/recapture/upload?region=au`, {
        method: "POST",
        headers: { ApiKey: SECRETS.apiKey, "Content-Type": "application/json" },
        body: JSON.stringify({ name: `race ${delay}`, customers: mixedRows(n, `C${delay}X`) }),
      });
      const uploadId = (await res.json()).upload.id as string;
      await new Promise((r) => setTimeout(r, delay));
      const url = `${served.url}/v2/recapture/upload/${uploadId}?region=au`;
      const headers = { ApiKey: SECRETS.apiKey };
      const [c1, c2] = await Promise.all([
        fetch(url, { method: "DELETE", headers }),
        fetch(url, { method: "DELETE", headers }),
      ]);
      assertEquals([c1.status, c2.status], [200, 200]);
      await c1.body?.cancel();
      await c2.body?.cancel();
      await served.sandbox.idle();
      const view: UploadView = (await (await fetch(url, { headers })).json()).upload;
      const { ids, total } = await customersOf(served.url, SECRETS.apiKey, uploadId);
      // Whatever was processed before the cancel is there exactly once; nothing after it.
      assert(view.total_processed_customers <= n);
      assertEquals(ids.size, view.total_processed_customers - view.total_errors);
      assertEquals(total, ids.size);
      // Nothing moves afterwards.
      await new Promise((r) => setTimeout(r, 100));
      await served.sandbox.idle();
      const later: UploadView = (await (await fetch(url, { headers })).json()).upload;
      assertEquals(later.total_processed_customers, view.total_processed_customers);
      if (view.status === "completed") assertEquals(view.total_processed_customers, n);
      summary.push(`${delay}ms:${view.status}/${view.total_processed_customers}`);
    }
  } finally {
    await served.close();
  }
  console.log(`proof cancel races (delay:status/processed of 2000): ${summary.join(" ")}`);
});

async function kill(child: Child): Promise<void> {
  try {
    child.process.kill("SIGKILL");
  } catch { /* already gone */ }
  await child.process.status;
  await child.drained;
}

async function status(child: Child, uploadId: string): Promise<UploadView> {
  const res = await fetch(`${child.url}/v2/recapture/upload/${uploadId}?region=au`, {
    headers: { ApiKey: SANDBOX_KEY },
  });
  return (await res.json()).upload;
}

Deno.test("proof: SIGKILL mid-chunk four times in a row, then every customer exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "recapture_proof_kill_" });
  const path = `${dir}/sandbox.kv`;
  const n = 30_000;
  const bad = Math.floor(n / 25);
  let child = await start(path);
  const progress: number[] = [];
  try {
    const res = await fetch(`${child.url}/v2/recapture/upload?region=au`, {
      method: "POST",
      headers: { ApiKey: SANDBOX_KEY, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "kill", customers: mixedRows(n, "K") }),
    });
    assertEquals(res.status, 201);
    const uploadId = (await res.json()).upload.id as string;
    let last = -1;
    for (let round = 0; round < 4; round++) {
      // Wait until this process has moved processing on (mid-upload), then kill it unwarned.
      const until = Date.now() + 5000;
      let seen = await status(child, uploadId);
      while (seen.total_processed_customers <= last && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 5));
        seen = await status(child, uploadId);
      }
      last = seen.total_processed_customers;
      progress.push(last);
      await kill(child);
      child = await start(path);
    }
    assert(progress[progress.length - 1] < n, "the last kill came before the upload finished");
    const deadline = Date.now() + 45_000;
    let view = await status(child, uploadId);
    while (view.total_processed_customers < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      view = await status(child, uploadId);
    }
    assertEquals(
      [view.total_uploaded_customers, view.total_processed_customers, view.total_errors],
      [n, n, bad],
    );
    const { ids, regos, total } = await customersOf(child.url, SANDBOX_KEY, uploadId);
    const expected = mixedRows(n, "K").filter((r) => r.rego).map((r) => r.rego as string);
    assertEquals(ids.size, n - bad);
    assertEquals(total, n - bad);
    assertEquals([...regos].sort(), expected.sort());
    console.log(
      `proof kill -9 x4: processed before each kill ${progress.join(", ")}; ` +
        `${ids.size} of ${
          n - bad
        } customers stored, 0 lost, 0 duplicated, errors ${view.total_errors}`,
    );
  } finally {
    await kill(child);
    await Deno.remove(dir, { recursive: true });
  }
});
