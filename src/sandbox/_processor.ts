/**
 * Processing through Deno KV queues: one message per run of up to `CHUNKS_PER_MESSAGE` chunks,
 * exactly once per chunk. A chunk's customers, its row errors, the upload's counters and the
 * chunk's done-marker are written in one atomic operation guarded by "the done-marker does not
 * exist yet" and "the upload record is unchanged" (so a cancel in between wins). A crash at any
 * point either commits all of that or none; redelivered or re-enqueued messages of done chunks
 * do nothing. Each chunk is read back from the KV (nothing of an upload is held in memory), and
 * at most `CHUNKS_IN_FLIGHT` chunks are in progress at once.
 *
 * @module
 */
import { customerId, uploadIdTime } from "./_ids.ts";
import { keys, num, sumPaging, u64 } from "./_keys.ts";
import { processRow, type RowContext, type RowOutcome } from "./_rows.ts";
import { type ChunkMessage, chunksOf, isChunkMessage, type Store } from "./_store.ts";
import type { UploadMeta } from "./_types.ts";

/**
 * Chunks being read, built or committed at once, over all messages: with two or more, one chunk
 * is read and built (JS) while another commits (KV), and KV always has the next write queued.
 * The bound keeps memory flat however long the queue is (a chunk in flight holds its rows,
 * customers and serialised writes, about 1 MB at 400 rows).
 */
const CHUNKS_IN_FLIGHT = 3;
/**
 * Chunks in flight while requests are being served: requests come first (the sooner a request
 * is answered, the sooner its data is garbage), processing goes on beside them.
 */
const CHUNKS_WHILE_SERVING = 1;

/** A FIFO semaphore whose capacity may change (call `wake()` when it grows). */
class Slots {
  readonly #capacity: () => number;
  #taken = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(capacity: () => number) {
    this.#capacity = capacity;
  }

  /** Resolves when a slot is taken. */
  acquire(): Promise<void> {
    if (this.#waiting.length === 0 && this.#taken < this.#capacity()) {
      this.#taken++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives a slot back. */
  release(): void {
    this.#taken--;
    this.wake();
  }

  /** Hands free slots to the longest waiters. */
  wake(): void {
    while (this.#waiting.length > 0 && this.#taken < this.#capacity()) {
      this.#taken++;
      this.#waiting.shift()!();
    }
  }
}

/** Runs the queue listener and tracks work in progress. */
export class Processor {
  readonly #store: Store;
  readonly #now: () => Date;
  readonly #slots = new Slots(() => this.#serving > 0 ? CHUNKS_WHILE_SERVING : CHUNKS_IN_FLIGHT);
  #serving = 0;
  #inflight = 0;
  #listening: Promise<void> | null = null;
  #closed = false;
  readonly #kvClosed = Promise.withResolvers<void>();
  /** Resolved (and replaced) each time a message is finished. */
  #finishedOne = Promise.withResolvers<void>();
  /** Handles queue messages that are not chunks (alert pushes); set before `start()`. */
  other: ((message: unknown) => Promise<void>) | null = null;

  /** The test hook awaited before each chunk (`SandboxOptions.beforeChunk`). */
  readonly #beforeChunk: ((uploadId: string, index: number) => Promise<void> | void) | undefined;

  constructor(
    store: Store,
    now: () => Date,
    beforeChunk?: (uploadId: string, index: number) => Promise<void> | void,
  ) {
    this.#store = store;
    this.#now = now;
    this.#beforeChunk = beforeChunk;
  }

  /** Counts a request being served (processing slows down meanwhile); call `served()` after. */
  serving(): void {
    this.#serving++;
  }

  /** A request counted by `serving()` is answered. */
  served(): void {
    if (--this.#serving === 0) this.#slots.wake();
  }

  /** Starts listening on the KV queue. */
  start(): void {
    this.#listening = this.#store.kv.listenQueue((message) => this.#handle(message));
  }

  /**
   * Handles one queue message. While the sandbox closes, a message (new, or whose work the
   * closing interrupted) is left unacknowledged, quietly: its handler settles only after the KV
   * is closed, when acknowledging it can no longer reach the KV. It stays queued in a KV file
   * and runs again after a restart (unfinished chunks are also re-enqueued by `recover`).
   * Throwing instead would print "Exception in queue handler" and retry it at once.
   */
  async #handle(message: unknown): Promise<void> {
    const chunk = isChunkMessage(message);
    if (!chunk && !this.other) return;
    if (this.#closed) return await this.#kvClosed.promise;
    this.#inflight++;
    let failure: { error: unknown } | null = null;
    try {
      if (chunk) await this.processMessage(message);
      else await this.other!(message);
    } catch (error) {
      failure = { error };
    } finally {
      this.#inflight--;
      const finished = this.#finishedOne;
      this.#finishedOne = Promise.withResolvers<void>();
      finished.resolve();
    }
    if (failure === null) return;
    if (this.#closed) return await this.#kvClosed.promise;
    throw failure.error; // retried with the message's backoff
  }

  /** Takes no new messages and waits (up to `maxMs`) for the ones being processed. */
  async drain(maxMs = 10_000): Promise<void> {
    this.#closed = true;
    const until = Date.now() + maxMs;
    while (this.#inflight > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /**
   * Call right after closing the KV: lets the handlers left unacknowledged settle, and resolves
   * when the listener has stopped.
   */
  async stopped(): Promise<void> {
    this.#closed = true;
    this.#kvClosed.resolve();
    await this.#listening?.catch(() => {});
  }

  /**
   * Processes the chunks of one message, each once: a chunk already done, or of a cancelled
   * upload, is skipped. Chunks run through the processor's slots (a pipeline); a failure of any
   * fails the message, which is then retried (its done chunks are skipped).
   */
  async processMessage(message: ChunkMessage): Promise<void> {
    const tasks: Promise<void>[] = [];
    for (const [i, parts] of chunksOf(message)) {
      await this.#slots.acquire();
      if (this.#closed) {
        this.#slots.release();
        tasks.push(Promise.reject(new Error("The sandbox is closing")));
        break;
      }
      const task = this.processChunk(message.u, i, parts).finally(() => this.#slots.release());
      task.catch(() => {}); // awaited below
      tasks.push(task);
    }
    const failed = (await Promise.allSettled(tasks)).find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Processes chunk `i` (stored in `parts` parts) of an upload, once. */
  async processChunk(uploadId: string, i: number, parts: number): Promise<void> {
    if (this.#beforeChunk !== undefined) await this.#beforeChunk(uploadId, i);
    const kv = this.#store.kv;
    const partKeys = Array.from({ length: parts }, (_, p) => keys.chunkPart(uploadId, i, p));
    for (let attempt = 0; attempt < 50; attempt++) {
      // The step is built synchronously, so the chunk's rows and customers are garbage before
      // the commit is awaited: only the operation's serialised values live across it.
      const step = this.#step(
        uploadId,
        i,
        partKeys,
        await kv.getMany([keys.done(uploadId, i), keys.upload(uploadId), ...partKeys]),
      );
      if (step === null) return;
      const { ok } = await step.op.commit();
      if (ok || step.last) return;
      // Done meanwhile, or cancelled: look again. (The upload's pending mark is cleared lazily.)
    }
    throw new Error(`Chunk ${i} of upload ${uploadId} kept conflicting; it will be retried`);
  }

  /**
   * What to write for a chunk, given its done-marker, its upload and its stored parts: nothing
   * (done already, or parts missing while the upload is live), a clean-up of its parts (the
   * upload is cancelled, or was never accepted; `last`), or its customers, errors, counters and
   * done-marker in one operation guarded by "not done" and "upload unchanged".
   */
  #step(
    uploadId: string,
    i: number,
    partKeys: Deno.KvKey[],
    entries: Deno.KvEntryMaybe<unknown>[],
  ): { op: Deno.AtomicOperation; last: boolean } | null {
    const kv = this.#store.kv;
    const [done, metaEntry, ...stored] = entries;
    if (done.value !== null) return null;
    const meta = metaEntry.value as UploadMeta | null;
    const texts = stored.map((p) => p.value).filter((v): v is string => typeof v === "string");
    if (meta === null || meta.cancelled_at !== null || texts.length !== partKeys.length) {
      // Cancelled (or an orphan chunk of an upload never accepted): nothing more to create.
      if (meta !== null && meta.cancelled_at === null) return null;
      const op = kv.atomic().check(metaEntry);
      for (const key of partKeys) op.delete(key);
      return { op, last: true };
    }
    const { start, rows } = parseChunk(texts.join(""));
    const now = this.#now().toISOString();
    const ctx = {
      uploadId,
      region: meta.region,
      enableRegoLookups: meta.enable_rego_lookups,
      monitorStartDate: meta.monitor_start_date,
      monitorEndDate: meta.monitor_end_date,
      now,
    };
    const op = kv.atomic()
      .check({ key: keys.done(uploadId, i), versionstamp: null })
      .check(metaEntry);
    const createdRows: number[] = [];
    let errors = 0;
    let lookups = 0;
    for (let j = 0; j < rows.length; j++) {
      const index = start + j;
      const outcome = processSafely(rows[j], index, customerId(uploadId, index), ctx);
      if (!outcome.ok) {
        errors++;
        op.set(keys.rowError(uploadId, index), outcome.error);
        continue;
      }
      if (outcome.lookedUp) lookups++;
      const c = outcome.customer;
      createdRows.push(index);
      op.set(keys.customer(meta.account_id, meta.region, c.id), c);
      if (c.expiry_date) {
        op.set(keys.expiry(c.expiry_date, c.id), { a: meta.account_id, r: meta.region });
      }
    }
    op.sum(keys.counter(uploadId, "processed"), u64(rows.length))
      .sum(keys.accountCounter(meta.account_id, meta.region, "created"), u64(createdRows.length))
      .set(keys.touched(uploadId), now)
      .set(keys.done(uploadId, i), true);
    for (const key of partKeys) op.delete(key);
    // The paging counts of these customers, in the same exactly-once operation.
    sumPaging(op, meta.account_id, meta.region, uploadId, createdRows, 1);
    if (errors > 0) op.sum(keys.counter(uploadId, "errors"), u64(errors));
    if (lookups > 0) op.sum(keys.counter(uploadId, "lookups"), u64(lookups));
    return { op, last: false };
  }

  /**
   * Re-enqueues the chunks of unfinished uploads that are not done: after a crash between
   * acceptance and the last enqueue, or if a message was dropped. Duplicates are harmless.
   */
  async recover(): Promise<number> {
    const kv = this.#store.kv;
    await this.#dropOrphans();
    let enqueued = 0;
    for await (const pending of kv.list({ prefix: keys.pendingPrefix() })) {
      const uploadId = pending.key[pending.key.length - 1] as string;
      const meta = (await kv.get<UploadMeta>(keys.upload(uploadId))).value;
      if (await this.#finished(uploadId, meta)) continue;
      const done = new Set<number>();
      for await (const d of kv.list({ prefix: keys.donePrefix(uploadId) })) {
        done.add(d.key[d.key.length - 1] as number);
      }
      const parts = new Map<number, number>();
      for await (const p of kv.list({ prefix: keys.chunkPrefix(uploadId) }, { batchSize: 1000 })) {
        const i = p.key[p.key.length - 2] as number;
        parts.set(i, (parts.get(i) ?? 0) + 1);
      }
      const missing: [number, number][] = [];
      for (const [i, count] of parts) if (!done.has(i)) missing.push([i, count]);
      await this.#store.enqueueChunks(uploadId, missing);
      enqueued += missing.length;
    }
    return enqueued;
  }

  /**
   * Deletes the chunks of uploads whose acceptance never finished (a crash during the POST,
   * which then answered nothing): no upload record, and older than ten minutes.
   */
  async #dropOrphans(): Promise<void> {
    const kv = this.#store.kv;
    const known = new Map<string, boolean>();
    const cutoff = this.#now().getTime() - 10 * 60_000;
    for await (const part of kv.list({ prefix: keys.chunkRoot() }, { batchSize: 1000 })) {
      const uploadId = part.key[2] as string;
      let accepted = known.get(uploadId);
      if (accepted === undefined) {
        accepted = (await kv.get(keys.upload(uploadId))).versionstamp !== null ||
          !(uploadIdTime(uploadId) < cutoff);
        known.set(uploadId, accepted);
      }
      if (!accepted) await kv.delete(part.key);
    }
  }

  /** Clears the pending mark of a finished upload; answers whether it was finished. */
  async #finished(uploadId: string, meta: UploadMeta | null): Promise<boolean> {
    const kv = this.#store.kv;
    if (meta !== null && meta.cancelled_at === null) {
      const processed = await kv.get(keys.counter(uploadId, "processed"));
      if (num(processed.value) < meta.total_uploaded_customers) return false;
    }
    await kv.delete(keys.pending(uploadId));
    return true;
  }

  /**
   * Resolves when no upload has chunks left to process. The KV is checked whenever this process
   * has no message in progress (on finishing one, or every 50 ms): not while it is busy, which
   * would only slow it down. If nothing moves for `stallMs`, the missing chunks are re-enqueued
   * (see {@linkcode recover}).
   */
  async idle(stallMs = 2000): Promise<void> {
    let lastProgress = Date.now();
    let lastMark = -1;
    while (!this.#closed) {
      if (this.#inflight === 0) {
        if ((await this.#pendingUploads()) === 0 && this.#inflight === 0) return;
        const mark = await this.#progressMark();
        if (mark !== lastMark) {
          lastMark = mark;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > stallMs && this.#inflight === 0) {
          await this.recover();
          lastProgress = Date.now();
        }
      }
      await this.#settled(50);
    }
    throw new Error("The sandbox was closed while waiting for it to be idle");
  }

  /** How many uploads have chunks left (clearing the pending marks of finished ones). */
  async #pendingUploads(): Promise<number> {
    const kv = this.#store.kv;
    let pending = 0;
    for await (const entry of kv.list({ prefix: keys.pendingPrefix() })) {
      const uploadId = entry.key[entry.key.length - 1] as string;
      const meta = (await kv.get<UploadMeta>(keys.upload(uploadId))).value;
      if (!(await this.#finished(uploadId, meta))) pending++;
    }
    return pending;
  }

  /** Resolves when a message is finished here, or after `ms`. */
  async #settled(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#finishedOne.promise,
        new Promise((resolve) => timer = setTimeout(resolve, ms)),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A number that changes whenever a chunk is processed. */
  async #progressMark(): Promise<number> {
    let sum = 0;
    for await (const entry of this.#store.kv.list({ prefix: keys.pendingPrefix() })) {
      const uploadId = entry.key[entry.key.length - 1] as string;
      sum += num((await this.#store.kv.get(keys.counter(uploadId, "processed"))).value);
    }
    return sum;
  }
}

function parseChunk(json: string): { start: number; rows: Record<string, unknown>[] } {
  const { s, r } = JSON.parse(json) as { s: number; r: Record<string, unknown>[] };
  return { start: s, rows: r };
}

/** A row that makes processing throw counts as a row error instead of blocking its chunk. */
function processSafely(
  row: Record<string, unknown>,
  index: number,
  id: string,
  ctx: RowContext,
): RowOutcome {
  try {
    return processRow(row, index, id, ctx);
  } catch (e) {
    return {
      ok: false,
      error: { index, field: "", reason: `could not be processed: ${String(e)}` },
    };
  }
}
