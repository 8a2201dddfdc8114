/**
 * Processing in the sandbox: durable acceptance, exactly-once chunks, counters and their
 * invariants, row errors with reasons, rego lookups, cancel, expiry and the sweep, and the access
 * rules of uploads and customers.
 */
import { assert, assertEquals, assertGreater, assertNotEquals } from "@std/assert";
import { newUploadId } from "../../src/sandbox/_ids.ts";
import { ACCOUNTS, call, customers, kvKeys, testSandbox } from "./_helpers.ts";

const UPLOAD = "/v2/recapture/upload?region=au";

/** `id` with its last character changed (ids end in a random base-36 character). */
const otherLast = (id: string): string => id.slice(0, -1) + (id.endsWith("x") ? "y" : "x");

Deno.test("acceptance is durable: a sandbox closed right after the POST finishes the upload on restart", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sandbox.kv`;
  try {
    const first = await testSandbox({ path, chunkSize: 50 });
    const up = await call(first, "POST", UPLOAD, {
      body: { name: "durable", customers: customers(2000) },
    });
    assertEquals(up.status, 201);
    assertEquals(up.body.upload!.total_uploaded_customers, 2000);
    await first.close();

    const second = await testSandbox({ path, chunkSize: 50 });
    try {
      await second.idle();
      const status = await call(
        second,
        "GET",
        `/v2/recapture/upload/${up.body.upload!.id}?region=au`,
      );
      assertEquals(status.body.upload!.status, "completed");
      assertEquals(status.body.upload!.total_processed_customers, 2000);
      const list = await call(
        second,
        "GET",
        "/v2/recapture/customers?region=au&limit=1000&offset=1000",
      );
      assertEquals(list.body.total, 2000);
      assertEquals(list.body.customers!.length, 1000);
      assertEquals(await kvKeys(second, "chunk"), [], "processed chunks are deleted");
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("counters: processed includes errors, each bad row recorded with its field and reason", async () => {
  const sb = await testSandbox({ chunkSize: 7 });
  try {
    const rows: Record<string, unknown>[] = customers(40);
    rows[3] = { client_name: "no vehicle" };
    rows[11] = { vin: "1HGCM82633A00435O" };
    rows[17] = { rego: "ABC123", state: "XYZ" };
    rows[25] = { rego: "ABC124", state: "VIC", sale_date: "2024-02-30" };
    rows[33] = { rego: "ABC125", state: "VIC", mobile_number: "not a phone" };
    rows[34] = {
      vin: "1HGCM82633A004352",
      monitor_start_date: "2024-05-01",
      monitor_end_date: "2024-01-01",
    };
    const up = await call(sb, "POST", UPLOAD, { body: { name: "mixed", customers: rows } });
    assertEquals(up.body.upload!.status, "queued");
    const id = up.body.upload!.id;
    // While processing: the invariants hold at every look.
    for (let i = 0; i < 20; i++) {
      const u = (await call(sb, "GET", `/v2/recapture/upload/${id}?region=au`)).body.upload!;
      assert(u.total_processed_customers <= u.total_uploaded_customers);
      assert(u.total_errors <= u.total_processed_customers);
      await new Promise((r) => setTimeout(r, 1));
    }
    await sb.idle();
    const u = (await call(sb, "GET", `/v2/recapture/upload/${id}?region=au`)).body.upload!;
    assertEquals(u.status, "completed");
    assertEquals([u.total_uploaded_customers, u.total_processed_customers, u.total_errors], [
      40,
      40,
      6,
    ]);
    assertEquals(u.errors.map((e) => [e.index, e.field]), [
      [3, "rego"],
      [11, "vin"],
      [17, "state"],
      [25, "sale_date"],
      [33, "mobile_number"],
      [34, "monitor_end_date"],
    ]);
    assertEquals(u.errors[0].reason, "a customer needs a rego or a VIN");
    assertEquals(
      u.errors[2].reason,
      'must be one of NSW, VIC, QLD, SA, WA, TAS, NT, ACT (got "XYZ")',
    );
    const list = await call(
      sb,
      "GET",
      `/v2/recapture/customers?region=au&upload_id=${id}&limit=100`,
    );
    assertEquals(list.body.total, 34);
    const names = list.body.customers!.map((c) => c.client_name);
    assertEquals(
      names,
      customers(40).map((c) => c.client_name).filter((_, i) =>
        ![3, 11, 17, 25, 33, 34].includes(i)
      ),
    );
  } finally {
    await sb.close();
  }
});

Deno.test("exactly once: redelivered and duplicated chunk messages create nothing twice", async () => {
  const sb = await testSandbox({ chunkSize: 10 });
  try {
    const up = await call(sb, "POST", UPLOAD, { body: { name: "dup", customers: customers(95) } });
    const id = up.body.upload!.id;
    // Duplicate every chunk message (as a redelivery after a crash would), several times over:
    // one chunk per message (as earlier versions queued them) and runs of chunks per message.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) await sb.kv.enqueue({ rc: "chunk", u: id, i, p: 1 });
      await sb.kv.enqueue({ rc: "chunk", u: id, i: 0, p: Array(10).fill(1) });
      await sb.kv.enqueue({ rc: "chunk", u: id, i: 3, p: [1, 1, 1] });
    }
    await sb.idle();
    await new Promise((r) => setTimeout(r, 50));
    await sb.idle();
    const u = (await call(sb, "GET", `/v2/recapture/upload/${id}?region=au`)).body.upload!;
    assertEquals([u.total_processed_customers, u.total_errors], [95, 0]);
    assertEquals((await kvKeys(sb, "cust")).length, 95);
    assertEquals((await kvKeys(sb, "done")).length, 10);
    const list = await call(sb, "GET", "/v2/recapture/customers?region=au&limit=1000");
    assertEquals(list.body.total, 95);
    assertEquals(new Set(list.body.customers!.map((c) => c.rego)).size, 95);
  } finally {
    await sb.close();
  }
});

Deno.test("rego lookups: counted, deterministic, only for rows with a rego (and state in AU) and no VIN", async () => {
  const sb = await testSandbox();
  try {
    const rows = [
      { rego: "abc 123", state: "nsw" }, // looked up
      { rego: "ABC123", state: "NSW", vin: "1HGCM82633A004352" }, // has a VIN
      { rego: "XYZ999" }, // AU without state: no lookup
      { rego: "LMN456", state: "QLD" }, // looked up
    ];
    const a = await call(sb, "POST", UPLOAD, {
      body: { name: "a", enable_rego_lookups: true, customers: rows },
    });
    const b = await call(sb, "POST", UPLOAD, {
      body: { name: "b", enable_rego_lookups: true, customers: [rows[0]] },
    });
    const off = await call(sb, "POST", UPLOAD, { body: { name: "off", customers: [rows[0]] } });
    const nz = await call(sb, "POST", "/v2/recapture/upload?region=nz", {
      body: { name: "nz", enable_rego_lookups: true, customers: [{ rego: "KIWI1" }] },
    });
    await sb.idle();
    const view = async (id: string, region = "au") =>
      (await call(sb, "GET", `/v2/recapture/upload/${id}?region=${region}`)).body.upload!;
    const page = async (id: string, region = "au") =>
      (await call(sb, "GET", `/v2/recapture/customers?region=${region}&upload_id=${id}`)).body
        .customers!;
    assertEquals((await view(a.body.upload!.id)).total_rego_lookups, 2);
    assertEquals((await view(b.body.upload!.id)).total_rego_lookups, 1);
    assertEquals((await view(off.body.upload!.id)).total_rego_lookups, 0);
    assertEquals((await view(nz.body.upload!.id, "nz")).total_rego_lookups, 1);
    const [looked, provided, noState] = await page(a.body.upload!.id);
    assertEquals([looked.rego, looked.state, looked.vin_source], ["ABC123", "NSW", "rego_lookup"]);
    assert(/^[A-HJ-NPR-Z0-9]{17}$/.test(looked.vin!));
    assert(looked.vehicle_title !== null);
    assertEquals([provided.vin, provided.vin_source], ["1HGCM82633A004352", "provided"]);
    assertEquals([noState.vin, noState.vin_source], [null, null]);
    assertEquals(
      (await page(b.body.upload!.id))[0].vin,
      looked.vin,
      "the same rego gives the same VIN",
    );
    assertEquals((await page(off.body.upload!.id))[0].vin, null);
  } finally {
    await sb.close();
  }
});

Deno.test("upload-level monitor dates apply to customers without their own", async () => {
  const sb = await testSandbox();
  try {
    const up = await call(sb, "POST", UPLOAD, {
      body: {
        name: "monitor",
        monitor_start_date: "2025-01-01",
        monitor_end_date: "2025-12-31",
        customers: [{ rego: "MON1" }, { rego: "MON2", monitor_end_date: "2025-06-30" }],
      },
    });
    assertEquals(up.body.upload!.monitor_start_date, "2025-01-01");
    await sb.idle();
    const list = await call(
      sb,
      "GET",
      `/v2/recapture/customers?region=au&upload_id=${up.body.upload!.id}`,
    );
    assertEquals(list.body.customers!.map((c) => [c.monitor_start_date, c.monitor_end_date]), [
      ["2025-01-01", "2025-12-31"],
      ["2025-01-01", "2025-06-30"],
    ]);
  } finally {
    await sb.close();
  }
});

Deno.test("cancel: chunks not yet processed create no customers; cancelling again changes nothing", async () => {
  const sb = await testSandbox({ chunkSize: 1 });
  try {
    const up = await call(sb, "POST", UPLOAD, {
      body: { name: "big", customers: customers(3000) },
    });
    const id = up.body.upload!.id;
    const cancelled = await call(sb, "DELETE", `/v2/recapture/upload/${id}?region=au`);
    assertEquals(cancelled.status, 200);
    assertEquals(cancelled.body.upload!.status, "cancelled");
    assertNotEquals(cancelled.body.upload!.cancelled_at, null);
    await sb.idle();
    const after = (await call(sb, "GET", `/v2/recapture/upload/${id}?region=au`)).body.upload!;
    assertEquals(after.status, "cancelled");
    assert(
      after.total_processed_customers < 3000,
      `stopped early (${after.total_processed_customers})`,
    );
    const list = await call(sb, "GET", `/v2/recapture/customers?region=au&upload_id=${id}`);
    assertEquals(
      list.body.total,
      after.total_processed_customers,
      "customers created before the cancel stay",
    );
    assertEquals((await kvKeys(sb, "cust")).length, after.total_processed_customers);
    assertEquals(await kvKeys(sb, "chunk"), [], "the pending chunks are dropped");
    const again = await call(sb, "DELETE", `/v2/recapture/upload/${id}?region=au`);
    assertEquals(again.body.upload, after);

    const small = await call(sb, "POST", UPLOAD, {
      body: { name: "small", customers: customers(2) },
    });
    await sb.idle();
    const done = await call(
      sb,
      "DELETE",
      `/v2/recapture/upload/${small.body.upload!.id}?region=au`,
    );
    assertEquals(done.body.upload!.status, "completed", "a completed upload stays completed");
  } finally {
    await sb.close();
  }
});

Deno.test("cancel racing the last chunk: an upload that finished is never answered as cancelled", async () => {
  const sb = await testSandbox();
  try {
    let raced = 0;
    for (let t = 0; t < 120; t++) {
      const up = await call(sb, "POST", UPLOAD, {
        body: { name: "race", customers: customers(200) },
      });
      const id = up.body.upload!.id;
      // Cancels spread over the time processing takes, so some land as the chunk commits.
      await new Promise((r) => setTimeout(r, 2 + (t % 40) * 0.5));
      const answer = (await call(sb, "DELETE", `/v2/recapture/upload/${id}?region=au`)).body
        .upload!;
      const u = answer.status === "cancelled" ? answer : null;
      if (u === null) continue;
      raced++;
      assert(
        u.total_processed_customers < u.total_uploaded_customers,
        `cancelled after it finished: ${JSON.stringify(u)}`,
      );
    }
    assert(raced > 0, "some cancels landed before the end");
    await sb.idle();
  } finally {
    await sb.close();
  }
});

Deno.test("expiry: from its expiry date a customer is gone from every endpoint, and the sweep deletes it", async () => {
  let now = new Date("2026-03-01T12:00:00Z");
  const sb = await testSandbox({ now: () => now });
  try {
    const up = await call(sb, "POST", UPLOAD, {
      body: {
        name: "expiry",
        customers: [
          { rego: "EXP1", expiry_date: "2026-03-02" },
          { rego: "EXP2" },
          { rego: "EXP3", expiry_date: "2026-03-01" }, // already due: never visible
        ],
      },
    });
    await sb.idle();
    const uid = up.body.upload!.id;
    let list = await call(sb, "GET", `/v2/recapture/customers?region=au&upload_id=${uid}`);
    assertEquals(list.body.customers!.map((c) => c.rego), ["EXP1", "EXP2"]);
    assertEquals(list.body.total, 2);
    const [exp1, exp2] = list.body.customers!;
    now = new Date("2026-03-02T00:00:00Z");
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const r = await call(
        sb,
        method,
        `/v2/recapture/customers/${exp1.id}?region=au`,
        method === "PATCH" ? { body: { client_name: "x" } } : {},
      );
      assertEquals([r.status, r.body.message], [404, "Invalid Customer ID"], method);
    }
    list = await call(sb, "GET", "/v2/recapture/customers?region=au");
    assertEquals(list.body.customers!.map((c) => c.rego), ["EXP2"]);
    assertEquals(list.body.total, 1);
    assertEquals((await kvKeys(sb, "cust")).length, 1, "the list's sweep deleted it from storage");
    assertEquals(await kvKeys(sb, "exp"), []);
    // PATCH can set an expiry: the periodic sweep removes it once due.
    const patched = await call(sb, "PATCH", `/v2/recapture/customers/${exp2.id}?region=au`, {
      body: { expiry_date: "2026-03-05" },
    });
    assertEquals(patched.body.customer!.expiry_date, "2026-03-05");
    assertEquals(await sb.sweep(), 0);
    now = new Date("2026-03-05T08:00:00Z");
    assertEquals(await sb.sweep(), 1);
    assertEquals(await kvKeys(sb, "cust"), []);
    const status = await call(sb, "GET", `/v2/recapture/upload/${uid}?region=au`);
    assertEquals(status.body.upload!.total_processed_customers, 3, "the upload's history is kept");
  } finally {
    await sb.close();
  }
});

Deno.test("access: unknown ids are 404, another account's 403, another region's 400", async () => {
  const sb = await testSandbox();
  try {
    const up = await call(sb, "POST", UPLOAD, { body: { name: "a", customers: customers(1) } });
    await sb.idle();
    const uid = up.body.upload!.id;
    const cid = (await call(sb, "GET", "/v2/recapture/customers?region=au")).body.customers![0].id;
    const check = async (path: string, key: string, status: number, message: string) => {
      for (
        const method of path.includes("customers") ? ["GET", "PATCH", "DELETE"] : ["GET", "DELETE"]
      ) {
        const r = await call(sb, method, path, {
          key,
          ...(method === "PATCH" ? { body: { client_name: "x" } } : {}),
        });
        assertEquals([r.status, r.body.message], [status, message], `${method} ${path} as ${key}`);
      }
    };
    const resources = [{
      path: "/v2/recapture/upload",
      id: uid,
      unknown: "upl_nope",
      invalid: "Invalid Upload ID",
      denied: "You don't have permission to access that upload",
    }, {
      path: "/v2/recapture/customers",
      id: cid,
      unknown: "cus_nope",
      invalid: "Invalid Customer ID",
      denied: "You don't have permission to access that customer",
    }];
    for (const r of resources) {
      await check(`${r.path}/${r.unknown}?region=au`, "sec_key_a", 404, r.invalid);
      await check(`${r.path}/${otherLast(r.id)}?region=au`, "sec_key_a", 404, r.invalid);
      await check(`${r.path}/${r.id}?region=au`, "sec_key_b", 403, r.denied);
      await check(`${r.path}/${r.id}?region=nz`, "sec_key_a", 400, "Incorrect Region");
    }
    const filtered = await call(sb, "GET", `/v2/recapture/customers?region=au&upload_id=${uid}`, {
      key: "sec_key_b",
    });
    assertEquals(filtered.status, 403);
    const other = await call(sb, "GET", "/v2/recapture/customers?region=au", { key: "sec_key_b" });
    assertEquals([other.body.total, other.body.customers], [0, []], "accounts see only their own");
    const stillThere = await call(sb, "GET", `/v2/recapture/customers/${cid}?region=au`);
    assertEquals(stillThere.status, 200, "no failed call changed anything");
    assertGreater(stillThere.body.customer!.id.length, 10);
  } finally {
    await sb.close();
  }
});

Deno.test("recovery at start drops the chunks of a POST that crashed before accepting, once stale", async () => {
  const kv = await Deno.openKv(":memory:");
  const now = new Date("2026-03-01T12:00:00Z");
  const old = "upl_" + (now.getTime() - 3600_000).toString(36).padStart(9, "0") + "aaaaaaaa";
  const fresh = "upl_" + (now.getTime() - 1000).toString(36).padStart(9, "0") + "bbbbbbbb";
  for (const id of [old, fresh]) {
    await kv.set(["rc", "chunk", id, 0, 0], '{"s":0,"r":[{"rego":"ORPHAN1"}]}');
  }
  const sb = await testSandbox({ kv, now: () => now });
  try {
    assertEquals(
      (await kvKeys(sb, "chunk")).map((k) => k[2]),
      [fresh],
      "a fresh one may still be accepted",
    );
    assertEquals(await kvKeys(sb, "cust"), []);
  } finally {
    await sb.close();
  }
});

Deno.test("paging: pages read in order (resumed from the last page's end) equal pages read out of order", async () => {
  const sb = await testSandbox({ chunkSize: 33 });
  try {
    await call(sb, "POST", UPLOAD, { body: { name: "a", customers: customers(500) } });
    const b = await call(sb, "POST", UPLOAD, {
      body: { name: "b", customers: customers(300, 500) },
    });
    await sb.idle();
    const page = async (offset: number, limit: number, upload = "") =>
      (await call(
        sb,
        "GET",
        `/v2/recapture/customers?region=au&offset=${offset}&limit=${limit}${upload}`,
      ))
        .body.customers!.map((c) => c.rego);
    const all = await page(0, 1000);
    assertEquals(all.length, 800);
    const inOrder: (string | null)[] = [];
    for (let offset = 0; offset < 800; offset += 70) inOrder.push(...await page(offset, 70));
    assertEquals(inOrder, all);
    const skipping = [
      ...await page(140, 70),
      ...await page(70, 70),
      ...await page(630, 70),
      ...await page(210, 5),
    ];
    assertEquals(skipping, [
      ...all.slice(140, 210),
      ...all.slice(70, 140),
      ...all.slice(630, 700),
      ...all.slice(210, 215),
    ]);
    const filter = `&upload_id=${b.body.upload!.id}`;
    const ofB: (string | null)[] = [];
    for (let offset = 0; offset < 300; offset += 45) ofB.push(...await page(offset, 45, filter));
    assertEquals(ofB, all.slice(500));
  } finally {
    await sb.close();
  }
});

Deno.test("close with queued work: quiet (no queue handler exception), and the work runs after reopening", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sandbox.kv`;
  try {
    // A child process uploads 6,000 rows in chunks of 10 (75 messages) and closes at once, with
    // the queue full and chunks in progress; it must print nothing and exit 0.
    const module = new URL("./_helpers.ts", import.meta.url).href;
    const code = `
      import { call, customers, testSandbox } from "${module}";
      const sb = await testSandbox({ path: ${JSON.stringify(path)}, chunkSize: 10 });
      const up = await call(sb, "POST", "${UPLOAD}", { body: { name: "q", customers: customers(6000) } });
      if (up.status !== 201) throw new Error("upload failed");
      await new Promise((r) => setTimeout(r, 20)); // some chunks in progress, most queued
      await sb.close();
      const after = await sb.fetch(new Request("http://sandbox/v2/recapture/customers?region=au", { headers: { ApiKey: "sec_key_a" } }));
      console.log(JSON.stringify({ id: up.body.upload.id, after: after.status, body: await after.json() }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(stderr, "", "closing prints nothing");
    assertEquals(out.code, 0);
    const child = JSON.parse(new TextDecoder().decode(out.stdout).trim());
    assertEquals(child.after, 503, "a request after close() is refused quietly");
    assertEquals(child.body, { error: true, message: "The sandbox is closing" });

    const sb = await testSandbox({ path, chunkSize: 10 });
    try {
      const before = (await call(sb, "GET", `/v2/recapture/upload/${child.id}?region=au`)).body
        .upload!;
      assert(before.total_processed_customers < 6000, "the close left work queued");
      await sb.idle();
      const u = (await call(sb, "GET", `/v2/recapture/upload/${child.id}?region=au`)).body.upload!;
      assertEquals([u.status, u.total_processed_customers, u.total_errors], ["completed", 6000, 0]);
      assertEquals((await kvKeys(sb, "cust")).length, 6000, "each customer once");
      assertEquals((await kvKeys(sb, "done")).length, 600);
      assertEquals(await kvKeys(sb, "chunk"), []);
    } finally {
      await sb.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close with queued work, in process: no leaked ops or resources, requests after it get 503", async () => {
  const sb = await testSandbox({ chunkSize: 10 });
  const up = await call(sb, "POST", UPLOAD, { body: { name: "q", customers: customers(3000) } });
  assertEquals(up.status, 201);
  await sb.close(); // the sanitizers check what is left behind
  const after = await call(sb, "GET", "/v2/recapture/customers?region=au");
  assertEquals([after.status, after.body.message], [503, "The sandbox is closing"]);
  assertEquals(after.headers.get("Retry-After"), "1");
});

Deno.test("upload ids made one after the other sort in that order, even within one millisecond", () => {
  const at = new Date("2026-03-01T12:00:00Z");
  const ids = Array.from({ length: 1000 }, () => newUploadId(at));
  assertEquals([...ids].sort(), ids);
  assertEquals(new Set(ids).size, 1000);
  const earlier = newUploadId(new Date(at.getTime() - 60_000)); // the clock went back
  assertGreater(earlier, ids[999]);
  assertGreater(newUploadId(new Date(at.getTime() + 1)), earlier);
});

Deno.test("chunks fit one atomic write however the rows store: decimals, lookups, dates, long account ids", async () => {
  const longAccount = {
    id: `acct_${"x".repeat(115)}`,
    apiKey: "sec_long",
    regions: ["nz" as const],
  };
  const sb = await testSandbox({ accounts: [...ACCOUNTS, longAccount] });
  try {
    /** Waits for the upload to complete; fails (instead of hanging) after 30 s. */
    const completed = async (id: string, key: string) => {
      for (let i = 0; i < 300; i++) {
        const u = (await call(sb, "GET", `/v2/recapture/upload/${id}?region=nz`, { key })).body
          .upload!;
        if (u.status === "completed") return u;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`upload ${id} did not complete`);
    };
    // `0.1,` is 4 characters of JSON and 9 bytes once stored; each customer also gains a
    // looked-up VIN and title, the upload's monitor dates and an expiry index entry.
    const decimals = Array.from({ length: 450 }, (_, i) => ({
      rego: `R${i}`,
      expiry_date: "2099-12-31",
      additional_fields: { d: Array(125).fill(0.1) },
    }));
    // A 120-character account id in every customer key (KV keys: 81,920 bytes per operation).
    const plain = Array.from(
      { length: 450 },
      (_, i) => ({ rego: `P${i}`, expiry_date: "2099-12-31" }),
    );
    for (const [key, rows] of [["sec_key_a", decimals], ["sec_long", plain]] as const) {
      const up = await call(sb, "POST", "/v2/recapture/upload?region=nz", {
        key,
        body: {
          name: "stored bigger than sent",
          enable_rego_lookups: true,
          monitor_start_date: "2020-01-01",
          monitor_end_date: "2099-01-01",
          customers: rows,
        },
      });
      assertEquals(up.status, 201);
      const u = await completed(up.body.upload!.id, key);
      assertEquals([u.total_processed_customers, u.total_errors], [450, 0]);
    }
  } finally {
    await sb.close();
  }
});
