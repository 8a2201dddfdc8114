// Fail early (issue 18): an upload whose body would pass the limit is refused while it is
// prepared, at the row that passes it, before anything is sent; the SDK's count is the body's
// real size in UTF-8 bytes (checked against what a real server on loopback receives, and against
// the sandbox's own limit); an upload that may exist although create failed (timeout, dropped
// connection, 5xx, abort in flight, unreadable 2xx) says so and how to check.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  AbortError,
  ConnectionError,
  InvalidRequestError,
  RateLimitError,
  RecaptureClient,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
  ValidationError,
} from "../../mod.ts";
import { UPLOAD_BODY_LIMIT_BYTES } from "../../src/sdk/_body_size.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

/** A loopback server in front of a sandbox that records the size of every upload body. */
async function recordingSandbox(maxBodyBytes: number) {
  const sandbox = await createSandbox({ maxBodyBytes });
  const sizes: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (req.method === "POST") sizes.push(bytes.byteLength);
    return await sandbox.fetch(
      new Request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.method === "GET" ? undefined : bytes,
      }),
    );
  });
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    maxRetries: 0,
  });
  return {
    client,
    sizes,
    async close() {
      await server.shutdown();
      await sandbox.idle();
      await sandbox.close();
    },
  };
}

// ASCII, two-byte, three-byte and four-byte (surrogate pair) characters, and JSON escapes.
const NAMES = ["Jo Citizen", "Zoë Brontë", "佐藤 健", "Kai 🚗", 'Al "the" \\ Tab\t'];
const customers = NAMES.map((client_name, i) => ({
  rego: `FE${i}`,
  state: "NSW",
  client_name,
  additional_fields: { note: `${client_name} ${i}` },
}));

Deno.test("upload size: the SDK's count is the bytes a server receives; at the limit sent, one byte under refused unsent", async () => {
  const probe = await recordingSandbox(UPLOAD_BODY_LIMIT_BYTES);
  let size: number;
  try {
    await probe.client.uploads.create({ name: "Größe ✓", customers });
    assertEquals(probe.sizes.length, 1);
    size = probe.sizes[0];
  } finally {
    await probe.close();
  }
  // The sandbox refuses a body over its limit (413): the SDK with the same limit sends exactly
  // what fits, and refuses one byte less without sending anything.
  const at = await recordingSandbox(size);
  try {
    const ok = await at.client.uploads.create({ name: "Größe ✓", customers }, {
      maxBodyBytes: size,
    });
    assertEquals(ok.total_uploaded_customers, customers.length);
    assertEquals(at.sizes, [size]);
    const error = await assertRejects(
      () => at.client.uploads.create({ name: "Größe ✓", customers }, { maxBodyBytes: size - 1 }),
      ValidationError,
    );
    assertEquals(at.sizes, [size]); // nothing more was sent
    assertEquals(error.issues.length, 1);
    assertEquals(error.issues[0].field, "customers");
    assertStringIncludes(error.issues[0].reason, `would pass ${size - 1} bytes`);
    assertStringIncludes(error.issues[0].reason, `at row ${customers.length - 1}`);
    // validate: false counts the same way (the rows here are already normal).
    await assertRejects(
      () =>
        at.client.uploads.create({ name: "Größe ✓", customers }, {
          maxBodyBytes: size - 1,
          validate: false,
        }),
      ValidationError,
      `at row ${customers.length - 1}`,
    );
    assertEquals(at.sizes, [size]);
  } finally {
    await at.close();
  }
});

Deno.test("upload size: refused at the row that passes the limit, before the rows after it are checked", () => {
  const client = new RecaptureClient({
    apiKey: "sec_x",
    fetch: () => Promise.reject(new Error("nothing may be sent")),
  });
  // Row 1 passes a 300-byte limit; row 2 is invalid but never reached: the size is the error.
  const rows: unknown[] = [
    { rego: "AAA111", state: "NSW" },
    { rego: "BBB222", state: "NSW", additional_fields: { blob: "x".repeat(400) } },
    { vin: "not a vin" },
  ];
  let checked = 0;
  const watched = rows.map((row, i) =>
    new Proxy(row as object, {
      ownKeys(target) {
        if (i === 2) checked++;
        return Reflect.ownKeys(target);
      },
    })
  );
  return assertRejects(
    () =>
      client.uploads.create({ name: "big", customers: watched as never }, { maxBodyBytes: 300 }),
    ValidationError,
    "at row 1, after 1 customers",
  ).then(() => assertEquals(checked, 0));
});

Deno.test("upload size: the default limit is the sandbox's (64 MiB), and a bad maxBodyBytes is refused", async () => {
  assertEquals(UPLOAD_BODY_LIMIT_BYTES, 64 * 1024 * 1024);
  const client = new RecaptureClient({
    apiKey: "sec_x",
    fetch: () => Promise.reject(new Error("unsent")),
  });
  for (const bad of [0, -1, NaN, "5" as unknown as number]) {
    await assertRejects(
      () =>
        client.uploads.create({ name: "n", customers: [{ rego: "A1", state: "NSW" }] }, {
          maxBodyBytes: bad,
        }),
      RangeError,
      "maxBodyBytes",
    );
  }
});

Deno.test("upload timeout: the error says the upload may exist, names it, and says how to check", async () => {
  const answered = Promise.withResolvers<void>();
  let posts = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.arrayBuffer();
    posts++;
    await answered.promise; // never answers while the client waits
    return Response.json({ error: true, message: "too late" }, { status: 500 });
  });
  try {
    const client = new RecaptureClient({
      apiKey: "sec_x",
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      timeoutMs: 50,
      maxRetries: 2,
    });
    const error = await assertRejects(
      () =>
        client.uploads.create({ name: "March sales", customers: [{ rego: "A1", state: "NSW" }] }),
      TimeoutError,
    );
    assertEquals(posts, 1); // an upload is never blindly retried
    assertStringIncludes(error.message, "timed out after 50 ms");
    assertStringIncludes(error.message, '"March sales" may have been created anyway');
    assertStringIncludes(error.message, "customers.list()");
    assertStringIncludes(error.message, "uploads.retrieve()");
    assertStringIncludes(error.message, "uploads cannot be listed");
    assert(error.cause instanceof TimeoutError);
  } finally {
    answered.resolve();
    await server.shutdown();
  }
});

Deno.test("bulkUpload splits by size: rows over 64 MiB at any batchSize go as uploads the API accepts", async () => {
  const { bulkUpload } = await import("../../src/import/bulk.ts");
  const sandbox = await createSandbox();
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    // ~8 KB per row (the sandbox's additional_fields limit is 8192): 9,000 rows is ~72 MB, one
    // batch by count, more than one by size.
    const blob = "x".repeat(8000);
    const rows = function* () {
      for (let i = 0; i < 9000; i++) {
        yield { rego: `SZ${i}`, state: "NSW", additional_fields: { blob } };
      }
    };
    const result = await bulkUpload(client, rows(), { name: "big", batchSize: 20_000 });
    const uploads = result.manifest.uploads;
    assertEquals(uploads.length, 2);
    assertEquals(uploads.reduce((n, u) => n + u.customers, 0), 9000);
  } finally {
    await sandbox.idle();
    await sandbox.close();
  }
});

const MAY_EXIST = '"March" may have been created anyway';
const MARCH = { name: "March", customers: [{ rego: "A1", state: "NSW" }] };

/**
 * A loopback API answering every upload POST with `answer` (after reading its body), counting
 * them; `onPost` runs once the body is in.
 */
function loopbackApi(answer: (req: Request) => Response | Promise<Response>) {
  let posts = 0;
  const received = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.arrayBuffer();
    if (req.method === "POST" && req.url.includes("/v2/recapture/upload")) {
      posts++;
      received.resolve();
    }
    return await answer(req);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    posts: () => posts,
    received: received.promise,
    close: () => server.shutdown(),
  };
}

const FAST = { baseDelayMs: 1, maxDelayMs: 2 };

/** Until the request is aborted (the client's timeout or signal), then an empty answer. */
const hold = (req: Request) =>
  new Promise<Response>((resolve) =>
    req.signal.addEventListener("abort", () => resolve(new Response(null)), { once: true })
  );

type ErrorClass = new (...args: never[]) => Error;

const AMBIGUOUS_ANSWERS: [string, () => Response, ErrorClass][] = [
  ["a 502", () => new Response("<html>Bad Gateway</html>", { status: 502 }), ServerError],
  [
    "a 500 with the API's message",
    () => Response.json({ error: true, message: "Internal error" }, { status: 500 }),
    ServerError,
  ],
  [
    "a 201 that cannot be read",
    () => new Response('{"success":true,"upl', { status: 201 }),
    UnexpectedResponseError,
  ],
];

for (const [what, answer, errorClass] of AMBIGUOUS_ANSWERS) {
  Deno.test(`upload answered with ${what}: the error says it may exist and how to check`, async () => {
    const api = loopbackApi(answer);
    try {
      const client = new RecaptureClient({ apiKey: "sec_x", baseUrl: api.url, retry: FAST });
      const error = await assertRejects(() => client.uploads.create(MARCH), errorClass);
      assertEquals(api.posts(), 1);
      assertStringIncludes(error.message, MAY_EXIST);
      assertStringIncludes(error.message, "a queued one has no customers until processed");
      assertInstanceOf(error.cause, errorClass);
      // The class's fields are kept.
      const [copy, cause] = [error as ServerError, error.cause as ServerError];
      assertEquals([copy.status, copy.code], [cause.status, cause.code]);
      assert(!error.message.includes("sec_x"));
    } finally {
      await api.close();
    }
  });
}

Deno.test("upload whose connection drops after sending: the ConnectionError says it may exist", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let requests = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(65536);
      if (await conn.read(buf).catch(() => null)) requests++;
      conn.close();
    }
  })().catch(() => {});
  try {
    const client = new RecaptureClient({
      apiKey: "sec_x",
      baseUrl: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
      retry: FAST,
    });
    const error = await assertRejects(() => client.uploads.create(MARCH), ConnectionError);
    assertEquals(requests, 1);
    assertStringIncludes(error.message, MAY_EXIST);
  } finally {
    listener.close();
    await serving;
  }
});

Deno.test("upload aborted by the caller after sending: the AbortError says it may exist", async () => {
  const api = loopbackApi(hold);
  try {
    const client = new RecaptureClient({ apiKey: "sec_x", baseUrl: api.url });
    const controller = new AbortController();
    api.received.then(() => controller.abort());
    const error = await assertRejects(
      () => client.uploads.create(MARCH, { signal: controller.signal }),
      AbortError,
    );
    assertStringIncludes(error.message, MAY_EXIST);
  } finally {
    await api.close();
  }
});

Deno.test("upload failures that prove nothing was created stay as they were", async () => {
  // Refused: provably never sent (retried, then given up).
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (l.addr as Deno.NetAddr).port;
  l.close();
  const refused = new RecaptureClient({
    apiKey: "sec_x",
    baseUrl: `http://127.0.0.1:${closedPort}`,
    retry: FAST,
  });
  const e1 = await assertRejects(() => refused.uploads.create(MARCH), ConnectionError);
  assert(!e1.message.includes("may have been created"), e1.message);
  // Aborted before anything was sent.
  const e2 = await assertRejects(
    () => refused.uploads.create(MARCH, { signal: AbortSignal.abort() }),
    AbortError,
  );
  assert(!e2.message.includes("may have been created"), e2.message);
  // Refused by the API (4xx): nothing was created.
  const refusals: [() => Response, ErrorClass][] = [
    [
      () => Response.json({ error: true, message: "bad field" }, { status: 400 }),
      InvalidRequestError,
    ],
    [() =>
      Response.json({ error: true, message: "Too Many Requests" }, {
        status: 429,
        headers: { "Retry-After": "0" },
      }), RateLimitError],
  ];
  for (const [answer, errorClass] of refusals) {
    const api = loopbackApi(answer);
    try {
      const client = new RecaptureClient({ apiKey: "sec_x", baseUrl: api.url, retry: FAST });
      const e = await assertRejects(() => client.uploads.create(MARCH), errorClass);
      assert(!e.message.includes("may have been created"), e.message);
    } finally {
      await api.close();
    }
  }
  // The OAuth token request failed (5xx, retried): the upload was never sent.
  const token = loopbackApi(() => new Response("down", { status: 503 }));
  try {
    const client = new RecaptureClient({
      clientId: "id",
      clientSecret: "secret_x",
      baseUrl: token.url,
      retry: FAST,
    });
    const e = await assertRejects(() => client.uploads.create(MARCH), ServerError);
    assertEquals(token.posts(), 0);
    assert(!e.message.includes("may have been created"), e.message);
  } finally {
    await token.close();
  }
});

Deno.test("an upload queued but unanswered: the advice finds it once processed", async () => {
  const gate = Promise.withResolvers<void>();
  const sandbox = await createSandbox({ beforeChunk: () => gate.promise });
  try {
    const client = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      timeoutMs: 50,
      fetch: async (req) => {
        const answer = await sandbox.fetch(req);
        if (req.method === "POST") await new Promise((r) => setTimeout(r, 150)); // answer lost
        return answer;
      },
    });
    const error = await assertRejects(() => client.uploads.create(MARCH), TimeoutError);
    assertStringIncludes(error.message, MAY_EXIST);
    // Queued, so no customers yet: the message says to wait rather than to conclude.
    assertEquals((await client.customers.list()).total, 0);
    assertStringIncludes(error.message, "wait, then look for new customers");
    gate.resolve();
    await sandbox.idle();
    const page = await client.customers.list({ limit: 1000 });
    const newest = page.customers[page.customers.length - 1];
    assertEquals((await client.uploads.retrieve(newest.upload_id!)).name, "March");
  } finally {
    gate.resolve();
    await new Promise((r) => setTimeout(r, 160));
    await sandbox.idle();
    await sandbox.close();
  }
});
