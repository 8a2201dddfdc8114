/**
 * HTTP helpers: the API's error envelope, request bodies with limits, query validation.
 *
 * @module
 */
import { readBodyLimited } from "../_internal/body.ts";

/**
 * An error answered as `{ error: true, message }` with `status`, plus `detail` when given: the
 * message stays exactly the documented one (users test their error handling against it), and
 * anything the sandbox adds to help goes in `detail`.
 */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** What the sandbox adds beside the documented message, sent as the body's `detail`. */
  readonly detail: string | undefined;
  /**
   * @param status the HTTP status
   * @param message the message sent to the caller
   * @param headers extra response headers
   * @param detail extra explanation, sent as `detail` beside the message
   */
  constructor(
    status: number,
    message: string,
    headers: Record<string, string> = {},
    detail?: string,
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
    this.detail = detail;
  }
}

/** The API's messages, one place for each. */
export const MESSAGES = {
  invalidKey: "Invalid API key",
  invalidToken: "Invalid or expired access token",
  notLicensed: "Your API key does not have access to Recapture in this region",
  invalidRegion: "Invalid region",
  incorrectRegion: "Incorrect Region",
  emptyUpload: "You must upload at least one customer record",
  invalidCustomerId: "Invalid Customer ID",
  customerPermission: "You don't have permission to access that customer",
  invalidUploadId: "Invalid Upload ID",
  uploadPermission: "You don't have permission to access that upload",
} as const;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** "must be a string (got number)" and the like. */
export function typeProblem(path: string, expected: string, value: unknown): HttpError {
  return new HttpError(400, `${path} must be ${expected} (got ${describe(value)})`);
}

/** Whether a value is a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A request body that must be a JSON object of `allowed` fields only: answers it, or throws a 400
 * that names the first unknown field and the allowed ones.
 *
 * @example
 * ```ts ignore
 * const body = objectBody(await readJson(request, maxBytes), ["name", "endpoint", "events"]);
 * ```
 */
export function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(body)) throw typeProblem("Request body", "a JSON object", body);
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) {
      throw new HttpError(400, `Unknown field "${field}"; allowed: ${allowed.join(", ")}`);
    }
  }
  return body;
}

/**
 * Reads a JSON body: `Content-Type` must be JSON (415), at most `maxBytes` (413), valid UTF-8
 * and valid JSON (400).
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  const mediaType = type.split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new HttpError(
      415,
      `Content-Type must be application/json (got ${mediaType ? `"${mediaType}"` : "none"})`,
    );
  }
  const bytes = await readBytes(request, maxBytes);
  if (bytes.length === 0) throw new HttpError(400, "Request body is empty: expected a JSON object");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "Request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `Malformed JSON body: ${(e as Error).message}`);
  }
}

/**
 * Requests handed to the sandbox in process (`Sandbox.fetch`): their bodies are already in the
 * caller's memory, so they are read at once even without a `Content-Length`.
 */
const whole = new WeakSet<Request>();

/**
 * Parses a URL field the sandbox will send requests to or put in pushes: absolute, and http(s)
 * only (`javascript:`, `data:`, `file:`... are refused), with a 400 naming `field`.
 *
 * @example
 * ```ts
 * parseHttpUrl("url", "https://cars.example/listing/1"); // URL
 * ```
 */
export function parseHttpUrl(field: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HttpError(400, `${field} must be an absolute URL (got "${value.slice(0, 100)}")`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new HttpError(400, `${field} must be an http(s) URL (got ${url.protocol})`);
  }
  return url;
}

/** Marks a request as handed over in process (see {@linkcode readBytes}). */
export function inProcess(request: Request): Request {
  whole.add(request);
  return request;
}

/**
 * Reads the raw body, refusing more than `maxBytes`. A body with a declared length (or handed
 * over in process) is read at once: `Request.bytes()` takes an in-memory body as it is, where
 * reading `request.body` as a stream copies it and keeps it alive long enough for the garbage
 * collector to promote it (measured: about one body's size promoted per request, which is most
 * of what a bulk import through the in-process sandbox promotes). A body streamed without a
 * length is read chunk by chunk and cut at the limit.
 */
export async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(413, `Request body is larger than the limit of ${maxBytes} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  try {
    // (Not even `request.body` is touched on this path: the getter makes the stream.)
    if (declared !== null || whole.has(request)) {
      const bytes = await request.bytes();
      if (bytes.length > maxBytes) throw tooLarge();
      return bytes;
    }
    const bytes = await readBodyLimited(request, maxBytes);
    if (bytes === null) throw tooLarge();
    return bytes;
  } catch (e) {
    if (e instanceof HttpError) throw e;
    // The body never arrived whole (the client went away, or its stream failed): nothing was
    // read, so nothing is stored. A client still there learns why; one gone hears nothing.
    throw new HttpError(400, `The request body could not be read to its end: ${errorText(e)}`);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Checks the query string: every parameter known and given once (400 naming it otherwise).
 * Returns the values.
 */
export function checkQuery(url: URL, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) {
      throw new HttpError(
        400,
        `Unknown query parameter "${name}"; allowed: ${allowed.join(", ")}`,
      );
    }
    if (out.has(name)) {
      throw new HttpError(400, `Query parameter "${name}" is given more than once`);
    }
    out.set(name, value);
  }
  return out;
}

/** Parses an integer query parameter within bounds (400 naming it otherwise). */
export function intParam(
  query: Map<string, string>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query.get(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new HttpError(400, `Query parameter "${name}" must be a whole number (got "${raw}")`);
  }
  const n = Number(raw);
  if (n < min || n > max) {
    throw new HttpError(
      400,
      `Query parameter "${name}" must be between ${min} and ${max} (got ${n})`,
    );
  }
  return n;
}
