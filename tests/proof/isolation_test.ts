/**
 * Proof, isolation: thousands of random cross-account and cross-region attempts (read, patch,
 * delete, cancel, list with another account's upload_id) against the sandbox, and a sample
 * through the edge proxy holding the other account's key. Every one fails with the documented
 * error (403 permission / 403 not licensed / 400 Incorrect Region) and the store is unchanged.
 */
import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import {
  diff,
  rows,
  SCALE,
  SECRETS,
  serve,
  type Served,
  serveProxy,
  snapshot,
} from "./_helpers.ts";

type Region = "au" | "nz" | "uk" | "my";
interface Owned {
  account: "a" | "b";
  region: Region;
  uploadId: string;
  customerIds: string[];
}

const KEY = { a: SECRETS.apiKey, b: SECRETS.otherApiKey } as const;
const LICENSED: Record<"a" | "b", Region[]> = { a: ["au", "nz", "uk", "my"], b: ["au", "nz"] };
const MESSAGES = {
  customer: "You don't have permission to access that customer",
  upload: "You don't have permission to access that upload",
  region: "Incorrect Region",
  licence: "Your API key does not have access to Recapture in this region",
};

async function seed(served: Served): Promise<Owned[]> {
  const out: Owned[] = [];
  const plan: ["a" | "b", Region][] = [["a", "au"], ["a", "nz"], ["a", "uk"], ["b", "au"], [
    "b",
    "nz",
  ]];
  for (const [account, region] of plan) {
    const customers = rows(6, `${account}${region}`.toUpperCase()).map((r) =>
      region === "au" ? r : { rego: r.rego, client_name: r.client_name }
    );
    const post = await served.sandbox.fetch(
      new Request(`http://x/v2/recapture/upload?region=${region}`, {
        method: "POST",
        headers: { ApiKey: KEY[account], "Content-Type": "application/json" },
        body: JSON.stringify({ name: `${account}-${region}`, customers }),
      }),
    );
    assertEquals(post.status, 201);
    const uploadId = (await post.json()).upload.id as string;
    await served.sandbox.idle();
    const list = await served.sandbox.fetch(
      new Request(`http://x/v2/recapture/customers?region=${region}&upload_id=${uploadId}`, {
        headers: { ApiKey: KEY[account] },
      }),
    );
    const customerIds = (await list.json()).customers.map((c: { id: string }) => c.id);
    assertEquals(customerIds.length, 6);
    out.push({ account, region, uploadId, customerIds });
  }
  return out;
}

type Op = "read" | "patch" | "delete" | "cancel" | "status" | "list";

/** The documented answer for `actor` doing `op` on `target` in `region`. */
function expected(
  actor: "a" | "b",
  op: Op,
  target: Owned,
  region: Region,
): [number, string] {
  if (!LICENSED[actor].includes(region)) return [403, MESSAGES.licence];
  const onCustomer = op === "read" || op === "patch" || op === "delete";
  if (target.account !== actor) return [403, onCustomer ? MESSAGES.customer : MESSAGES.upload];
  return [400, MESSAGES.region];
}

function request(base: string, op: Op, target: Owned, index: number, region: Region): Request {
  const cid = target.customerIds[index % target.customerIds.length];
  const q = `region=${region}`;
  const json = { "Content-Type": "application/json" };
  switch (op) {
    case "read":
      return new Request(`${base}/v2/recapture/customers/${cid}?${q}`);
    case "patch":
      return new Request(`${base}/v2/recapture/customers/${cid}?${q}`, {
        method: "PATCH",
        headers: json,
        body: JSON.stringify({ client_name: "stolen" }),
      });
    case "delete":
      return new Request(`${base}/v2/recapture/customers/${cid}?${q}`, { method: "DELETE" });
    case "cancel":
      return new Request(`${base}/v2/recapture/upload/${target.uploadId}?${q}`, {
        method: "DELETE",
      });
    case "status":
      return new Request(`${base}/v2/recapture/upload/${target.uploadId}?${q}`);
    case "list":
      return new Request(
        `${base}/v2/recapture/customers?${q}&upload_id=${target.uploadId}&limit=1000`,
      );
  }
}

/** An attempt that must fail: another account's resource, or own resource in another region. */
function attempts(owned: Owned[]) {
  return fc.record({
    actor: fc.constantFrom("a" as const, "b" as const),
    op: fc.constantFrom<Op>("read", "patch", "delete", "cancel", "status", "list"),
    target: fc.nat({ max: owned.length - 1 }),
    index: fc.nat({ max: 5 }),
    region: fc.constantFrom<Region>("au", "nz", "uk", "my"),
  }).filter(({ actor, target, region }) =>
    owned[target].account !== actor || owned[target].region !== region
  );
}

Deno.test("proof: cross-account and cross-region attempts all fail and change nothing", async () => {
  const served = await serve();
  let tried = 0;
  const byStatus = new Map<string, number>();
  try {
    const owned = await seed(served);
    const before = await snapshot(served.sandbox.kv);
    await fc.assert(
      fc.asyncProperty(attempts(owned), async ({ actor, op, target, index, region }) => {
        tried++;
        const req = request("http://x", op, owned[target], index, region);
        req.headers.set("ApiKey", KEY[actor]);
        const response = await served.sandbox.fetch(req);
        const body = await response.json();
        const [status, message] = expected(actor, op, owned[target], region);
        assertEquals([response.status, body.message], [status, message], `${actor} ${op}`);
        const k = `${status} ${message}`;
        byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
      }),
      { numRuns: 3000 * SCALE, endOnFailure: true },
    );
    // Each account's plain list holds only its own customers.
    for (const actor of ["a", "b"] as const) {
      for (const region of LICENSED[actor]) {
        const res = await served.sandbox.fetch(
          new Request(`http://x/v2/recapture/customers?region=${region}&limit=1000`, {
            headers: { ApiKey: KEY[actor] },
          }),
        );
        const ids = (await res.json()).customers.map((c: { id: string }) => c.id);
        const mine = owned.filter((o) => o.account === actor && o.region === region)
          .flatMap((o) => o.customerIds);
        assertEquals(ids.sort(), mine.sort(), `${actor} ${region} list`);
      }
    }
    assertEquals(diff(before, await snapshot(served.sandbox.kv)), []);
  } finally {
    await served.close();
  }
  console.log(
    `proof isolation (sandbox): ${tried} attempts, ${tried} blocked, store unchanged; ` +
      [...byStatus].map(([k, n]) => `${k}: ${n}`).join("; "),
  );
});

Deno.test("proof: account B's proxy cannot reach account A's data over HTTP", async () => {
  const served = await serve();
  const proxy = serveProxy(served.url, SECRETS.otherApiKey);
  let tried = 0;
  try {
    const owned = await seed(served);
    const ofA = owned.filter((o) => o.account === "a");
    const before = await snapshot(served.sandbox.kv);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Op>("read", "patch", "delete", "cancel", "status", "list"),
        fc.nat({ max: ofA.length - 1 }),
        fc.nat({ max: 5 }),
        fc.constantFrom<Region>("au", "nz", "uk", "my"),
        async (op, target, index, region) => {
          tried++;
          const req = request(proxy.url, op, ofA[target], index, region);
          req.headers.set("Authorization", `Bearer ${SECRETS.proxyToken}`);
          const response = await fetch(req);
          const body = await response.json();
          const [status, message] = expected("b", op, ofA[target], region);
          assertEquals([response.status, body.message], [status, message]);
        },
      ),
      { numRuns: 300 * SCALE, endOnFailure: true },
    );
    assertEquals(diff(before, await snapshot(served.sandbox.kv)), []);
    assertEquals(proxy.errors.length, 0);
  } finally {
    await proxy.close();
    await served.close();
  }
  assert(tried > 0);
  console.log(`proof isolation (proxy over HTTP): ${tried} attempts, ${tried} blocked`);
});
