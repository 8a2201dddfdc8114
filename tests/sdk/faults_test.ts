/**
 * The fault matrix: every operation × every fault, persistent and once, asserting the number of
 * attempts and the final outcome; an upload is never processed twice.
 */
import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import {
  AbortError,
  ConnectionError,
  QuotaExceededError,
  RateLimitError,
  type RecaptureClient,
  type RequestOptions,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
} from "../../mod.ts";
import { BASE, customerJson, fault, http, HttpResponse, mswClient, uploadJson } from "../_msw.ts";

interface Op {
  name: string;
  method: "get" | "post" | "patch" | "delete";
  path: string;
  idempotent: boolean;
  ok: () => Response;
  run: (c: RecaptureClient, o: RequestOptions) => Promise<unknown>;
  /** A request the operation makes first, answered without faults (the fault hits `method`). */
  first?: { method: "get"; path: string; ok: () => Response };
}

const upload = () => HttpResponse.json({ success: true, upload: uploadJson("u1") });
const customer = () => HttpResponse.json({ success: true, customer: customerJson("c1") });

const OPS: Op[] = [
  {
    name: "uploads.create",
    method: "post",
    path: "/upload",
    idempotent: false,
    ok: () => HttpResponse.json({ success: true, upload: uploadJson("u1") }, { status: 201 }),
    run: (c, o) => c.uploads.create({ name: "n", customers: [{ rego: "A1" }] }, o),
  },
  {
    name: "uploads.retrieve",
    method: "get",
    path: "/upload/u1",
    idempotent: true,
    ok: upload,
    run: (c, o) => c.uploads.retrieve("u1", o),
  },
  {
    name: "uploads.cancel",
    method: "delete",
    path: "/upload/u1",
    idempotent: true,
    ok: upload,
    run: (c, o) => c.uploads.cancel("u1", o),
    // cancel asks the status first: is the upload cancelled already?
    first: { method: "get", path: "/upload/u1", ok: upload },
  },
  {
    name: "customers.list",
    method: "get",
    path: "/customers",
    idempotent: true,
    ok: () =>
      HttpResponse.json({
        success: true,
        customers: [customerJson("c1")],
        total: 1,
        offset: 0,
        limit: 50,
      }),
    run: (c, o) => c.customers.list({}, o),
  },
  {
    name: "customers.retrieve",
    method: "get",
    path: "/customers/c1",
    idempotent: true,
    ok: customer,
    run: (c, o) => c.customers.retrieve("c1", o),
  },
  {
    name: "customers.update",
    method: "patch",
    path: "/customers/c1",
    idempotent: true,
    ok: customer,
    run: (c, o) => c.customers.update("c1", { client_name: "X" }, o),
  },
  {
    name: "customers.delete",
    method: "delete",
    path: "/customers/c1",
    idempotent: true,
    ok: customer,
    run: (c, o) => c.customers.delete("c1", o),
  },
];

type Outcome = "ok" | (new (...a: never[]) => Error);

interface FaultCase {
  name: string;
  /** The faulty answer; `ctx.abort()` aborts the caller's signal. */
  answer: (req: Request, ctx: { abort: () => void }) => Response | Promise<Response>;
  /** Did the server get (and possibly act on) the request? */
  reachedServer: boolean;
  /** Retried for idempotent operations / for the upload. */
  retried: { idempotent: boolean; upload: boolean };
  /** Final error when the fault persists. */
  error: new (...a: never[]) => Error;
}

const hang = (req: Request) =>
  new Promise<Response>((resolve) =>
    req.signal.addEventListener("abort", () => resolve(new Response(null)), { once: true })
  );

const FAULTS: FaultCase[] = [
  {
    name: "429 with Retry-After",
    answer: () =>
      HttpResponse.json({ error: true, message: "Too Many Requests" }, {
        status: 429,
        headers: { "Retry-After": "1", "Rate-Limit-Remaining": "0" },
      }),
    reachedServer: false,
    retried: { idempotent: true, upload: true },
    error: RateLimitError,
  },
  {
    name: "429 quota exhausted",
    answer: () =>
      HttpResponse.json({ error: true, message: "Too Many Requests" }, {
        status: 429,
        headers: {
          "Monthly-Base-Request-Quota": "100",
          "Monthly-Max-Request-Quota": "120",
          "Monthly-Request-Total": "120",
        },
      }),
    reachedServer: false,
    retried: { idempotent: false, upload: false },
    error: QuotaExceededError,
  },
  ...[500, 502, 503].map((status): FaultCase => ({
    name: `${status}`,
    answer: () => HttpResponse.json({ error: true, message: "oops" }, { status }),
    reachedServer: true,
    retried: { idempotent: true, upload: false },
    error: ServerError,
  })),
  {
    name: "connection reset",
    answer: () => fault("reset"),
    reachedServer: true,
    retried: { idempotent: true, upload: false },
    error: ConnectionError,
  },
  {
    name: "connection refused",
    answer: () => fault("refused"),
    reachedServer: false,
    retried: { idempotent: true, upload: true },
    error: ConnectionError,
  },
  {
    name: "DNS failure",
    answer: () => fault("dns"),
    reachedServer: false,
    retried: { idempotent: true, upload: true },
    error: ConnectionError,
  },
  {
    name: "reset while reading the body",
    answer: () => fault("reset-mid-body"),
    reachedServer: true,
    retried: { idempotent: true, upload: false },
    error: ConnectionError,
  },
  {
    name: "timeout before the headers",
    answer: (req) => hang(req),
    reachedServer: true,
    retried: { idempotent: true, upload: false },
    error: TimeoutError,
  },
  {
    name: "timeout while reading the body",
    answer: () => fault("stall-body"),
    reachedServer: true,
    retried: { idempotent: true, upload: false },
    error: TimeoutError,
  },
  {
    name: "malformed JSON",
    answer: () =>
      new HttpResponse('{"success":true,"upl', {
        status: 200,
        headers: { "content-type": "application/json" },
      }),
    reachedServer: true,
    retried: { idempotent: false, upload: false },
    error: UnexpectedResponseError,
  },
  {
    name: "HTML error page",
    answer: () =>
      new HttpResponse("<html><body><h1>502 Bad Gateway</h1></body></html>", {
        status: 502,
        headers: { "content-type": "text/html" },
      }),
    reachedServer: true,
    retried: { idempotent: true, upload: false },
    error: ServerError,
  },
  {
    name: "empty body",
    answer: () => new HttpResponse(null, { status: 200 }),
    reachedServer: true,
    retried: { idempotent: false, upload: false },
    error: UnexpectedResponseError,
  },
  {
    name: "abort",
    answer: (req, ctx) => {
      ctx.abort();
      return hang(req);
    },
    reachedServer: true,
    retried: { idempotent: false, upload: false },
    error: AbortError,
  },
];

const MAX_RETRIES = 2;

async function runCase(
  op: Op,
  f: FaultCase,
  failures: number,
): Promise<{ outcome: unknown; attempts: number; processed: number; delays: number[] }> {
  let attempts = 0;
  let processed = 0;
  const controller = new AbortController();
  const delays: number[] = [];
  const { client } = mswClient([
    http[op.method](`${BASE}/v2/recapture${op.path}`, ({ request }) => {
      attempts++;
      if (attempts <= failures) {
        if (f.reachedServer) processed++;
        return f.answer(request, { abort: () => controller.abort() });
      }
      processed++;
      return op.ok();
    }),
    ...(op.first
      ? [http[op.first.method](`${BASE}/v2/recapture${op.first.path}`, op.first.ok)]
      : []),
  ], {
    maxRetries: MAX_RETRIES,
    timeoutMs: 25,
    logger: { warn: (_m, fields) => delays.push(Number(fields?.delayMs)) },
  });
  let outcome: unknown;
  try {
    await op.run(client, { signal: controller.signal });
    outcome = "ok";
  } catch (e) {
    outcome = e;
  }
  return { outcome, attempts, processed, delays };
}

function check(outcome: unknown, expected: Outcome, label: string): void {
  if (expected === "ok") {
    assertEquals(outcome, "ok", `${label}: expected success, got ${String(outcome)}`);
  } else {
    assertInstanceOf(outcome, expected, `${label}: ${String(outcome)}`);
  }
}

for (const op of OPS) {
  for (const f of FAULTS) {
    Deno.test(`${op.name} × ${f.name}`, async (t) => {
      const retried = op.idempotent ? f.retried.idempotent : f.retried.upload;
      await t.step("persistent", async () => {
        const r = await runCase(op, f, Infinity);
        const expectedAttempts = retried ? MAX_RETRIES + 1 : 1;
        assertEquals(r.attempts, expectedAttempts, "attempts");
        check(r.outcome, f.error, "persistent");
        if (!op.idempotent) assert(r.processed <= 1, "the upload reached the server twice");
        if (f.name === "429 with Retry-After") {
          assertEquals(r.delays, [5, 5], "Retry-After honoured, capped at maxRetryAfterMs");
        }
      });
      await t.step("once, then OK", async () => {
        const r = await runCase(op, f, 1);
        assertEquals(r.attempts, retried ? 2 : 1, "attempts");
        check(r.outcome, retried ? "ok" : f.error, "once");
        if (!op.idempotent) assert(r.processed <= 1, "the upload reached the server twice");
      });
    });
  }
}

Deno.test("requestRaw retries idempotent requests and returns the final status", async () => {
  let calls = 0;
  const { client } = mswClient([
    http.get(`${BASE}/v2/recapture/customers`, () => {
      calls++;
      return HttpResponse.json({ error: true, message: "down" }, { status: 503 });
    }),
    http.post(`${BASE}/v2/recapture/upload`, () => {
      calls++;
      return HttpResponse.json({ error: true, message: "down" }, { status: 503 });
    }),
  ], { maxRetries: 2 });
  const res = await client.requestRaw("GET", "/v2/recapture/customers");
  assertEquals([res.status, calls], [503, 3]);
  assertEquals(await res.json(), { error: true, message: "down" });
  calls = 0;
  const post = await client.requestRaw("POST", "/v2/recapture/upload", { body: "{}" });
  assertEquals([post.status, calls], [503, 1]);
  await post.body?.cancel();
  calls = 0;
  const forced = await client.requestRaw("POST", "/v2/recapture/upload", {
    body: "{}",
    idempotent: true,
  });
  assertEquals([forced.status, calls], [503, 3]);
  await forced.body?.cancel();
});

Deno.test("requestRaw's own request throws only connection, timeout and abort errors", async () => {
  const { client } = mswClient([
    http.get(`${BASE}/v2/recapture/customers/reset`, () => fault("reset")),
    http.get(`${BASE}/v2/recapture/customers/hang`, ({ request }) => hang(request)),
    http.post(`${BASE}/v2/recapture/upload`, () => fault("refused")),
  ], { maxRetries: 1, timeoutMs: 20 });
  const e1 = await client.requestRaw("GET", "/v2/recapture/customers/reset").catch((e) => e);
  assertInstanceOf(e1, ConnectionError);
  const e2 = await client.requestRaw("GET", "/v2/recapture/customers/hang").catch((e) => e);
  assertInstanceOf(e2, TimeoutError);
  const controller = new AbortController();
  controller.abort();
  const e3 = await client.requestRaw("GET", "/v2/recapture/customers/hang", {
    signal: controller.signal,
  }).catch((e) => e);
  assertInstanceOf(e3, AbortError);
  const e4 = await client.requestRaw("POST", "/v2/recapture/upload", { body: "{}" }).catch((e) =>
    e
  );
  assertInstanceOf(e4, ConnectionError);
  assert(e4.message.includes("attempt 2"), e4.message); // refused: provably not sent, retried
});
