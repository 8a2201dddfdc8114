/**
 * The size of an upload's body, known while it is prepared: each customer row is written as
 * JSON once, counted in UTF-8 bytes, and the body is joined from those rows, so an upload over
 * the limit is refused at the row that passes it, before the rest is checked or written.
 * @module
 */

/**
 * The largest upload body the SDK sends, in bytes (64 MiB, the sandbox's limit; AutoGrab does
 * not document one). `bulkUpload` splits its uploads to stay under it.
 *
 * @example
 * ```ts
 * import { UPLOAD_BODY_LIMIT_BYTES } from "@recapture/sdk";
 * console.log(UPLOAD_BODY_LIMIT_BYTES / 1024 / 1024); // 64
 * ```
 */
export const UPLOAD_BODY_LIMIT_BYTES: number = 64 * 1024 * 1024;

const encoder = new TextEncoder();
/** Where {@linkcode utf8Bytes} writes a text to count it: the rows of an upload fit. */
const scratch = new Uint8Array(16_384);

/** The UTF-8 size of `text`, in bytes. */
export function utf8Bytes(text: string): number {
  // Written into a reused buffer, not scanned with a regular expression for non-ASCII: ~3x
  // faster on a row's JSON (the import benchmark's client-side upload figure). At most 3 bytes
  // a UTF-16 unit: a text that may not fit is encoded whole.
  if (text.length * 3 <= scratch.length) return encoder.encodeInto(text, scratch).written;
  return encoder.encode(text).byteLength;
}

/**
 * Rows whose JSON is already written, by `bulkUpload` (which writes each row once, to find
 * duplicates and to split uploads by size): the body of their upload joins those texts instead
 * of writing every row again (~100 ms per 100k rows of the import benchmark's client-side
 * upload). Keyed by the rows' array: one entry per upload.
 */
const writtenRows = new WeakMap<readonly unknown[], readonly string[]>();

/**
 * `rows`, whose JSON is `json` (in the same order): an upload body made of them uses those
 * texts. Neither may change afterwards.
 */
export function withJson<T>(rows: T[], json: readonly string[]): T[] {
  writtenRows.set(rows, json);
  return rows;
}

/** An upload body being written: the upload's fields, then the customer rows one by one. */
export class UploadBody {
  /** The body's size so far, in bytes. */
  bytes: number;
  /** How many rows it holds. */
  rows = 0;
  readonly #head: string;
  readonly #parts: string[] = [];
  readonly #maxBytes: number;

  /**
   * Starts a body.
   *
   * @param fields the upload's fields but `customers` (sent first, in this order)
   * @param maxBytes the largest body allowed
   */
  constructor(fields: Record<string, unknown>, maxBytes: number) {
    // `customers` last, empty: cut before its `]}`, the rows go after its `[`.
    this.#head = JSON.stringify({ ...fields, customers: [] }).slice(0, -2);
    this.bytes = utf8Bytes(this.#head) + 2;
    this.#maxBytes = maxBytes;
  }

  /**
   * Adds a row (`json`: its JSON, when already written); `false` (and the row left out) when it
   * would take the body past the limit.
   */
  add(row: unknown, json: string = JSON.stringify(row) ?? "null"): boolean {
    const bytes = utf8Bytes(json) + (this.rows === 0 ? 0 : 1);
    if (this.bytes + bytes > this.#maxBytes) return false;
    this.#parts.push(json);
    this.bytes += bytes;
    this.rows++;
    return true;
  }

  /**
   * Adds the rows in order (the holes of a sparse array left out), using their JSON when
   * {@linkcode withJson} gave it: the index of the first row that would take the body past the
   * limit (it and the rows after it left out), or -1 when all fit.
   */
  addAll(rows: readonly unknown[]): number {
    const json = writtenRows.get(rows);
    for (let i = 0; i < rows.length; i++) {
      if (i in rows && !this.add(rows[i], json?.[i])) return i;
    }
    return -1;
  }

  /** The whole body as JSON text. */
  text(): string {
    return `${this.#head}${this.#parts.join(",")}]}`;
  }
}
