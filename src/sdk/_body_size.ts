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

const NON_ASCII = /[\u0080-\uffff]/;
const encoder = new TextEncoder();

/** The UTF-8 size of `text`, in bytes. */
export function utf8Bytes(text: string): number {
  return NON_ASCII.test(text) ? encoder.encode(text).byteLength : text.length;
}

/** One customer row's share of an upload body: its JSON and the comma before it, in bytes. */
export function customerBodyBytes(row: unknown): number {
  return utf8Bytes(JSON.stringify(row) ?? "null") + 1;
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

  /** Adds a row; `false` (and the row left out) when it would take the body past the limit. */
  add(row: unknown): boolean {
    const json = JSON.stringify(row) ?? "null";
    const bytes = utf8Bytes(json) + (this.rows === 0 ? 0 : 1);
    if (this.bytes + bytes > this.#maxBytes) return false;
    this.#parts.push(json);
    this.bytes += bytes;
    this.rows++;
    return true;
  }

  /** The whole body as JSON text. */
  text(): string {
    return `${this.#head}${this.#parts.join(",")}]}`;
  }
}
