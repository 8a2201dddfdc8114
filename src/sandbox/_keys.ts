/**
 * The KV layout of the sandbox and Deno KV's limits. Every key starts with `"rc"` so the sandbox
 * can share a KV with other data.
 *
 * @module
 */
import type { Region } from "./_types.ts";

const P = "rc";

/** Deno KV: largest value in bytes. */
export const KV_MAX_VALUE_BYTES = 65_536;
/** Deno KV: most mutations in one atomic operation. */
export const KV_MAX_MUTATIONS = 1000;
/** Deno KV: most bytes in one atomic operation. */
export const KV_MAX_ATOMIC_BYTES = 819_200;

/** The upload counters kept as `Deno.KvU64` sums. */
export type UploadCounter = "processed" | "errors" | "lookups" | "created" | "removed";

/** Key builders. */
export const keys = {
  upload: (id: string): Deno.KvKey => [P, "upload", id],
  uploadPrefix: (): Deno.KvKey => [P, "upload"],
  chunkPart: (id: string, i: number, part: number): Deno.KvKey => [P, "chunk", id, i, part],
  chunkParts: (id: string, i: number): Deno.KvKey => [P, "chunk", id, i],
  chunkPrefix: (id: string): Deno.KvKey => [P, "chunk", id],
  chunkRoot: (): Deno.KvKey => [P, "chunk"],
  done: (id: string, i: number): Deno.KvKey => [P, "done", id, i],
  donePrefix: (id: string): Deno.KvKey => [P, "done", id],
  counter: (id: string, name: UploadCounter): Deno.KvKey => [P, "uctr", id, name],
  touched: (id: string): Deno.KvKey => [P, "utouch", id],
  rowError: (id: string, index: number): Deno.KvKey => [P, "uerr", id, index],
  rowErrorPrefix: (id: string): Deno.KvKey => [P, "uerr", id],
  pending: (id: string): Deno.KvKey => [P, "pending", id],
  pendingPrefix: (): Deno.KvKey => [P, "pending"],
  customer: (account: string, region: Region, id: string): Deno.KvKey => [
    P,
    "cust",
    account,
    region,
    id,
  ],
  customerRoot: (): Deno.KvKey => [P, "cust"],
  customerPrefix: (account: string, region: Region): Deno.KvKey => [P, "cust", account, region],
  accountCounter: (account: string, region: Region, name: "created" | "removed"): Deno.KvKey => [
    P,
    "actr",
    account,
    region,
    name,
  ],
  expiry: (date: string, id: string): Deno.KvKey => [P, "exp", date, id],
  expiryPrefix: (): Deno.KvKey => [P, "exp"],
  token: (hash: string): Deno.KvKey => [P, "token", hash],
  /** Live customers of an upload, listed per account and region in upload order (paging). */
  pageUpload: (account: string, region: Region, uploadId: string): Deno.KvKey => [
    P,
    "pgu",
    account,
    region,
    uploadId,
  ],
  pageUploadPrefix: (account: string, region: Region): Deno.KvKey => [P, "pgu", account, region],
  /** Live customers of an upload's rows `g * PAGE_GROUP_ROWS` and on (the next group's excluded). */
  pageGroup: (uploadId: string, g: number): Deno.KvKey => [P, "pgg", uploadId, g],
  pageGroupPrefix: (uploadId: string): Deno.KvKey => [P, "pgg", uploadId],
  /** Live customers of an upload's rows `b * PAGE_BUCKET_ROWS` and on (the next bucket's excluded). */
  pageBucket: (uploadId: string, b: number): Deno.KvKey => [P, "pgb", uploadId, b],
  /** Every paging count, of each kind. */
  pagingRoots: (): Deno.KvKey[] => [[P, "pgu"], [P, "pgg"], [P, "pgb"]],
  /** Set once the paging counts cover every customer (they are built from the customers if not). */
  pagingReady: (): Deno.KvKey => [P, "pgready"],
};

/** Rows per paging bucket: a page at any offset walks at most this many customers to start. */
export const PAGE_BUCKET_ROWS = 64;
/** Buckets per paging group: a page walks at most this many bucket counts to find its bucket. */
export const PAGE_GROUP_BUCKETS = 256;
/** Rows per paging group. */
export const PAGE_GROUP_ROWS = PAGE_BUCKET_ROWS * PAGE_GROUP_BUCKETS;

/**
 * Adds the paging counts of customers appearing (`n` > 0) or going (`n` < 0) at upload rows to
 * an atomic operation: one sum per upload, group and bucket touched. `rows` maps a row to `n`.
 */
export function sumPaging(
  op: Deno.AtomicOperation,
  account: string,
  region: Region,
  uploadId: string,
  rows: Iterable<number>,
  n: 1 | -1,
): void {
  const buckets = new Map<number, number>();
  const groups = new Map<number, number>();
  let total = 0;
  for (const row of rows) {
    const b = Math.floor(row / PAGE_BUCKET_ROWS);
    const g = Math.floor(row / PAGE_GROUP_ROWS);
    buckets.set(b, (buckets.get(b) ?? 0) + n);
    groups.set(g, (groups.get(g) ?? 0) + n);
    total += n;
  }
  if (total === 0) return;
  op.sum(keys.pageUpload(account, region, uploadId), u64(total));
  for (const [g, count] of groups) op.sum(keys.pageGroup(uploadId, g), u64(count));
  for (const [b, count] of buckets) op.sum(keys.pageBucket(uploadId, b), u64(count));
}

/** Adds `n` to a KvU64 counter, or subtracts with a negative `n` (sums wrap modulo 2^64). */
export function u64(n: number): bigint {
  const v = BigInt(n);
  return v >= 0n ? v : (1n << 64n) + v;
}

/** Reads a KvU64 value as a number (0 when absent). */
export function num(value: unknown): number {
  return value instanceof Deno.KvU64 ? Number(value.value) : 0;
}
