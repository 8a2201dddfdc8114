// Fail early (issue 18): an upload whose body would pass the limit is refused while it is
// prepared, at the row that passes it, before anything is sent; the SDK's count is the body's
// real size in UTF-8 bytes (checked against what a real server on loopback receives, and against
// the sandbox's own limit); a timed-out upload's error says it may exist and how to check.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { RecaptureClient, TimeoutError, ValidationError } from "../../mod.ts";
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
