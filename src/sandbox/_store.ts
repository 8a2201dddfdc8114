/**
 * The sandbox's data in Deno KV: durable acceptance of uploads, upload views, cancel, and the
 * customer endpoints (get, list, update, delete) with their access rules, plus the expiry sweep.
 *
 * @module
 */
import { HttpError, MESSAGES } from "./_http.ts";
import { customerId, customerIdRange, isUploadId, newUploadId, rowOf, uploadIdOf } from "./_ids.ts";
import type { CustomerPatch, UploadInput } from "./_input.ts";
import {
  keys,
  KV_MAX_ATOMIC_BYTES,
  KV_MAX_MUTATIONS,
  KV_MAX_VALUE_BYTES,
  num,
  PAGE_BUCKET_ROWS,
  PAGE_GROUP_BUCKETS,
  PAGE_GROUP_ROWS,
  sumPaging,
} from "./_keys.ts";
import type { CustomerRecord, Region, RowError, UploadMeta, UploadView } from "./_types.ts";

/**
 * A queue message asking for chunks `i`, `i + 1`, ... of an upload to be processed: `p` holds how
 * many parts each chunk's rows are stored in, one number per chunk. (A single number is one
 * chunk, as earlier versions queued them; both are accepted.)
 */
export interface ChunkMessage {
  rc: "chunk";
  /** The upload id. */
  u: string;
  /** The first chunk's index. */
  i: number;
  /** The parts of each chunk from `i` on (or of chunk `i` alone). */
  p: number | number[];
}

/** Whether a queue message is one of ours. */
export function isChunkMessage(value: unknown): value is ChunkMessage {
  const m = value as ChunkMessage;
  return typeof m === "object" && m !== null && m.rc === "chunk" && typeof m.u === "string" &&
    typeof m.i === "number" &&
    (typeof m.p === "number" ||
      (Array.isArray(m.p) && m.p.length > 0 && m.p.every((n) => typeof n === "number")));
}

/** The chunks a message asks for, as `[index, parts]` pairs. */
export function chunksOf(message: ChunkMessage): [index: number, parts: number][] {
  const parts = typeof message.p === "number" ? [message.p] : message.p;
  return parts.map((p, k) => [message.i + k, p]);
}

/**
 * Chunks per queue message. Fewer messages mean fewer queue operations (each its own SQLite
 * transaction), and one message's chunks are processed as a pipeline (one chunk is read and
 * built while the previous one commits); each chunk still has its own atomic operation and
 * done-marker.
 */
export const CHUNKS_PER_MESSAGE = 8;

/**
 * The most customers per processing chunk, and the default: what processing a chunk writes
 * (its customers, row errors and counters) must fit in one atomic operation.
 */
export const MAX_CHUNK_SIZE = 450;

/** Retry schedule of chunk messages whose handler throws. */
export const CHUNK_BACKOFF = [100, 500, 2000, 10_000, 30_000];

/**
 * A chunk's JSON is stored as string parts of at most this many characters: V8 stores a string
 * in 1 or 2 bytes per character, so a part stays under KV's value limit.
 */
export const PART_CHARS = Math.floor((KV_MAX_VALUE_BYTES - 1024) / 2);
/**
 * A chunk's JSON has at most this many characters: at most 8 parts (read with the done-marker
 * and the upload in one `getMany` of at most 10 keys). `buildChunks` also keeps what processing
 * a chunk writes within one atomic operation.
 */
const CHUNK_CHARS = 8 * PART_CHARS;
/** Atomic operations stay this far under KV's size limit. */
const ATOMIC_BYTES = KV_MAX_ATOMIC_BYTES - 20_000;
/** Enqueues per atomic operation. */
const ENQUEUES_PER_ATOMIC = KV_MAX_MUTATIONS - 100;
/** Row errors shown in the upload object. */
const ERRORS_SHOWN = 100;
/** Times a page is read again when customers came or went while it was read. */
const PAGE_ATTEMPTS = 10;

/** The day part (`YYYY-MM-DD`, UTC) of a date. */
export function day(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Whether a customer is past its expiry date on `today`. */
export function isExpired(customer: CustomerRecord, today: string): boolean {
  return customer.expiry_date !== null && customer.expiry_date <= today;
}

/** A chunk: its JSON as stored, where its rows start in the upload, and how many there are. */
export interface Chunk {
  json: string;
  start: number;
  count: number;
}

/** Atomic operations of one upload's chunks committing at once while it is stored. */
const WRITES_IN_FLIGHT = 2;

/**
 * What processing a chunk writes in its one atomic operation, at most, per character of the
 * chunk's JSON: Deno KV stores a decimal like `0.1,` (4 characters) in 9 bytes and a level of
 * nested arrays `[],` in 5; text takes at most 2 bytes a character.
 */
const STORED_BYTES_PER_CHAR = 3;
/**
 * And per row, beyond its JSON: the customer's other fields (ids, timestamps, looked-up VIN and
 * title, upload-level dates) and its keys (the account id in them is added apart).
 */
const STORED_BYTES_PER_ROW = 1024;
/** Deno KV's limit on the keys of one atomic operation (81,920 bytes), with room to spare. */
const KEY_BYTES = 75_000;
/** Key bytes per row of a chunk (customer key and expiry index), beyond the account id. */
const KEY_BYTES_PER_ROW = 120;

/**
 * Splits rows into chunks of at most `chunkSize` rows and `CHUNK_CHARS` characters, each as
 * JSON `{"s": start, "r": [rows]}`, small enough that processing one fits in one atomic
 * operation (values and keys), whatever the rows hold. Lazily: one chunk's JSON at a time.
 */
export function* buildChunks(
  rows: readonly Record<string, unknown>[],
  chunkSize: number,
  account = "",
): Generator<Chunk> {
  // The account id is in every customer key (and its bytes count among the stored ones).
  const storedPerRow = STORED_BYTES_PER_ROW + 2 * account.length;
  const keyBytesPerRow = KEY_BYTES_PER_ROW + 2 * account.length;
  function* split(start: number, end: number): Generator<Chunk> {
    const json = JSON.stringify({ s: start, r: rows.slice(start, end) });
    const count = end - start;
    const tooBig = json.length > CHUNK_CHARS ||
      STORED_BYTES_PER_CHAR * json.length + count * storedPerRow > ATOMIC_BYTES ||
      count * keyBytesPerRow > KEY_BYTES;
    if (tooBig && count > 1) {
      const middle = start + Math.floor((end - start) / 2);
      yield* split(start, middle);
      yield* split(middle, end);
    } else {
      yield { json, start, count: end - start };
    }
  }
  for (let start = 0; start < rows.length; start += chunkSize) {
    yield* split(start, Math.min(rows.length, start + chunkSize));
  }
}

/**
 * The queue messages for chunks (`[index, parts]`, ascending): consecutive chunks share a
 * message, at most `CHUNKS_PER_MESSAGE` each.
 */
export function chunkMessages(
  uploadId: string,
  chunks: readonly (readonly [index: number, parts: number])[],
): ChunkMessage[] {
  const messages: ChunkMessage[] = [];
  let current: { rc: "chunk"; u: string; i: number; p: number[] } | null = null;
  for (const [i, parts] of chunks) {
    if (
      current === null || current.i + current.p.length !== i ||
      current.p.length >= CHUNKS_PER_MESSAGE
    ) {
      current = { rc: "chunk", u: uploadId, i, p: [] };
      messages.push(current);
    }
    current.p.push(parts);
  }
  return messages;
}

/** The sandbox's KV operations. */
export class Store {
  readonly kv: Deno.Kv;
  readonly #now: () => Date;
  readonly #chunkSize: number;

  constructor(kv: Deno.Kv, now: () => Date, chunkSize: number) {
    this.kv = kv;
    this.#now = now;
    this.#chunkSize = chunkSize;
  }

  /**
   * Stores an upload durably: its chunks first (invisible until the upload record exists), then
   * the upload record with its first chunk messages, in the same atomic operation as the last
   * chunks when they fit, once every earlier chunk write has succeeded.
   *
   * Takes the rows: every chunk is serialised into its write operation first, in one synchronous
   * step, and `input.rows` is emptied before anything is awaited. Only the operations' serialised
   * bytes (outside the JS heap) wait for the KV; row objects or chunk strings held across KV round
   * trips would be promoted by the garbage collector and inflate the heap. Nothing of the upload
   * stays in memory afterwards: the processor reads each chunk back from the KV.
   */
  async acceptUpload(account: string, region: Region, input: UploadInput): Promise<UploadView> {
    const at = this.#now();
    const id = newUploadId(at);
    const meta: UploadMeta = {
      id,
      account_id: account,
      name: input.name,
      region,
      enable_rego_lookups: input.enable_rego_lookups,
      monitor_start_date: input.monitor_start_date,
      monitor_end_date: input.monitor_end_date,
      total_uploaded_customers: input.rows.length,
      chunk_count: 0,
      created_at: at.toISOString(),
      cancelled_at: null,
    };
    const parts: number[] = [];
    const ops: Deno.AtomicOperation[] = [];
    let op = this.kv.atomic();
    let opBytes = 0;
    let opCount = 0;
    for (const { json } of buildChunks(input.rows, this.#chunkSize, account)) {
      if (opCount > 0 && (opBytes + 2 * json.length + 1024 > ATOMIC_BYTES || opCount >= 500)) {
        ops.push(op);
        op = this.kv.atomic();
        opBytes = 0;
        opCount = 0;
      }
      const i = parts.length;
      let n = 0;
      for (; n * PART_CHARS < json.length; n++) {
        const text = json.slice(n * PART_CHARS, (n + 1) * PART_CHARS);
        op.set(keys.chunkPart(id, i, n), text);
        opBytes += 2 * text.length + 64;
        opCount++;
      }
      parts.push(n);
    }
    input.rows.length = 0;
    meta.chunk_count = parts.length;
    const messages = chunkMessages(id, parts.map((n, i) => [i, n] as const));
    const firstBatch = Math.min(messages.length, ENQUEUES_PER_ATOMIC);
    // The record and its first messages join the last chunks' operation if that stays well
    // within KV's limits (1000 mutations, 819,200 bytes); else they get one of their own.
    if (
      opCount + firstBatch > ENQUEUES_PER_ATOMIC - 10 || opBytes + 100 * firstBatch > ATOMIC_BYTES
    ) {
      ops.push(op);
      op = this.kv.atomic();
    }
    op.check({ key: keys.upload(id), versionstamp: null })
      .set(keys.upload(id), meta)
      .set(keys.pending(id), true);
    for (let m = 0; m < firstBatch; m++) enqueue(op, messages[m]);
    ops.push(op);
    // The chunk operations at most WRITES_IN_FLIGHT at once; the last one (with the record)
    // only once all of them have succeeded.
    const writing: Promise<void>[] = [];
    try {
      for (let k = 0; k < ops.length - 1; k++) {
        if (writing.length >= WRITES_IN_FLIGHT) await writing.shift();
        const write = commit(ops[k], "store the upload's chunks").then(() => {});
        write.catch(() => {}); // awaited (and rethrown) here or below
        writing.push(write);
        ops[k] = null as unknown as Deno.AtomicOperation; // committing: its bytes may go
      }
      await Promise.all(writing);
      await commit(ops[ops.length - 1], "store the upload");
    } catch (e) {
      await Promise.allSettled(writing);
      await this.#dropChunks(id);
      throw e;
    }
    // Beyond the first batch. The upload is accepted by now: a failure or a crash here is
    // repaired by Processor.recover (at start, and when idle() sees no progress).
    try {
      await this.#enqueue(messages.slice(firstBatch));
    } catch (e) {
      console.error(`recapture sandbox: upload ${id} accepted; enqueueing left to recovery:`, e);
    }
    return this.#view(meta, [null, null, null, null], []);
  }

  /** Best effort: deletes the stored chunks of an upload not accepted, or cancelled. */
  async #dropChunks(id: string): Promise<void> {
    try {
      let op = this.kv.atomic();
      let n = 0;
      for await (const entry of this.kv.list({ prefix: keys.chunkPrefix(id) })) {
        op.delete(entry.key);
        if (++n % 500 === 0) {
          await op.commit();
          op = this.kv.atomic();
        }
      }
      await op.commit();
    } catch {
      // The KV is failing; the orphan chunks are never enqueued and stay invisible.
    }
  }

  /** Enqueues the messages for chunks (`[index, parts]`, ascending) of an upload. */
  async enqueueChunks(uploadId: string, chunks: [index: number, parts: number][]): Promise<void> {
    await this.#enqueue(chunkMessages(uploadId, chunks));
  }

  /** Enqueues messages, in atomic operations within KV's limits. */
  async #enqueue(messages: ChunkMessage[]): Promise<void> {
    for (let from = 0; from < messages.length; from += ENQUEUES_PER_ATOMIC) {
      const op = this.kv.atomic();
      for (const message of messages.slice(from, from + ENQUEUES_PER_ATOMIC)) enqueue(op, message);
      await commit(op, "enqueue the upload's chunks");
    }
  }

  /** The upload `id` as `account` may see it in `region`, or the API's error. */
  async uploadFor(account: string, region: Region, id: string): Promise<Deno.KvEntry<UploadMeta>> {
    const entry = isUploadId(id) ? await this.kv.get<UploadMeta>(keys.upload(id)) : null;
    if (!entry || entry.value === null) throw new HttpError(404, MESSAGES.invalidUploadId);
    if (entry.value.account_id !== account) throw new HttpError(403, MESSAGES.uploadPermission);
    if (entry.value.region !== region) throw new HttpError(400, MESSAGES.incorrectRegion);
    return entry as Deno.KvEntry<UploadMeta>;
  }

  /** The upload object with its counters. */
  async uploadView(meta: UploadMeta): Promise<UploadView> {
    return (await this.#readView(meta)).view;
  }

  /** The upload object, and the entry of the processed counter it was read from. */
  async #readView(
    meta: UploadMeta,
  ): Promise<{ view: UploadView; processed: Deno.KvEntryMaybe<unknown> }> {
    const id = meta.id;
    const entries = await this.kv.getMany([
      keys.counter(id, "processed"),
      keys.counter(id, "errors"),
      keys.counter(id, "lookups"),
      keys.touched(id),
    ]);
    const errors: RowError[] = [];
    for await (
      const e of this.kv.list<RowError>({ prefix: keys.rowErrorPrefix(id) }, {
        limit: ERRORS_SHOWN,
      })
    ) {
      errors.push(e.value);
    }
    return { view: this.#view(meta, entries.map((e) => e.value), errors), processed: entries[0] };
  }

  #view(meta: UploadMeta, values: unknown[], errors: RowError[]): UploadView {
    const processed = num(values[0]);
    const uploaded = meta.total_uploaded_customers;
    const status = meta.cancelled_at
      ? "cancelled"
      : processed >= uploaded
      ? "completed"
      : processed > 0
      ? "processing"
      : "queued";
    const touched = typeof values[3] === "string" ? values[3] : null;
    return {
      id: meta.id,
      name: meta.name,
      region: meta.region,
      enable_rego_lookups: meta.enable_rego_lookups,
      monitor_start_date: meta.monitor_start_date,
      monitor_end_date: meta.monitor_end_date,
      status,
      total_uploaded_customers: uploaded,
      total_processed_customers: processed,
      total_errors: num(values[1]),
      total_rego_lookups: num(values[2]),
      errors,
      created_at: meta.created_at,
      updated_at: [touched, meta.cancelled_at, meta.created_at].filter((t): t is string => !!t)
        .sort().at(-1)!,
      cancelled_at: meta.cancelled_at,
    };
  }

  /** Cancels an upload: chunks not yet processed will create no customers. */
  async cancelUpload(account: string, region: Region, id: string): Promise<UploadView> {
    // Each failed attempt means a chunk committed (or another cancel did): the chunks are
    // finite, so this ends; 20 more for other writers.
    let attempts = 20;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const entry = await this.uploadFor(account, region, id);
      if (attempt === 0) attempts += entry.value.chunk_count;
      // A chunk's commit checks the upload record but writes only the counters: the cancel
      // checks the processed counter too, so a chunk finishing meanwhile makes it look again
      // (and find the upload completed) instead of cancelling a finished upload.
      const { view, processed } = await this.#readView(entry.value);
      if (view.status === "cancelled" || view.status === "completed") return view;
      const meta = { ...entry.value, cancelled_at: this.#now().toISOString() };
      const result = await this.kv.atomic()
        .check(entry, processed)
        .set(keys.upload(id), meta)
        .delete(keys.pending(id))
        .commit();
      if (result.ok) {
        await this.#dropChunks(id); // pending messages then find nothing to do
        return this.uploadView(meta);
      }
    }
    throw new HttpError(503, "The upload is busy; try again");
  }

  /** The customer `id` as `account` may see it in `region`, or the API's error. */
  async customerFor(
    account: string,
    region: Region,
    id: string,
  ): Promise<Deno.KvEntry<CustomerRecord> & { owner: string }> {
    const uploadId = uploadIdOf(id);
    const meta = uploadId ? (await this.kv.get<UploadMeta>(keys.upload(uploadId))).value : null;
    if (!meta) throw new HttpError(404, MESSAGES.invalidCustomerId);
    const entry = await this.kv.get<CustomerRecord>(
      keys.customer(meta.account_id, meta.region, id),
    );
    if (entry.value === null || isExpired(entry.value, day(this.#now()))) {
      throw new HttpError(404, MESSAGES.invalidCustomerId);
    }
    if (meta.account_id !== account) throw new HttpError(403, MESSAGES.customerPermission);
    if (meta.region !== region) throw new HttpError(400, MESSAGES.incorrectRegion);
    return { ...(entry as Deno.KvEntry<CustomerRecord>), owner: meta.account_id };
  }

  /**
   * A page of the account's customers in a region, oldest upload first, then row order. The
   * paging counts (live customers per upload, per group of rows and per bucket of rows, summed
   * in the same atomic operations that create and delete customers) lead to the bucket holding
   * `offset` without walking the customers before it. The counters the total comes from are read
   * again afterwards: if customers came or went meanwhile, the page is read again.
   */
  async listCustomers(
    account: string,
    region: Region,
    page: { offset: number; limit: number; uploadId?: string },
  ): Promise<{ customers: CustomerRecord[]; total: number }> {
    const meta = page.uploadId === undefined
      ? null
      : (await this.uploadFor(account, region, page.uploadId)).value;
    const counters = meta
      ? [
        keys.counter(meta.id, "processed"),
        keys.counter(meta.id, "errors"),
        keys.counter(meta.id, "removed"),
      ]
      : [
        keys.accountCounter(account, region, "created"),
        keys.accountCounter(account, region, "removed"),
      ];
    let result = { customers: [] as CustomerRecord[], total: 0 };
    for (let attempt = 0; attempt < PAGE_ATTEMPTS; attempt++) {
      await this.sweep();
      const today = day(this.#now());
      const before = await this.kv.getMany(counters);
      const [plus, ...minus] = before.map((e) => num(e.value));
      const total = Math.max(0, minus.reduce((t, n) => t - n, plus));
      const customers = page.limit > 0 && page.offset < total
        ? await this.#page(account, region, meta?.id ?? null, page, today)
        : [];
      result = { customers, total };
      const after = await this.kv.getMany(counters);
      if (after.every((e, k) => e.versionstamp === before[k].versionstamp)) break;
    }
    return result;
  }

  /**
   * Reads `limit` customers from position `offset` of an account's list (or of one upload's):
   * the upload, group and bucket holding that position are found from their counts, then the
   * customers are read from the start of that bucket on.
   */
  async #page(
    account: string,
    region: Region,
    scope: string | null,
    page: { offset: number; limit: number },
    today: string,
  ): Promise<CustomerRecord[]> {
    let uploadId = scope;
    let skip = page.offset;
    if (uploadId === null) {
      const found = await this.#seek({ prefix: keys.pageUploadPrefix(account, region) }, skip);
      if (found === null) return [];
      uploadId = found.key.at(-1) as string;
      skip = found.skip;
    }
    const group = await this.#seek({ prefix: keys.pageGroupPrefix(uploadId) }, skip);
    if (group === null) return [];
    const g = group.key.at(-1) as number;
    const bucket = await this.#seek({
      start: keys.pageBucket(uploadId, g * PAGE_GROUP_BUCKETS),
      end: keys.pageBucket(uploadId, (g + 1) * PAGE_GROUP_BUCKETS),
    }, group.skip);
    if (bucket === null) return [];
    skip = bucket.skip;
    const first = customerId(uploadId, (bucket.key.at(-1) as number) * PAGE_BUCKET_ROWS);
    const last = scope === null ? "cus_~" : customerIdRange(scope)[1];
    const customers: CustomerRecord[] = [];
    const iterator = this.kv.list<CustomerRecord>({
      start: keys.customer(account, region, first),
      end: keys.customer(account, region, last),
    }, { batchSize: Math.min(1000, skip + page.limit) });
    for await (const entry of iterator) {
      if (isExpired(entry.value, today)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      customers.push(entry.value);
      if (customers.length >= page.limit) break;
    }
    return customers;
  }

  /**
   * Walks counts (KvU64 entries) in key order to the one holding position `skip`: answers its
   * key and the position within it, or null when the counts end first.
   */
  async #seek(
    selector: Deno.KvListSelector,
    skip: number,
  ): Promise<{ key: Deno.KvKey; skip: number } | null> {
    for await (const entry of this.kv.list(selector, { batchSize: 1000 })) {
      const count = num(entry.value);
      if (skip < count) return { key: entry.key, skip };
      skip -= count;
    }
    return null;
  }

  /**
   * Builds the paging counts from the customers when the KV has none yet (a KV written before
   * they existed): once, before processing starts. Safe to repeat after a crash half-way.
   */
  async preparePaging(): Promise<void> {
    if ((await this.kv.get(keys.pagingReady())).value !== null) return;
    for (const prefix of keys.pagingRoots()) {
      let op = this.kv.atomic();
      let n = 0;
      for await (const entry of this.kv.list({ prefix })) {
        op.delete(entry.key);
        if (++n % 500 === 0) {
          await commit(op, "reset the paging counts");
          op = this.kv.atomic();
        }
      }
      await commit(op, "reset the paging counts");
    }
    const counts = new Map<string, { key: Deno.KvKey; n: number }>();
    const add = (key: Deno.KvKey) => {
      const id = JSON.stringify(key);
      const count = counts.get(id) ?? { key, n: 0 };
      count.n++;
      counts.set(id, count);
    };
    const customers = this.kv.list<CustomerRecord>({ prefix: keys.customerRoot() }, {
      batchSize: 1000,
    });
    for await (const entry of customers) {
      const [, , account, region, id] = entry.key as [string, string, string, Region, string];
      const uploadId = uploadIdOf(id);
      if (uploadId === null) continue;
      const row = rowOf(id);
      add(keys.pageUpload(account, region, uploadId));
      add(keys.pageGroup(uploadId, Math.floor(row / PAGE_GROUP_ROWS)));
      add(keys.pageBucket(uploadId, Math.floor(row / PAGE_BUCKET_ROWS)));
    }
    let op = this.kv.atomic();
    let n = 0;
    for (const { key, n: count } of counts.values()) {
      op.set(key, new Deno.KvU64(BigInt(count)));
      if (++n % 500 === 0) {
        await commit(op, "write the paging counts");
        op = this.kv.atomic();
      }
    }
    await commit(op.set(keys.pagingReady(), true), "write the paging counts");
  }

  /** Applies a PATCH (only the given fields change) and answers the updated customer. */
  async updateCustomer(
    account: string,
    region: Region,
    id: string,
    patch: CustomerPatch,
  ): Promise<CustomerRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await this.customerFor(account, region, id);
      const before = entry.value;
      const after: CustomerRecord = {
        ...before,
        ...patch,
        last_updated: this.#now().toISOString(),
      };
      if (isExpired(after, day(this.#now()))) {
        // Expired by this change: deleted now, as the sweep would, so no list counts it.
        if ((await this.#remove(entry, account, region).commit()).ok) return after;
        continue;
      }
      const op = this.kv.atomic().check(entry).set(entry.key, after);
      if (before.expiry_date !== after.expiry_date) {
        if (before.expiry_date) op.delete(keys.expiry(before.expiry_date, id));
        if (after.expiry_date) {
          op.set(keys.expiry(after.expiry_date, id), { a: account, r: region });
        }
      }
      if ((await op.commit()).ok) return after;
    }
    throw new HttpError(503, "The customer is busy; try again");
  }

  /** Deletes a customer and answers it as it was. */
  async deleteCustomer(account: string, region: Region, id: string): Promise<CustomerRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await this.customerFor(account, region, id);
      if ((await this.#remove(entry, account, region).commit()).ok) return entry.value;
    }
    throw new HttpError(503, "The customer is busy; try again");
  }

  #remove(
    entry: Deno.KvEntry<CustomerRecord>,
    account: string,
    region: Region,
  ): Deno.AtomicOperation {
    const c = entry.value;
    const op = this.kv.atomic()
      .check(entry)
      .delete(entry.key)
      .sum(keys.accountCounter(account, region, "removed"), 1n)
      .sum(keys.counter(c.upload_id, "removed"), 1n);
    sumPaging(op, account, region, c.upload_id, [rowOf(c.id)], -1);
    if (c.expiry_date) op.delete(keys.expiry(c.expiry_date, c.id));
    return op;
  }

  /** Deletes every customer whose expiry date has come; answers how many. */
  async sweep(): Promise<number> {
    const today = day(this.#now());
    let swept = 0;
    const due = this.kv.list<{ a: string; r: Region }>({
      start: keys.expiryPrefix(),
      end: [...keys.expiryPrefix(), today + "~"],
    });
    for await (const item of due) {
      const id = item.key[item.key.length - 1] as string;
      const entry = await this.kv.get<CustomerRecord>(
        keys.customer(item.value.a, item.value.r, id),
      );
      if (entry.value === null) {
        await this.kv.atomic().check(item).delete(item.key).commit();
        continue;
      }
      const op = this.#remove(entry as Deno.KvEntry<CustomerRecord>, item.value.a, item.value.r);
      if ((await op.check(item).commit()).ok) swept++;
    }
    return swept;
  }
}

function enqueue(op: Deno.AtomicOperation, message: ChunkMessage): void {
  op.enqueue(message, { backoffSchedule: CHUNK_BACKOFF });
}

async function commit(op: Deno.AtomicOperation, what: string): Promise<string> {
  const result = await op.commit();
  if (!result.ok) throw new Error(`Could not ${what}: a concurrent write conflicted`);
  return result.versionstamp;
}
