// Where each text was first seen (a row and its line): the memory of the duplicate checks in
// src/import/_row_warnings.ts, which keep an entry per vehicle of a file (and per row of a
// vehicle met more than once).
//
// Each entry is 24 bytes (the text's 64-bit hash, the row, the line, the 64-bit hash of a
// detail), appended to pages of 16,384 entries that are never copied; an open-addressing index
// of entry numbers (4 bytes a slot, at most 3/4 full) finds them, and only it doubles. The peak
// RSS goal of the import benchmark (≤ 250 MB at 1M rows, docs/performance.md) needs this: its 1M
// rows make 1.33M entries, 32 MB of pages and an 8 MB index, where one table of 24-byte slots
// held 48 MB, and 72 MB while it doubled. A Map of number keys would cost ~150 bytes and
// ~1.9 µs a row. Every match compares both 64-bit hashes in full.

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
 * Int32 values per entry: the key's hash (two halves), the row, the line (-1: none), the
 * detail's hash (two halves).
 */
const ENTRY = 6;
/** Entries per page: 2^14 (384 KB). */
const PAGE_BITS = 14;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

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
  /** The entries, in the order they were added, `1 << PAGE_BITS` to a page. */
  #pages: Int32Array[] = [];
  #size = 0;
  /** Entry number + 1 per slot (0: the slot is free), at the slot its key's hash starts at. */
  #index = new Int32Array(1024);
  /** Slots - 1 (a power of two, less one). */
  #mask = 1023;

  /**
   * Where `key` was first seen, and whether `detail` is the detail recorded then; `null` when
   * `key` had not been seen, and is now recorded, with `detail`, as seen at `row` and `line`.
   */
  first(key: string, detail: string, row: number, line: number | undefined): FirstSight | null {
    hashInto(key, 0);
    hashInto(detail, 2);
    const k1 = hashes[0], k2 = hashes[1];
    const index = this.#index;
    for (let i = k1 & this.#mask;; i = (i + 1) & this.#mask) {
      const entry = index[i] - 1;
      if (entry === -1) {
        index[i] = this.#add(k1, k2, row, line) + 1;
        if (this.#size * 4 > (this.#mask + 1) * 3) this.#grow();
        return null;
      }
      const page = this.#pages[entry >>> PAGE_BITS];
      const at = (entry & PAGE_MASK) * ENTRY;
      if (page[at] === k1 && page[at + 1] === k2) {
        const seenLine = page[at + 3];
        return {
          row: page[at + 2],
          line: seenLine === -1 ? undefined : seenLine,
          sameDetail: page[at + 4] === hashes[2] && page[at + 5] === hashes[3],
        };
      }
    }
  }

  /** Appends an entry (the detail's hash is in `hashes`); answers its number. */
  #add(k1: number, k2: number, row: number, line: number | undefined): number {
    const entry = this.#size++;
    if ((entry & PAGE_MASK) === 0) this.#pages.push(new Int32Array(ENTRY << PAGE_BITS));
    const page = this.#pages[entry >>> PAGE_BITS];
    const at = (entry & PAGE_MASK) * ENTRY;
    page[at] = k1;
    page[at + 1] = k2;
    page[at + 2] = row;
    page[at + 3] = line ?? -1;
    page[at + 4] = hashes[2];
    page[at + 5] = hashes[3];
    return entry;
  }

  /** Doubles the index, placing every entry again (in entry order, reading the pages through). */
  #grow(): void {
    const mask = this.#mask * 2 + 1;
    const index = new Int32Array(mask + 1);
    for (let entry = 0; entry < this.#size; entry++) {
      const k1 = this.#pages[entry >>> PAGE_BITS][(entry & PAGE_MASK) * ENTRY];
      let i = k1 & mask;
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = entry + 1;
    }
    this.#index = index;
    this.#mask = mask;
  }
}
