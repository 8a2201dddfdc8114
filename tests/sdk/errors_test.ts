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
