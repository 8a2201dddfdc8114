/**
 * Identifiers. An upload id is `upl_` + 17 lowercase base-36 characters (9 of time, 8 random), so
 * uploads sort by creation. A customer id is `cus_` + the upload's 17 characters + the row's
 * position (7 base-36 characters): ids sort by upload then row, and the id of a row is the same
 * however often its chunk is processed.
 *
 * @module
 */

const UPLOAD_BODY = /^[0-9a-z]{17}$/;
const CUSTOMER_ID = /^cus_([0-9a-z]{17})[0-9a-z]{7}$/;

function random36(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += (b % 36).toString(36);
  return out;
}

let lastTime = -1;
let lastRandom = "";

/**
 * A new upload id for an upload created at `at`. Ids made by one process only grow: a second id
 * in the same millisecond (or with a clock that went back) keeps the last time and increments
 * the random part, so uploads made one after the other sort in that order.
 */
export function newUploadId(at: Date): string {
  let time = at.getTime();
  let random = random36(8);
  if (time <= lastTime) {
    const next = parseInt(lastRandom, 36) + 1;
    if (next < 36 ** 8) {
      time = lastTime;
      random = next.toString(36).padStart(8, "0");
    } else {
      time = lastTime + 1;
    }
  }
  lastTime = time;
  lastRandom = random;
  return "upl_" + time.toString(36).padStart(9, "0") + random;
}

/** Whether `id` has the shape of an upload id. */
export function isUploadId(id: string): boolean {
  return id.startsWith("upl_") && UPLOAD_BODY.test(id.slice(4));
}

/** When an upload id was made (ms since the epoch), or NaN for something else. */
export function uploadIdTime(id: string): number {
  return isUploadId(id) ? parseInt(id.slice(4, 13), 36) : NaN;
}

/** The customer id of the row at position `row` of upload `uploadId`. */
export function customerId(uploadId: string, row: number): string {
  return "cus_" + uploadId.slice(4) + row.toString(36).padStart(7, "0");
}

/** The row position a customer id holds (its last 7 characters). */
export function rowOf(customer: string): number {
  return parseInt(customer.slice(-7), 36);
}

/** The first and after-last customer ids of an upload, for a KV range. */
export function customerIdRange(uploadId: string): [string, string] {
  const body = uploadId.slice(4);
  return ["cus_" + body, "cus_" + body + "~"];
}

/** The upload id a customer id belongs to, or null when `id` is not a customer id. */
export function uploadIdOf(customer: string): string | null {
  const m = CUSTOMER_ID.exec(customer);
  return m ? "upl_" + m[1] : null;
}
