/**
 * The one bounded body reader of the package (edge, sandbox, signature checks).
 * @module
 */

/**
 * Reads a request body up to `limit` bytes; resolves `null` when it is larger (checked against
 * `Content-Length` first, then while streaming, so a lying or missing length is caught too).
 * With `signal` (e.g. `AbortSignal.timeout(10_000)` against a slow sender), the read stops and
 * rejects with the signal's reason when it aborts.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "@recapture/sdk/webhooks";
 * const req = new Request("http://x/", { method: "POST", body: "x".repeat(10) });
 * console.log(await readBodyLimited(req, 5)); // null
 * ```
 */
export async function readBodyLimited(
  request: Request,
  limit: number,
  options: { signal?: AbortSignal } = {},
): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    request.body?.cancel().catch(() => {});
    return null;
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const signal = options.signal;
  const aborted = signal &&
    new Promise<never>((_, reject) => {
      const stop = () => {
        reject(signal.reason); // first, so the read that the cancel ends loses the race
        reader.cancel().catch(() => {});
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    });
  aborted?.catch(() => {});
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } =
      await (aborted ? Promise.race([reader.read(), aborted]) : reader.read());
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value); // the stream's own chunks: kept as they are, copied once below
  }
  const only = chunks.length === 1 ? chunks[0] : undefined;
  if (only?.buffer instanceof ArrayBuffer) return only as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
