/**
 * Test helper: msw handlers as the client's `fetch` (msw's `getResponse` inside a custom fetch),
 * recording every request, plus fault responses that the fetch turns into network failures.
 * @module
 */
import { getResponse, http, HttpResponse, type RequestHandler } from "msw";
import { RecaptureClient, type RecaptureClientOptions } from "../mod.ts";

export { http, HttpResponse };
// The sample API objects live in _samples.ts (no msw there: importing msw keeps a process alive).
export { customerJson, uploadJson } from "./_samples.ts";

/** What the fake server saw. */
export interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** Network faults a handler can ask for (thrown by the fetch, like Deno's own errors). */
export type Fault = "reset" | "refused" | "dns" | "reset-mid-body" | "stall-body";

const FAULT_HEADER = "x-test-fault";

/** A response the fetch turns into the given network fault. */
export function fault(kind: Fault): Response {
  return new Response(null, { status: 599, headers: { [FAULT_HEADER]: kind } });
}

function networkError(detail: string): TypeError {
  return new TypeError("fetch failed", { cause: new Error(detail) });
}

/** A fetch that answers from msw handlers and records requests. */
export function mswFetch(handlers: RequestHandler[]): {
  fetch: (req: Request) => Promise<Response>;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    const body = req.body === null ? "" : await req.clone().text();
    seen.push({
      method: req.method,
      url: new URL(req.url),
      headers: new Headers(req.headers),
      body,
    });
    const res = await getResponse(handlers, req);
    if (res === undefined) throw new Error(`unhandled request ${req.method} ${req.url}`);
    const kind = res.headers.get(FAULT_HEADER) as Fault | null;
    if (kind === null) return res;
    const url = req.url;
    switch (kind) {
      case "refused":
        throw networkError(
          `error sending request for url (${url}): client error (Connect): tcp connect error: Connection refused (os error 111)`,
        );
      case "dns":
        throw networkError(
          `error sending request for url (${url}): client error (Connect): dns error: failed to lookup address information`,
        );
      case "reset":
        throw networkError(
          `error sending request for url (${url}): client error (SendRequest): connection closed before message completed`,
        );
      case "reset-mid-body":
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('{"success":true,'));
              c.error(new TypeError("error reading a body from connection"));
            },
          }),
          { status: 200, headers: { "content-type": "application/json" } },
        );
      case "stall-body":
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('{"success":true,'));
            },
          }),
          { status: 200, headers: { "content-type": "application/json" } },
        );
    }
  };
  return { fetch, seen };
}

/** The API key used by tests. */
export const KEY = "sec_test_4f9d2c7e1b8a";
/** The base URL used by tests. */
export const BASE = "https://api.test.local";

/** A client on msw handlers with fast retries. */
export function mswClient(
  handlers: RequestHandler[],
  options?: RecaptureClientOptions,
): { client: RecaptureClient; seen: Seen[] } {
  const { fetch, seen } = mswFetch(handlers);
  const client = new RecaptureClient({
    apiKey: KEY,
    baseUrl: BASE,
    fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 },
    ...options,
  });
  return { client, seen };
}
