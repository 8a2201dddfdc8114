/**
 * Paging at any depth (issue 18): `GET /v2/recapture/customers` finds an offset from per-bucket
 * counts. These tests hold every page against a model (a plain list of the customers that
 * should exist, oldest upload first, then row order) through random uploads, deletes, PATCHes
 * that expire a customer, expiry by date, cancels and concurrent processing, for the account's
 * list and for one upload's, across bucket (`PAGE_BUCKET_ROWS`) and group (`PAGE_GROUP_ROWS`) boundaries; and
 * the counts built for a KV written before they existed.
 */
import { assert, assertEquals } from "@std/assert";
import { call, customers, kvKeys, testSandbox } from "./_helpers.ts";
import type { Sandbox } from "../../src/sandbox/mod.ts";
import { PAGE_BUCKET_ROWS, PAGE_GROUP_ROWS } from "../../src/sandbox/_keys.ts";
// Seeded, so a failure can be replayed.
import { seededRandom as random } from "../../examples/_customers.ts";

interface ModelCustomer {
  id: string;
  upload: string;
  expiry: string | null;
}

/** The customers that should exist, per scope (`region`), in creation order. */
class Model {
  readonly live: ModelCustomer[] = [];

  list(uploadId?: string): string[] {
    return this.live.filter((c) => uploadId === undefined || c.upload === uploadId).map((c) =>
      c.id
    );
  }

  remove(id: string): void {
    const k = this.live.findIndex((c) => c.id === id);
    assert(k >= 0, `model has no ${id}`);
    this.live.splice(k, 1);
  }

  expire(today: string): void {
    for (let k = this.live.length - 1; k >= 0; k--) {
      const e = this.live[k].expiry;
      if (e !== null && e <= today) this.live.splice(k, 1);
    }
  }
}

async function page(
  sandbox: Sandbox,
  offset: number,
  limit: number,
  uploadId?: string,
): Promise<{ ids: string[]; total: number }> {
  const filter = uploadId ? `&upload_id=${uploadId}` : "";
  const answer = await call(
    sandbox,
    "GET",
    `/v2/recapture/customers?region=au&offset=${offset}&limit=${limit}${filter}`,
  );
  assertEquals(answer.status, 200, JSON.stringify(answer.body));
  return { ids: answer.body.customers!.map((c) => c.id), total: answer.body.total! };
}

/**
 * Offsets worth checking in a list of `n` (or every one): both ends, around the first bucket
 * boundaries, and 40 at random.
 */
function offsetsOf(n: number, rand: () => number, every = false): number[] {
  if (every) return Array.from({ length: n + 1 }, (_, k) => k);
  const out = new Set([0, 1, n - 1, n, n + 1]);
  for (let b = PAGE_BUCKET_ROWS; b <= 3 * PAGE_BUCKET_ROWS; b += PAGE_BUCKET_ROWS) {
    for (const d of [-1, 0, 1]) out.add(b + d);
  }
  for (let k = 0; k < 40; k++) out.add(Math.floor(rand() * (n + 1)));
  return [...out].filter((o) => o >= 0).sort((a, b) => a - b);
}

async function checkAgainst(
  sandbox: Sandbox,
  expected: string[],
  rand: () => number,
  where: string,
  uploadId?: string,
  every = false,
): Promise<void> {
  for (const offset of offsetsOf(expected.length, rand, every)) {
    const limit = [1, 2, 7, 50, 300, 1000][Math.floor(rand() * 6)];
    const got = await page(sandbox, offset, limit, uploadId);
    assertEquals(got.total, expected.length, `${where}: total at offset ${offset}`);
    assertEquals(
      got.ids,
      expected.slice(offset, offset + limit),
      `${where}: offset ${offset} limit ${limit}${uploadId ? ` upload ${uploadId}` : ""}`,
    );
  }
}

async function upload(sandbox: Sandbox, rows: Record<string, unknown>[]): Promise<string> {
  const answer = await call(sandbox, "POST", "/v2/recapture/upload?region=au", {
    body: { name: "paging", enable_rego_lookups: false, customers: rows },
  });
  assertEquals(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.upload!.id;
}

/** The customer ids of an upload's rows that exist in the KV (after a cancel). */
async function storedIds(sandbox: Sandbox, uploadId: string): Promise<string[]> {
  const body = uploadId.slice(4);
  return (await kvKeys(sandbox, "cust")).map((k) => k.at(-1) as string).filter((id) =>
    id.startsWith("cus_" + body)
  ).sort();
}

for (const seed of [1, 2, 3]) {
  Deno.test(`paging: random uploads, deletes, PATCHes, expiries and cancels match the model (seed ${seed})`, async () => {
    const rand = random(seed);
    let clock = Date.parse("2026-03-01T00:00:00Z");
    const today = () => new Date(clock).toISOString().slice(0, 10);
    const sandbox = await testSandbox({
      chunkSize: 1 + Math.floor(rand() * 300),
      now: () => new Date(clock),
    });
    const model = new Model();
    const uploads: string[] = [];
    try {
      for (let step = 0; step < 14; step++) {
        const action = step < 3 ? 0 : Math.floor(rand() * 5);
        if (action === 0 || action === 4) {
          // An upload of 1..700 rows, some with errors.
          const n = 1 + Math.floor(rand() * 700);
          const rows = customers(n, step * 1000).map((row, k) => {
            if (rand() < 0.05) return { state: "NSW" }; // no rego nor vin: a row error
            // Most without expiry; some expiring in 1..5 days; some today or yesterday (gone at once).
            const dice = rand();
            const days = dice < 0.2
              ? 1 + Math.floor(rand() * 5)
              : dice < 0.25
              ? -Math.floor(rand() * 2)
              : null;
            const expiry = days === null
              ? null
              : new Date(clock + days * 86_400_000).toISOString().slice(0, 10);
            return { ...row, client_name: `c${k}`, ...(expiry ? { expiry_date: expiry } : {}) };
          });
          const id = await upload(sandbox, rows);
          uploads.push(id);
          if (action === 4) {
            // Cancelled right away: whatever chunks were processed before the cancel stay.
            const cancelled = await call(sandbox, "DELETE", `/v2/recapture/upload/${id}?region=au`);
            assertEquals(cancelled.status, 200);
            await sandbox.idle();
            for (const cid of await storedIds(sandbox, id)) {
              const row = rowIndex(cid);
              const r = rows[row] as { expiry_date?: string };
              model.live.push({ id: cid, upload: id, expiry: r.expiry_date ?? null });
            }
          } else {
            await sandbox.idle();
            rows.forEach((r, row) => {
              if (!("rego" in r)) return;
              model.live.push({
                id: customerIdOf(id, row),
                upload: id,
                expiry: (r as { expiry_date?: string }).expiry_date ?? null,
              });
            });
          }
          model.live.sort((a, b) => a.id < b.id ? -1 : 1);
          model.expire(today());
        } else if (action === 1 && model.live.length > 0) {
          // Deletes of random customers, and of a run of neighbours.
          const k = Math.floor(rand() * model.live.length);
          const victims = model.live.slice(k, k + 1 + Math.floor(rand() * 300)).map((c) => c.id);
          for (const id of victims) {
            const answer = await call(sandbox, "DELETE", `/v2/recapture/customers/${id}?region=au`);
            assertEquals(answer.status, 200, JSON.stringify(answer.body));
            model.remove(id);
          }
        } else if (action === 2 && model.live.length > 0) {
          // PATCHes: some move the expiry to today (the customer goes), some change a name.
          for (let n = 0; n < 30 && model.live.length > 0; n++) {
            const c = model.live[Math.floor(rand() * model.live.length)];
            const expire = rand() < 0.5;
            const body = expire ? { expiry_date: today() } : { client_name: "patched" };
            const answer = await call(
              sandbox,
              "PATCH",
              `/v2/recapture/customers/${c.id}?region=au`,
              { body },
            );
            assertEquals(answer.status, 200, JSON.stringify(answer.body));
            if (expire) model.remove(c.id);
          }
        } else if (action === 3) {
          // A day or two pass: customers whose expiry date came are deleted.
          clock += (1 + Math.floor(rand() * 2)) * 86_400_000;
          model.expire(today());
        }
        await checkAgainst(sandbox, model.list(), rand, `seed ${seed} step ${step}`);
        const u = uploads[Math.floor(rand() * uploads.length)];
        await checkAgainst(sandbox, model.list(u), rand, `seed ${seed} step ${step}`, u);
      }
      // The final state: every offset.
      await checkAgainst(sandbox, model.list(), rand, `seed ${seed} final`, undefined, true);
      // Other accounts and regions see none of it.
      const other = await call(sandbox, "GET", "/v2/recapture/customers?region=nz&offset=0");
      assertEquals([other.body.total, other.body.customers], [0, []]);
    } finally {
      await sandbox.close();
    }
  });
}

function customerIdOf(uploadId: string, row: number): string {
  return "cus_" + uploadId.slice(4) + row.toString(36).padStart(7, "0");
}

function rowIndex(customerId: string): number {
  return parseInt(customerId.slice(-7), 36);
}

Deno.test("paging: one upload across a paging group boundary, with holes", async () => {
  const sandbox = await testSandbox();
  try {
    const n = PAGE_GROUP_ROWS + 700;
    const id = await upload(sandbox, customers(n).map((r, k) => ({ ...r, rego: `G${k}` })));
    await sandbox.idle();
    let expected = Array.from({ length: n }, (_, row) => customerIdOf(id, row));
    // Holes just before the group boundary and a whole bucket after it.
    const gone = new Set<string>();
    for (let row = PAGE_GROUP_ROWS - 3; row < PAGE_GROUP_ROWS; row++) gone.add(expected[row]);
    for (
      let row = PAGE_GROUP_ROWS + PAGE_BUCKET_ROWS;
      row < PAGE_GROUP_ROWS + 3 * PAGE_BUCKET_ROWS;
      row++
    ) {
      gone.add(expected[row]);
    }
    for (const cid of gone) {
      assertEquals(
        (await call(sandbox, "DELETE", `/v2/recapture/customers/${cid}?region=au`)).status,
        200,
      );
    }
    expected = expected.filter((c) => !gone.has(c));
    const rand = random(7);
    const offsets = [
      PAGE_GROUP_ROWS - 5,
      PAGE_GROUP_ROWS - 3,
      PAGE_GROUP_ROWS,
      PAGE_GROUP_ROWS + 250,
      expected.length - 1,
    ];
    for (const offset of offsets) {
      for (const scope of [undefined, id]) {
        const limit = 1 + Math.floor(rand() * 400);
        const got = await page(sandbox, offset, limit, scope);
        assertEquals(got.ids, expected.slice(offset, offset + limit), `offset ${offset}`);
        assertEquals(got.total, expected.length);
      }
    }
  } finally {
    await sandbox.close();
  }
});

Deno.test("paging: pages of processed customers stay right while a later upload is processed", async () => {
  const sandbox = await testSandbox({ chunkSize: 50 });
  try {
    const first = await upload(sandbox, customers(1500));
    await sandbox.idle();
    const expected = Array.from({ length: 1500 }, (_, row) => customerIdOf(first, row));
    await upload(sandbox, customers(6000, 2000));
    const rand = random(11);
    let checked = 0;
    // Pages within the first upload cannot move: the second upload's customers come after.
    for (let k = 0; k < 200; k++) {
      const offset = Math.floor(rand() * 1500);
      const limit = 1 + Math.floor(rand() * 60);
      const got = await page(sandbox, offset, limit);
      assertEquals(
        got.ids.slice(0, Math.max(0, 1500 - offset)),
        expected.slice(offset, offset + limit),
      );
      assert(got.total >= 1500 && got.total <= 7500, `total ${got.total}`);
      const own = await page(sandbox, offset, limit, first);
      assertEquals(own.ids, expected.slice(offset, offset + limit));
      checked++;
    }
    await sandbox.idle();
    assertEquals((await page(sandbox, 7499, 5)).ids.length, 1);
    assertEquals(checked, 200);
  } finally {
    await sandbox.close();
  }
});

Deno.test("paging: a KV written before the paging counts existed gets them at start", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite`;
  try {
    let sandbox = await testSandbox({ path });
    const id = await upload(sandbox, customers(900));
    await sandbox.idle();
    const expected = Array.from({ length: 900 }, (_, row) => customerIdOf(id, row));
    for (const row of [0, 300, 301]) {
      await call(sandbox, "DELETE", `/v2/recapture/customers/${expected[row]}?region=au`);
    }
    const live = expected.filter((_, row) => ![0, 300, 301].includes(row));
    // As an older sandbox left it: no paging counts, no marker.
    for (const part of ["pgu", "pgg", "pgb"]) {
      for (const key of await kvKeys(sandbox, part)) await sandbox.kv.delete(key);
    }
    await sandbox.kv.delete(["rc", "pgready"]);
    await sandbox.close();
    sandbox = await testSandbox({ path });
    try {
      await checkAgainst(sandbox, live, random(5), "rebuilt", undefined, true);
      await checkAgainst(sandbox, live, random(6), "rebuilt", id);
    } finally {
      await sandbox.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paging: a PATCH that expires a customer deletes it and its counts at once, before any sweep", async () => {
  const sandbox = await testSandbox({ now: () => new Date("2026-03-01T12:00:00Z") });
  try {
    const id = await upload(sandbox, customers(3));
    await sandbox.idle();
    const gone = customerIdOf(id, 1);
    const patched = await call(sandbox, "PATCH", `/v2/recapture/customers/${gone}?region=au`, {
      body: { expiry_date: "2026-03-01" },
    });
    assertEquals([patched.status, patched.body.customer?.expiry_date], [200, "2026-03-01"]);
    // No list, no sweep yet: the record is gone, and so is its count in the paging buckets.
    const ids = (await kvKeys(sandbox, "cust")).map((k) => k.at(-1));
    assertEquals(ids, [customerIdOf(id, 0), customerIdOf(id, 2)]);
    const counts = await sandbox.kv.get<Deno.KvU64>(["rc", "pgb", id, 0]);
    assertEquals(counts.value?.value, 2n);
    assertEquals(await kvKeys(sandbox, "exp"), []);
    assertEquals((await page(sandbox, 1, 5)).ids, [customerIdOf(id, 2)]);
  } finally {
    await sandbox.close();
  }
});
