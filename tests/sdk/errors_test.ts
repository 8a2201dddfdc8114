import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  EmptyUploadError,
  IncorrectRegionError,
  InvalidRequestError,
  NotFoundError,
  NotLicensedError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  RecaptureApiError,
  RecaptureClient,
  RecaptureError,
  ServerError,
  TimeoutError,
} from "../../mod.ts";
import { BASE, customerJson, http, HttpResponse, KEY, mswClient } from "../_msw.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

type ErrorClass = new (...args: never[]) => RecaptureApiError;

// Every documented (and decided) error answer → class, code, status.
const CASES: [number, string, ErrorClass, string, Record<string, string>?][] = [
  [401, "Invalid API key", AuthenticationError, "authentication_failed"],
  [
    403,
    "Your API key does not have access to Recapture in this region",
    NotLicensedError,
    "not_licensed",
  ],
  [
    403,
    "You don't have permission to access that customer",
    PermissionDeniedError,
    "permission_denied",
  ],
  [
    403,
    "You don't have permission to access that upload",
    PermissionDeniedError,
    "permission_denied",
  ],
  [404, "Invalid Customer ID", NotFoundError, "invalid_customer_id"],
  [404, "Invalid Upload ID", NotFoundError, "invalid_upload_id"],
  [404, "Not Found", NotFoundError, "not_found"],
  [400, "Incorrect Region", IncorrectRegionError, "incorrect_region"],
  [400, "Invalid region", IncorrectRegionError, "incorrect_region"],
  [400, "You must upload at least one customer record", EmptyUploadError, "empty_upload"],
  [400, "Field 'rego' cannot be updated", InvalidRequestError, "invalid_request"],
  [422, "customers[0].vin is not a string", InvalidRequestError, "invalid_request"],
  [429, "Too Many Requests", RateLimitError, "rate_limited", { "Retry-After": "2" }],
  [429, "Monthly request quota exceeded", QuotaExceededError, "quota_exceeded"],
  [429, "Too Many Requests", QuotaExceededError, "quota_exceeded", {
    "Monthly-Base-Request-Quota": "1000",
    "Monthly-Max-Request-Quota": "1200",
    "Monthly-Request-Total": "1200",
  }],
  [500, "Internal Server Error", ServerError, "server_error"],
  [502, "Bad Gateway", ServerError, "server_error"],
  [503, "Service Unavailable", ServerError, "server_error"],
  [418, "I'm a teapot", RecaptureApiError, "api_error"],
];

for (const [status, message, cls, code, headers] of CASES) {
  Deno.test(`HTTP ${status} "${message}" → ${cls.name} (${code})`, async () => {
    const { client } = mswClient([
      http.get(
        `${BASE}/v2/recapture/customers/:id`,
        () =>
          HttpResponse.json({ error: true, message }, {
            status,
            headers: { "X-Request-Id": "req_42", "Rate-Limit-Remaining": "0", ...headers },
          }),
      ),
    ], { maxRetries: 0 });
    const err = await assertRejects(() => client.customers.retrieve("c1"), cls);
    assertInstanceOf(err, RecaptureApiError);
    assertInstanceOf(err, RecaptureError);
    assertEquals(err.constructor, cls);
    assertEquals(err.name, cls.name);
    assertEquals(err.code, code);
    assertEquals(err.status, status);
    assertEquals(err.message, message);
    assertEquals(err.requestId, "req_42");
    assertEquals(err.rateLimit?.remaining, 0);
    if (err instanceof RateLimitError) assertEquals(err.retryAfterMs, 2000);
  });
}

Deno.test("an unrecognised error body still gives status and raw message", async () => {
  const { client } = mswClient([
    http.get(
      `${BASE}/v2/recapture/customers/a`,
      () => new HttpResponse("upstream exploded", { status: 400 }),
    ),
    http.get(
      `${BASE}/v2/recapture/customers/b`,
      () => HttpResponse.json({ errors: ["x"] }, { status: 409 }),
    ),
    http.get(
      `${BASE}/v2/recapture/customers/c`,
      () =>
        new HttpResponse("<!DOCTYPE html><html><body>502</body></html>", {
          status: 404,
          headers: { "content-type": "text/html" },
        }),
    ),
  ], { maxRetries: 0 });
  const a = await assertRejects(() => client.customers.retrieve("a"), InvalidRequestError);
  assertEquals(a.message, "upstream exploded");
  const b = await assertRejects(() => client.customers.retrieve("b"), RecaptureApiError);
  assertEquals([b.status, b.code, b.message], [409, "api_error", '{"errors":["x"]}']);
  const c = await assertRejects(() => client.customers.retrieve("c"), NotFoundError);
  assertEquals([c.code, c.message], ["not_found", "HTTP 404"]);
});

const SECRET_CLIENT = "cs_live_7d1e0c9b5a3f";

function assertNoSecret(where: string, text: string, secrets: string[]): void {
  for (const s of secrets) {
    assert(!text.includes(s), `${where} leaks a secret: ${text}`);
  }
}

function everything(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e !== undefined && i < 6; i++) {
    parts.push(Deno.inspect(e, { depth: 8, showHidden: true }));
    parts.push(JSON.stringify(e, Object.getOwnPropertyNames(e as object)));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}

Deno.test("the API key never appears in errors, causes or log lines", async () => {
  const lines: string[] = [];
  const logger = {
    debug: (m: string, f?: Record<string, unknown>) => lines.push(m + JSON.stringify(f)),
    warn: (m: string, f?: Record<string, unknown>) => lines.push(m + JSON.stringify(f)),
  };
  const { client } = mswClient([
    http.get(`${BASE}/v2/recapture/customers/echo`, ({ request }) =>
      HttpResponse.json({
        error: true,
        message: `Invalid API key ${request.headers.get("apikey")}`,
      }, { status: 401 })),
    http.get(
      `${BASE}/v2/recapture/customers/flaky`,
      () => HttpResponse.json({ error: true, message: `boom ${KEY}` }, { status: 503 }),
    ),
  ], { logger, maxRetries: 1 });
  const e1 = await assertRejects(() => client.customers.retrieve("echo"), AuthenticationError);
  assertEquals(e1.message, "Invalid API key [redacted]");
  const e2 = await assertRejects(() => client.customers.retrieve("flaky"), ServerError);
  assertEquals(e2.message, "boom [redacted]");

  // A fetch whose own error message carries the key (e.g. a proxy echoing headers).
  const leaky = new RecaptureClient({
    apiKey: KEY,
    baseUrl: BASE,
    logger,
    maxRetries: 0,
    fetch: (req) => {
      throw new TypeError(`fetch failed`, {
        cause: new Error(`proxy refused header ApiKey: ${req.headers.get("apikey")}`),
      });
    },
  });
  const e3 = await assertRejects(() => leaky.customers.retrieve("x"), ConnectionError);
  const e4 = await assertRejects(
    () => leaky.uploads.create({ name: "n", customers: [{ rego: "A" }] }),
    ConnectionError,
  );
  // A long plain-text body echoing the key across the 300-character cut of the message.
  const { client: echoing } = mswClient([
    http.get(`${BASE}/v2/recapture/customers/long`, ({ request }) =>
      new HttpResponse(
        `${"Gateway echo. ".repeat(20).slice(0, 290)}ApiKey=${request.headers.get("apikey")}`,
        { status: 502, headers: { "content-type": "text/plain" } },
      )),
  ], { maxRetries: 0 });
  const e5 = await assertRejects(() => echoing.customers.retrieve("long"), ServerError);
  assertStringIncludes(e5.message, "ApiKey=[redacted]");
  // A fetch wrapper whose error carries the Request (its headers hold the key).
  const wrapped = new RecaptureClient({
    apiKey: KEY,
    baseUrl: BASE,
    maxRetries: 0,
    fetch: (req) => Promise.reject(Object.assign(new TypeError("fetch failed"), { request: req })),
  });
  const e6 = await assertRejects(() => wrapped.customers.retrieve("x"), ConnectionError);
  assertEquals((e6.cause as Error).message, "fetch failed");
  for (const e of [e1, e2, e3, e4, e5, e6]) assertNoSecret(e.name, everything(e), [KEY]);
  assert(lines.length >= 4);
  assertNoSecret("log", lines.join("\n"), [KEY]);
});

Deno.test("OAuth client secret and tokens never appear in errors or logs", async () => {
  const lines: string[] = [];
  const logger = { debug: (m: string, f?: unknown) => lines.push(m + JSON.stringify(f)) };
  const token = "at_9f8e7d6c5b4a3210";
  const { client } = mswClient([
    http.post(
      `${BASE}/auth-broker/request-token`,
      () => HttpResponse.json({ access_token: token, expires_in: 3599 }),
    ),
    http.get(`${BASE}/v2/recapture/customers/:id`, ({ request }) =>
      HttpResponse.json({
        error: true,
        message: `denied ${request.headers.get("authorization")}`,
      }, { status: 403 })),
  ], { apiKey: undefined, clientId: "cid", clientSecret: SECRET_CLIENT, logger });
  const err = await assertRejects(() => client.customers.retrieve("c"), PermissionDeniedError);
  assertEquals(err.message, "denied Bearer [redacted]");
  const basic = btoa(`cid:${SECRET_CLIENT}`);
  const failing = mswClient([
    http.post(`${BASE}/auth-broker/request-token`, ({ request }) =>
      HttpResponse.json({
        error: true,
        message: `bad ${request.headers.get("authorization")} ${SECRET_CLIENT}`,
      }, { status: 401 })),
  ], { apiKey: undefined, clientId: "cid", clientSecret: SECRET_CLIENT, logger });
  const err2 = await assertRejects(
    () => failing.client.customers.retrieve("c"),
    AuthenticationError,
  );
  assertEquals(err2.message, "bad Basic [redacted] [redacted]");
  for (const e of [err, err2]) assertNoSecret(e.name, everything(e), [token, SECRET_CLIENT, basic]);
  assertNoSecret("log", lines.join("\n"), [token, SECRET_CLIENT, basic]);
});

Deno.test("timeout and abort errors have their codes; abort is never retried", async () => {
  let calls = 0;
  const { client } = mswClient([
    http.get(`${BASE}/v2/recapture/customers/:id`, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      return HttpResponse.json({ success: true, customer: customerJson("c") });
    }),
  ], { timeoutMs: 5, maxRetries: 1 });
  const t = await assertRejects(() => client.customers.retrieve("c"), TimeoutError);
  assertEquals(t.code, "timeout");
  assertEquals(calls, 2);
  const controller = new AbortController();
  const p = client.customers.retrieve("c", { signal: controller.signal, timeoutMs: 1000 });
  controller.abort(new Error("user gave up"));
  const a = await assertRejects(() => p, AbortError);
  assertEquals(a.code, "aborted");
  assertEquals((a.cause as Error).message, "user gave up");
  assertEquals(calls, 3);
  await new Promise((r) => setTimeout(r, 40)); // let the handlers' timers finish
});

// A retried DELETE: the first attempt reaches the sandbox (which deletes at once) and its answer
// is lost on the way back; the retry then gets 404.

/** How the first answer to a DELETE is lost, after the sandbox has acted on it. */
type Loss = "late" | "502" | "reset" | "429 before reaching";

/** The sandbox's fetch, losing the first DELETE's answer as `loss` says. */
function lossyLink(sandbox: { fetch: (r: Request) => Promise<Response> }, loss: Loss) {
  let first = true;
  return async (request: Request): Promise<Response> => {
    const lose = request.method === "DELETE" && first;
    if (lose) first = false;
    if (lose && loss === "429 before reaching") {
      return Response.json({ error: true, message: "Too Many Requests" }, {
        status: 429,
        headers: { "Retry-After": "0" },
      });
    }
    const answer = await sandbox.fetch(request);
    if (!lose) return answer;
    await answer.body?.cancel();
    if (loss === "502") return new Response("<html>Bad Gateway</html>", { status: 502 });
    if (loss === "reset") throw new TypeError("error reading a body from connection: reset");
    await new Promise((r) => setTimeout(r, 150)); // past the client's 50 ms timeout
    return new Response(null, { status: 504 });
  };
}

async function withTrackedCustomer(
  fn: (sandbox: Awaited<ReturnType<typeof createSandbox>>, customerId: string) => Promise<void>,
): Promise<void> {
  const sandbox = await createSandbox();
  try {
    const setup = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const upload = await setup.uploads.create({ name: "d", customers: [{ rego: "DEL1" }] });
    await setup.uploads.wait(upload.id, { intervalMs: 5 });
    const [customer] = (await setup.customers.list({ upload_id: upload.id })).customers;
    await fn(sandbox, customer.id);
  } finally {
    await new Promise((r) => setTimeout(r, 160)); // the late answers' timers
    await sandbox.idle();
    await sandbox.close();
  }
}

function lossyClient(sandbox: { fetch: (r: Request) => Promise<Response> }, loss: Loss) {
  return new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    fetch: lossyLink(sandbox, loss),
    timeoutMs: 50,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
}

for (const loss of ["late", "502", "reset"] as const) {
  Deno.test(`customers.delete retried after a lost answer (${loss}): the 404 says the first attempt may have deleted it`, async () => {
    await withTrackedCustomer(async (sandbox, id) => {
      const client = lossyClient(sandbox, loss);
      const e = await assertRejects(() => client.customers.delete(id), NotFoundError);
      assertEquals(e.earlierAttemptMayHaveDeleted, true);
      assertEquals([e.status, e.code], [404, "invalid_customer_id"]);
      assert(e.message.startsWith("Invalid Customer ID: "), e.message);
      assertStringIncludes(e.message, "an earlier attempt of this DELETE may have deleted it");
      assertStringIncludes(e.message, "do not retry");
      assert(!e.message.includes(SANDBOX_API_KEY));
      // It was deleted, by the first attempt.
      const gone = await assertRejects(() => client.customers.retrieve(id), NotFoundError);
      assertEquals(gone.earlierAttemptMayHaveDeleted, false);
    });
  });
}

Deno.test("webhooks.delete retried after a lost answer: the 404 says the first attempt may have deleted it", async () => {
  const sandbox = await createSandbox({ pushFetch: () => Promise.resolve(new Response("ok")) });
  try {
    const setup = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const hook = await setup.webhooks.create({
      name: "crm",
      endpoint: "https://edge.example.com/alerts/tok_0123456789abcdef",
    });
    const e = await assertRejects(
      () => lossyClient(sandbox, "late").webhooks.delete(hook.id),
      NotFoundError,
    );
    assertEquals([e.earlierAttemptMayHaveDeleted, e.code], [true, "invalid_webhook_id"]);
    assertStringIncludes(e.message, "may have deleted it");
    assertEquals((await setup.webhooks.list()).webhooks, []);
  } finally {
    await new Promise((r) => setTimeout(r, 160));
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("a DELETE's 404 stays plain when no earlier attempt can have deleted it", async () => {
  await withTrackedCustomer(async (sandbox, id) => {
    // The first attempt's 404: the API's message as it is.
    const plain = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const first = await assertRejects(() => plain.customers.delete("cus_none"), NotFoundError);
    assertEquals([first.earlierAttemptMayHaveDeleted, first.message], [
      false,
      "Invalid Customer ID",
    ]);
    // A 429 never reached the API: the retry's 404 is the whole truth.
    const limited = lossyClient(sandbox, "429 before reaching");
    const after429 = await assertRejects(() => limited.customers.delete("cus_none"), NotFoundError);
    assertEquals([after429.earlierAttemptMayHaveDeleted, after429.message], [
      false,
      "Invalid Customer ID",
    ]);
    // A GET deletes nothing, whatever happened to its first attempt.
    const slow = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      timeoutMs: 50,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      fetch: async (request) => {
        const answer = await sandbox.fetch(request);
        if (request.url.includes("cus_none") && !slowOnce++) {
          await new Promise((r) => setTimeout(r, 150));
        }
        return answer;
      },
    });
    let slowOnce = 0;
    const get = await assertRejects(() => slow.customers.retrieve("cus_none"), NotFoundError);
    assertEquals([get.earlierAttemptMayHaveDeleted, get.message], [false, "Invalid Customer ID"]);
    // And the customer is still there.
    assertEquals((await plain.customers.retrieve(id)).id, id);
  });
});
