// Where each text was first seen (a row and its line): the memory of the duplicate checks in
// src/import/_row_warnings.ts, which keep one entry per distinct row and per vehicle of a file.
//
// An open-addressing table in one Int32Array, keyed by a 64-bit hash of the text, rather than a
// Map of number keys: those cost ~150 bytes and ~1.9 µs a row (at 1M rows a live heap of 160 MB,
// against the CLI's 256 MB heap limit and the import benchmark's peak RSS goal of 250 MB; the
// client-side upload figure fell from 186k to 102k rows/s). Here a slot is 16 bytes, the table
// at most 3/4 full.

/** Where a text was first seen. */
export interface Seen {
  /** The row (0-based position in the input). */
  row: number;
  /** Its physical line, when the source gave lines. */
  line: number | undefined;
}

/** Int32 values per slot: the hash's two halves, the row + 1 (0: the slot is free), the line. */
const SLOT = 4;

/**
 * Texts by a 64-bit hash (cyrb53's two 32-bit lanes, both kept: two of 1M distinct texts share a
 * hash with a chance of about 3 in 100 million), each with where it was first seen.
 */
export class FirstSeen {
  #slots = new Int32Array(1024 * SLOT);
  /** Slots - 1 (a power of two, less one). */
  #mask = 1023;
  #size = 0;

  /**
   * Where `text` was first seen; `null` when it had not been seen, and is now recorded as seen
   * at `row` and `line`.
   */
  first(text: string, row: number, line: number | undefined): Seen | null {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    const slots = this.#slots;
    for (let i = h1 & this.#mask;; i = (i + 1) & this.#mask) {
      const at = i * SLOT;
      if (slots[at + 2] === 0) {
        slots[at] = h1;
        slots[at + 1] = h2;
        slots[at + 2] = row + 1;
        slots[at + 3] = line ?? -1;
        if (++this.#size * 4 > (this.#mask + 1) * 3) this.#grow();
        return null;
      }
      if (slots[at] === h1 && slots[at + 1] === h2) {
        const seenLine = slots[at + 3];
        return { row: slots[at + 2] - 1, line: seenLine === -1 ? undefined : seenLine };
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
      let i = old[from] & mask;
      while (slots[i * SLOT + 2] !== 0) i = (i + 1) & mask;
      const to = i * SLOT;
      slots[to] = old[from];
      slots[to + 1] = old[from + 1];
      slots[to + 2] = old[from + 2];
      slots[to + 3] = old[from + 3];
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
