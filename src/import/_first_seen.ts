// Where each text was first seen (a row and its line): the memory of the duplicate checks in
// src/import/_row_warnings.ts, which keep an entry per vehicle of a file (and per row of a
// vehicle met more than once).
//
// An open-addressing table in one Int32Array, keyed by a 64-bit hash of the text, rather than a
// Map of number keys: those cost ~150 bytes and ~1.9 µs a row (at 1M rows a live heap of 160 MB,
// against the CLI's 256 MB heap limit and the import benchmark's peak RSS goal of 250 MB; the
// client-side upload figure fell from 186k to 102k rows/s). Here a slot is 24 bytes, the table
// at most 3/4 full.

/** Where a text was first seen. */
export interface Seen {
  /** The row (0-based position in the input). */
  row: number;
  /** Its physical line, when the source gave lines. */
  line: number | undefined;
}

/** Where a text was first seen, and whether its detail was the same then. */
export interface FirstSight extends Seen {
  /** Whether the detail given now is the one recorded with it (by hash). */
  sameDetail: boolean;
}

/**
 * Int32 values per slot: the key's hash (two halves), the row + 1 (0: the slot is free), the
 * line (-1: none), the detail's hash (two halves).
 */
const SLOT = 6;

/** Where {@linkcode hashInto} leaves the hashes of a key and of its detail. */
const hashes = new Int32Array(4);

/**
 * The 64-bit hash of `text` (cyrb53's two 32-bit lanes, both kept: two of 1M distinct texts
 * share one with a chance of about 3 in 100 million), written to `hashes` at `at` and `at + 1`.
 */
function hashInto(text: string, at: number): void {
  // Two UTF-16 units a step (the loop's multiplications, not its reads, are its cost: half the
  // time of one a step on a row's JSON); the length in the seed tells "a" from "a\0".
  let h1 = 0xdeadbeef ^ text.length;
  let h2 = 0x41c6ce57;
  const last = text.length - 1;
  for (let i = 0; i <= last; i += 2) {
    const c = i < last ? text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16) : text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  hashes[at] = h1;
  hashes[at + 1] = h2;
}

/** Texts by their hash, each with where it was first seen and the hash of a detail. */
export class FirstSeen {
  #slots = new Int32Array(1024 * SLOT);
  /** Slots - 1 (a power of two, less one). */
  #mask = 1023;
  #size = 0;

  /**
   * Where `key` was first seen, and whether `detail` is the detail recorded then; `null` when
   * `key` had not been seen, and is now recorded, with `detail`, as seen at `row` and `line`.
   */
  first(key: string, detail: string, row: number, line: number | undefined): FirstSight | null {
    hashInto(key, 0);
    hashInto(detail, 2);
    const k1 = hashes[0], k2 = hashes[1], d1 = hashes[2], d2 = hashes[3];
    const slots = this.#slots;
    for (let i = k1 & this.#mask;; i = (i + 1) & this.#mask) {
      const at = i * SLOT;
      if (slots[at + 2] === 0) {
        slots[at] = k1;
        slots[at + 1] = k2;
        slots[at + 2] = row + 1;
        slots[at + 3] = line ?? -1;
        slots[at + 4] = d1;
        slots[at + 5] = d2;
        if (++this.#size * 4 > (this.#mask + 1) * 3) this.#grow();
        return null;
      }
      if (slots[at] === k1 && slots[at + 1] === k2) {
        const seenLine = slots[at + 3];
        return {
          row: slots[at + 2] - 1,
          line: seenLine === -1 ? undefined : seenLine,
          sameDetail: slots[at + 4] === d1 && slots[at + 5] === d2,
        };
      }
    }
  }

  /** Doubles the table, placing every entry again. */
  #grow(): void {
    const old = this.#slots;
    const mask = this.#mask * 2 + 1;
    const slots = new Int32Array((mask + 1) * SLOT);
    for (let from = 0; from < old.length; from += SLOT) {
      if (old[from + 2] === 0) continue;
      let to = (old[from] & mask) * SLOT;
      while (slots[to + 2] !== 0) to = (to + SLOT) % slots.length;
      for (let j = 0; j < SLOT; j++) slots[to + j] = old[from + j];
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
