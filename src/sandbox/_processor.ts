/**
 * Processing through Deno KV queues: one message per chunk, exactly once per chunk. A chunk's
 * customers, its row errors, the upload's counters and the chunk's done-marker are written in one
 * atomic operation guarded by "the done-marker does not exist yet" and "the upload record is
 * unchanged" (so a cancel in between wins). A crash at any point either commits all of that or
 * none; redelivered or re-enqueued messages of a done chunk do nothing.
 *
 * @module
 */
import { customerId, uploadIdTime } from "./_ids.ts";
import { keys, num, u64 } from "./_keys.ts";
import { processRow, type RowOutcome } from "./_rows.ts";
import { type ChunkMessage, isChunkMessage, type Store } from "./_store.ts";
import type { UploadMeta } from "./_types.ts";

/** Runs the queue listener and tracks work in progress. */
export class Processor {
  readonly #store: Store;
  readonly #now: () => Date;
  #inflight = 0;
  #otherInflight = 0;
  #listening: Promise<void> | null = null;
  #closed = false;
  /** Handles queue messages that are not chunks (alert pushes); set before `start()`. */
  other: ((message: unknown) => Promise<void>) | null = null;

  constructor(store: Store, now: () => Date) {
    this.#store = store;
    this.#now = now;
  }

  /** Starts listening on the KV queue. */
  start(): void {
    this.#listening = this.#store.kv.listenQueue(async (message: unknown) => {
      if (!isChunkMessage(message)) {
        if (!this.other) return;
        if (this.#closed) throw new Error("The sandbox is closing");
        this.#otherInflight++;
        try {
          await this.other(message);
        } finally {
          this.#otherInflight--;
        }
        return;
      }
      // Closing: leave the message unacknowledged; recovery re-enqueues unfinished chunks.
      if (this.#closed) throw new Error("The sandbox is closing");
      this.#inflight++;
      try {
        await this.processChunk(message);
      } finally {
        this.#inflight--;
      }
    });
  }

  /** Takes no new messages and waits (up to `maxMs`) for the ones being processed. */
  async drain(maxMs = 10_000): Promise<void> {
    this.#closed = true;
    const until = Date.now() + maxMs;
    while (this.#inflight + this.#otherInflight > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Resolves when the listener has stopped (after the KV is closed). */
  async stopped(): Promise<void> {
    this.#closed = true;
    await this.#listening?.catch(() => {});
  }

  /** Processes one chunk, once: a chunk already done, or of a cancelled upload, is skipped. */
  async processChunk(message: ChunkMessage): Promise<void> {
    const kv = this.#store.kv;
    const { u: uploadId, i } = message;
    for (let attempt = 0; attempt < 50; attempt++) {
      const partKeys = Array.from({ length: message.p }, (_, p) => keys.chunkPart(uploadId, i, p));
      const cached = this.#store.cachedChunk(uploadId, i);
      // First attempt on a chunk this process accepted: no reads at all; the atomic operation's
      // checks (no done-marker, upload record unchanged) decide, and a failure reads below.
      const accepted = cached && attempt === 0 ? this.#store.acceptedUpload(uploadId) : undefined;
      let metaEntry: Deno.KvEntryMaybe<UploadMeta>;
      let texts: string[] = [];
      if (accepted) {
        metaEntry = accepted;
      } else {
        const [done, meta, ...parts] = await kv.getMany<unknown[]>([
          keys.done(uploadId, i),
          keys.upload(uploadId),
          ...(cached ? [] : partKeys),
        ]);
        if (done.value !== null) {
          this.#store.forgetChunk(uploadId, i);
          return;
        }
        metaEntry = meta as Deno.KvEntryMaybe<UploadMeta>;
        texts = parts.map((p) => p.value).filter((v): v is string => typeof v === "string");
      }
      const meta = metaEntry.value;
      if (meta === null || meta.cancelled_at !== null || (!cached && texts.length !== message.p)) {
        // Cancelled (or an orphan chunk of an upload never accepted): nothing more to create.
        if (meta !== null && meta.cancelled_at === null) return;
        this.#store.forgetChunk(uploadId, i);
        const op = kv.atomic().check(metaEntry);
        for (const key of partKeys) op.delete(key);
        await op.commit();
        return;
      }
      const { start, rows } = cached ?? parseChunk(texts.join(""));
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
      let created = 0;
      let errors = 0;
      let lookups = 0;
      for (let j = 0; j < rows.length; j++) {
        const index = start + j;
        const outcome = safely(
          () => processRow(rows[j], index, customerId(uploadId, index), ctx),
          index,
        );
        if (!outcome.ok) {
          errors++;
          op.set(keys.rowError(uploadId, index), outcome.error);
          continue;
        }
        if (outcome.lookedUp) lookups++;
        const c = outcome.customer;
        created++;
        op.set(keys.customer(meta.account_id, meta.region, c.id), c);
        if (c.expiry_date) {
          op.set(keys.expiry(c.expiry_date, c.id), { a: meta.account_id, r: meta.region });
        }
      }
      op.sum(keys.counter(uploadId, "processed"), u64(rows.length))
        .sum(keys.accountCounter(meta.account_id, meta.region, "created"), u64(created))
        .set(keys.touched(uploadId), now)
        .set(keys.done(uploadId, i), true);
      for (const key of partKeys) op.delete(key);
      if (errors > 0) op.sum(keys.counter(uploadId, "errors"), u64(errors));
      if (lookups > 0) op.sum(keys.counter(uploadId, "lookups"), u64(lookups));
      const result = await op.commit();
      if (result.ok) {
        this.#store.forgetChunk(uploadId, i);
        return;
      }
      // Done meanwhile, or cancelled: look again. (The upload's pending mark is cleared lazily.)
    }
    throw new Error(`Chunk ${i} of upload ${uploadId} kept conflicting; it will be retried`);
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
    this.#store.forgetUpload(uploadId); // processed elsewhere (another process on the same file)
    return true;
  }

  /**
   * Resolves when no upload has chunks left to process. If nothing moves for `stallMs`, the
   * missing chunks are re-enqueued (see {@linkcode recover}).
   */
  async idle(stallMs = 2000): Promise<void> {
    const kv = this.#store.kv;
    let lastProgress = Date.now();
    let lastPending = -1;
    let wait = 2;
    while (!this.#closed) {
      let pending = 0;
      for await (const entry of kv.list({ prefix: keys.pendingPrefix() })) {
        const uploadId = entry.key[entry.key.length - 1] as string;
        const meta = (await kv.get<UploadMeta>(keys.upload(uploadId))).value;
        if (!(await this.#finished(uploadId, meta))) pending++;
      }
      if (pending === 0 && this.#inflight === 0) return;
      const progress = await this.#progressMark();
      if (progress !== lastPending) {
        lastPending = progress;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > stallMs && this.#inflight === 0) {
        await this.recover();
        lastProgress = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 20);
    }
    throw new Error("The sandbox was closed while waiting for it to be idle");
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
function safely(fn: () => RowOutcome, index: number): RowOutcome {
  try {
    return fn();
  } catch (e) {
    return {
      ok: false,
      error: { index, field: "", reason: `could not be processed: ${String(e)}` },
    };
  }
}
