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
};

/** Adds `n` to a KvU64 counter, or subtracts with a negative `n` (sums wrap modulo 2^64). */
export function u64(n: number): bigint {
  const v = BigInt(n);
  return v >= 0n ? v : (1n << 64n) + v;
}

/** Reads a KvU64 value as a number (0 when absent). */
export function num(value: unknown): number {
  return value instanceof Deno.KvU64 ? Number(value.value) : 0;
}
