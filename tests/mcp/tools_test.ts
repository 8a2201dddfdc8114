// The MCP tools driven by a real MCP Client over InMemoryTransport, against the real sandbox.
import { assert, assertEquals, assertExists, assertMatch, assertStringIncludes } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { connect, dataOf, rows, textOf, uploadAndWait } from "./_fixture.ts";
import { MAX_CUSTOMER_CHARS, MAX_LIST_RESULT_CHARS } from "../../mcp/tools/_tool.ts";
import type { Harness } from "./_fixture.ts";

const KEY_A = "sec_test_account_a_0123456789";
const KEY_B = "sec_test_account_b_0123456789";
const KEY_AU_ONLY = "sec_test_au_only_0123456789";

async function firstCustomerId(h: Harness, region = "au"): Promise<string> {
  const page = dataOf(await h.call("recapture_list_customers", { limit: 1, region }));
  const customers = page.customers as { id: string }[];
  assert(customers.length > 0, "expected a customer");
  return customers[0].id;
}

Deno.test("tools/list lists every registry tool with its schemas", async () => {
  const h = await connect();
  try {
    const { tools } = await h.client.listTools();
    assertEquals(tools.map((t) => t.name), [
      "recapture_upload_customers",
      "recapture_upload_status",
      "recapture_wait_for_upload",
      "recapture_cancel_upload",
      "recapture_list_customers",
      "recapture_get_customer",
      "recapture_update_customer",
      "recapture_delete_customer",
      "recapture_find_customers",
    ]);
    for (const tool of tools) {
      assertExists(tool.title, `${tool.name} has a title`);
      assertExists(tool.outputSchema, `${tool.name} has an output schema`);
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        assertExists(
          (schema as { description?: string }).description,
          `${tool.name}.${field} has a description`,
        );
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("an upload goes from JSON rows to completion, with status and progress", async () => {
  const h = await connect({ sandbox: { chunkSize: 5 } });
  try {
    const created = await h.call("recapture_upload_customers", {
      name: "spring service list",
      customers: rows(60),
    });
    const data = dataOf(created);
    assertEquals(data.dry_run, false);
    assertEquals(data.valid_rows, 60);
    const upload = { upload_id: data.upload_id as string };
    assertMatch(textOf(created), /0\/60 processed/);
    assertStringIncludes(textOf(created), "recapture_wait_for_upload");

    const status = dataOf(
      await h.call("recapture_upload_status", { upload_id: upload.upload_id }),
    );
    assertEquals(status.upload_id, upload.upload_id);
    assert(typeof status.percent_complete === "number");

    const progress: { progress: number; total?: number }[] = [];
    const waited = await h.client.callTool(
      { name: "recapture_wait_for_upload", arguments: { upload_id: upload.upload_id } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    const done = dataOf(waited as Parameters<typeof dataOf>[0]);
    assertEquals(done.done, true);
    assertEquals(done.timed_out, false);
    assertEquals(done.percent_complete, 100);
    assertEquals(done.total_processed_customers, 60);
    assert(progress.length >= 1, "at least one progress notification");
    assertEquals(progress.at(-1)?.progress, 60);
    assertEquals(progress.at(-1)?.total, 60);

    const page = dataOf(
      await h.call("recapture_list_customers", {
        upload_id: upload.upload_id,
        limit: 100,
        fields: ["rego", "client_name"],
      }),
    );
    assertEquals(page.total, 60);
    assertEquals((page.customers as unknown[]).length, 60);
  } finally {
    await h.close();
  }
});

Deno.test("upload: CSV text is read with line numbers; a dry run uploads nothing", async () => {
  const h = await connect();
  try {
    const csv = "Rego,State,Customer Name,Mobile,Sale Date\n" +
      "ABC123,NSW,Jo Smith,0412345678,01/03/2024\n" +
      "XYZ789,VIC,Lee Wong,0498765432,2024-02-30\n" +
      ",QLD,No Vehicle,0400000000,2024-01-01\n";
    const dry = await h.call("recapture_upload_customers", { name: "csv", csv, dry_run: true });
    assert(!dry.isError);
    const report = dataOf(dry);
    assertEquals(report.dry_run, true);
    assertEquals(report.valid_rows, 1);
    assertEquals(report.upload_id, null);
    const issues = report.issues as { index: number; field: string }[];
    assertEquals(issues.map((i) => i.index), [1, 2]);
    assertStringIncludes(textOf(dry), "CSV line 3");
    assertStringIncludes(textOf(dry), "CSV line 4");
    const none = dataOf(await h.call("recapture_list_customers", {}));
    assertEquals(none.total, 0);

    const good = await h.call("recapture_upload_customers", {
      name: "csv",
      csv: "Rego,State,Customer Name\nABC123,NSW,Jo Smith\n",
    });
    const goodId = dataOf(good).upload_id as string;
    assertEquals(
      dataOf(await h.call("recapture_upload_status", { upload_id: goodId }))
        .total_uploaded_customers,
      1,
    );
  } finally {
    await h.close();
  }
});

Deno.test("upload: invalid rows come back as a tool error naming row and field", async () => {
  const h = await connect();
  try {
    const result = await h.call("recapture_upload_customers", {
      name: "bad",
      customers: [
        { rego: "OK1", state: "NSW" },
        { client_name: "No vehicle" },
        { vin: "IOQ45678901234567", state: "NSW" },
      ],
    });
    assertEquals(result.isError, true);
    const text = textOf(result);
    assertStringIncludes(text, "validation_failed");
    assertStringIncludes(text, "customers[1]");
    assertStringIncludes(text, "customers[2] vin");
    assertStringIncludes(text, "nothing was uploaded");
    assertEquals(dataOf(await h.call("recapture_list_customers", {})).total, 0);
  } finally {
    await h.close();
  }
});

Deno.test("upload: argument mistakes are tool errors", async () => {
  const h = await connect();
  try {
    const both = await h.call("recapture_upload_customers", {
      name: "x",
      customers: rows(1),
      csv: "rego\nABC1\n",
    });
    assertEquals(both.isError, true);
    assertStringIncludes(textOf(both), "exactly one of");
    const neither = await h.call("recapture_upload_customers", { name: "x" });
    assertEquals(neither.isError, true);
    const empty = await h.call("recapture_upload_customers", { name: "x", customers: [] });
    assertEquals(empty.isError, true);
    assertStringIncludes(textOf(empty), "empty_upload");
    const broken = await h.call("recapture_upload_customers", {
      name: "x",
      csv: 'rego,client_name\nABC1,"Jo\n',
    });
    assertEquals(broken.isError, true);
    assertStringIncludes(textOf(broken), "invalid_csv");
    const badType = await h.call("recapture_list_customers", { limit: 5000 });
    assertEquals(badType.isError, true);
    assertStringIncludes(textOf(badType), "limit");
  } finally {
    await h.close();
  }
});

Deno.test("list: cursor paging, fields selection and has_more", async () => {
  const h = await connect();
  try {
    await uploadAndWait(h, 25);
    const seen = new Set<string>();
    let args: Record<string, unknown> = { limit: 10, fields: ["rego"] };
    let pages = 0;
    while (true) {
      const page = dataOf(await h.call("recapture_list_customers", args));
      pages++;
      for (const c of page.customers as Record<string, unknown>[]) {
        assertEquals(Object.keys(c).sort(), ["id", "rego"]);
        seen.add(c.id as string);
      }
      if (!page.has_more) {
        assertEquals(page.next_cursor, null);
        break;
      }
      assertEquals(page.next_offset, pages * 10);
      args = { cursor: page.next_cursor, limit: 10, fields: ["rego"] };
    }
    assertEquals(pages, 3);
    assertEquals(seen.size, 25);

    const byOffset = dataOf(await h.call("recapture_list_customers", { offset: 20, limit: 10 }));
    assertEquals((byOffset.customers as unknown[]).length, 5);
    assertEquals(byOffset.has_more, false);

    const mixed = await h.call("recapture_list_customers", {
      cursor: "WzAsbnVsbCwiYXUiXQ",
      offset: 3,
    });
    assertEquals(mixed.isError, true);
    const bogus = await h.call("recapture_list_customers", { cursor: "not-a-cursor" });
    assertEquals(bogus.isError, true);
    assertStringIncludes(textOf(bogus), "invalid_cursor");
  } finally {
    await h.close();
  }
});

Deno.test("list and get: an oversize customer is shortened to fit, and says what was cut", async () => {
  const h = await connect({ server: { alerts: true, mode: "sandbox" } });
  try {
    const notes: Record<string, string> = {};
    for (let i = 0; i < 60; i++) notes[`note_${i}`] = `${i} ${"lorem ipsum ".repeat(9)}`;
    const vin = "1HGCM82633A004352";
    const up = dataOf(
      await h.call("recapture_upload_customers", {
        name: "big",
        customers: [{ vin, client_name: "Jane Citizen", additional_fields: notes }],
      }),
    );
    await h.call("recapture_wait_for_upload", { upload_id: up.upload_id });
    for (let i = 0; i < 60; i++) {
      const listed = await h.call("recapture_simulate_listing", {
        vin,
        marketplace: "carsales",
        price: 20000 + i,
        event: i === 0 ? "listed" : "price_change",
      });
      assert(!listed.isError, textOf(listed));
    }
    const list = await h.call("recapture_list_customers", { upload_id: up.upload_id });
    const [listed] = dataOf(list).customers as Record<string, unknown>[];
    assert(JSON.stringify(dataOf(list).customers).length <= MAX_LIST_RESULT_CHARS);
    assert(JSON.stringify(listed).length <= MAX_CUSTOMER_CHARS, `${JSON.stringify(listed).length}`);
    assertMatch(String(listed.shortened), /sightings: newest \d+ of \d+ kept/);
    assertMatch(String(listed.shortened), /additional_fields: \d+ of 60 kept/);
    assertStringIncludes(textOf(list), "1 oversize customer(s) shortened");
    const got = await h.call("recapture_get_customer", { customer_id: listed.id });
    const customer = dataOf(got).customer as Record<string, unknown>;
    assert(JSON.stringify(got).length <= 2 * MAX_CUSTOMER_CHARS, `${JSON.stringify(got).length}`);
    assert(JSON.stringify(customer).length <= MAX_CUSTOMER_CHARS);
    assertMatch(textOf(got), /Its record is shortened to fit 4000 characters \(was \d+\): /);
    // The newest sightings are the ones kept: the last price is there.
    const prices = (customer.sightings as { listing_price?: number }[]).map((s) => s.listing_price);
    assert(prices.includes(20059), JSON.stringify(prices));
    // The resource of the same customer is bounded the same way.
    const read = await h.client.readResource({ uri: `recapture://customers/${listed.id}` });
    const text = (read.contents[0] as { text: string }).text;
    assert(text.length <= MAX_CUSTOMER_CHARS, `${text.length}`);
    assertMatch(String(JSON.parse(text).shortened), /sightings: newest \d+ of \d+ kept/);
    // A customer that fits is untouched.
    await uploadAndWait(h, 1);
    const small = (dataOf(await h.call("recapture_list_customers", { limit: 100 }))
      .customers as Record<string, unknown>[]).filter((c) => c.id !== listed.id);
    assert(small.every((c) => !("shortened" in c)));
  } finally {
    await h.close();
  }
});

Deno.test("list: the result size is capped and the page says where to go on", async () => {
  const h = await connect();
  try {
    const big = rows(30).map((r) => ({ ...r, additional_fields: { notes: "x".repeat(2000) } }));
    const created = dataOf(
      await h.call("recapture_upload_customers", { name: "big", customers: big }),
    );
    const id = created.upload_id as string;
    dataOf(await h.call("recapture_wait_for_upload", { upload_id: id }));
    const result = await h.call("recapture_list_customers", { limit: 100 });
    const page = dataOf(result);
    const got = (page.customers as unknown[]).length;
    assert(got < 30 && got > 0, `page was cut (${got})`);
    assert(JSON.stringify(page.customers).length <= MAX_LIST_RESULT_CHARS);
    assertEquals(page.has_more, true);
    assertEquals(page.next_offset, got);
    assertStringIncludes(textOf(result), "size cap");
    const slim = dataOf(await h.call("recapture_list_customers", { limit: 100, fields: ["rego"] }));
    assertEquals((slim.customers as unknown[]).length, 30);
  } finally {
    await h.close();
  }
});

Deno.test("get and update a customer; an empty string clears a field (once a person accepts)", async () => {
  // A clear removes data: the person is asked (tests/mcp/safety_test.ts: declined, refused).
  const h = await connect({
    elicit: () => Promise.resolve({ action: "accept", content: { confirm: true } }),
  });
  try {
    await uploadAndWait(h, 2);
    const id = await firstCustomerId(h);
    const got = dataOf(await h.call("recapture_get_customer", { customer_id: id }));
    assertEquals((got.customer as { id: string }).id, id);
    const updated = dataOf(
      await h.call("recapture_update_customer", {
        customer_id: id,
        client_name: "Renamed Person",
        mobile_number: "",
      }),
    );
    const c = updated.customer as Record<string, unknown>;
    assertEquals(c.client_name, "Renamed Person");
    assertEquals(c.mobile_number ?? null, null);
    const nothing = await h.call("recapture_update_customer", { customer_id: id });
    assertEquals(nothing.isError, true);
    assertStringIncludes(textOf(nothing), "at least one");
    const badDate = await h.call("recapture_update_customer", {
      customer_id: id,
      sale_date: "2024-13-45",
    });
    assertEquals(badDate.isError, true);
    assertMatch(textOf(badDate), /validation_failed: .*\n- sale_date: /);
    assertEquals(
      (dataOf(await h.call("recapture_get_customer", { customer_id: id })).customer as {
        sale_date: string;
      }).sale_date,
      "2024-03-01",
    );
  } finally {
    await h.close();
  }
});

/** The token of a `confirmation_required` answer (token mode). */
function tokenIn(result: { content: unknown }): string {
  const text = textOf(result as Parameters<typeof textOf>[0]);
  assertMatch(text, /^confirmation_required: /);
  return /confirmation_token "([^"]+)"/.exec(text)?.[1] ?? "";
}

Deno.test("delete in token mode: preview and token first; wrong, foreign and expired tokens refused", async () => {
  let clock = Date.now();
  const h = await connect({
    server: { now: () => clock, confirm: "token-unverified", confirmationSecret: "z".repeat(32) },
  });
  try {
    await uploadAndWait(h, 2);
    const page = dataOf(await h.call("recapture_list_customers", { limit: 2 }));
    const [first, second] = (page.customers as { id: string }[]).map((c) => c.id);

    const preview = await h.call("recapture_delete_customer", { customer_id: first });
    assertEquals(preview.isError, true);
    assertStringIncludes(textOf(preview), `customer ${first}`);
    assertStringIncludes(textOf(preview), "Nothing was changed");
    const token = tokenIn(preview);
    // Still there.
    assert(!(await h.call("recapture_get_customer", { customer_id: first })).isError);

    const wrong = await h.call("recapture_delete_customer", {
      customer_id: first,
      confirmation_token: "123.abc",
    });
    assertEquals(wrong.isError, true);
    assertStringIncludes(textOf(wrong), "confirmation_altered");

    // Every other last character: the three that differ only in the bits base64 leaves unused
    // (they decode to the same MAC) and the ones that change the MAC must all be refused.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1)!);
    const sameBytes = [1, 2, 3].map((k) => alphabet[(last & ~3) | k]).filter((c) =>
      c !== token.at(-1)
    );
    const otherBytes = [alphabet[(last + 4) % 64], alphabet[(last + 32) % 64]];
    for (const c of [...sameBytes, ...otherBytes]) {
      const bad = await h.call("recapture_delete_customer", {
        customer_id: first,
        confirmation_token: token.slice(0, -1) + c,
      });
      assertEquals(bad.isError, true, `last character ${c} accepted`);
      assertStringIncludes(textOf(bad), "confirmation_altered");
    }

    const foreign = await h.call("recapture_delete_customer", {
      customer_id: second,
      confirmation_token: token,
    });
    assertStringIncludes(textOf(foreign), "confirmation_other_call");

    clock += 301_000;
    const expired = await h.call("recapture_delete_customer", {
      customer_id: first,
      confirmation_token: token,
    });
    assertStringIncludes(textOf(expired), "confirmation_expired");
    assert(!(await h.call("recapture_get_customer", { customer_id: first })).isError);

    const fresh = tokenIn(await h.call("recapture_delete_customer", { customer_id: first }));
    const done = dataOf(
      await h.call("recapture_delete_customer", { customer_id: first, confirmation_token: fresh }),
    );
    assertEquals(done.action, "deleted");
    const gone = await h.call("recapture_get_customer", { customer_id: first });
    assertEquals(gone.isError, true);
    assertStringIncludes(textOf(gone), "recapture_list_customers");
    assert(!(await h.call("recapture_get_customer", { customer_id: second })).isError);
  } finally {
    await h.close();
  }
});

Deno.test("wait: returns in bounded time and says to call again when not done", async () => {
  // A stalled upstream: the upload never advances.
  const stalled = {
    id: "upl_stalled",
    name: "stalled",
    status: "processing",
    total_uploaded_customers: 10,
    total_processed_customers: 4,
    total_errors: 0,
  };
  const h = await connect({
    fetch: (inner) => (req) =>
      new URL(req.url).pathname.endsWith("/upload/upl_stalled")
        ? Promise.resolve(Response.json({ success: true, upload: stalled }))
        : inner(req),
  });
  try {
    const started = Date.now();
    const result = await h.call("recapture_wait_for_upload", {
      upload_id: "upl_stalled",
      max_wait_seconds: 1,
    });
    const elapsed = Date.now() - started;
    const data = dataOf(result);
    assertEquals(data.done, false);
    assertEquals(data.timed_out, true);
    assertEquals(data.percent_complete, 40);
    assertStringIncludes(textOf(result), "call recapture_wait_for_upload again");
    assert(elapsed < 3000, `bounded (${elapsed} ms)`);
  } finally {
    await h.close();
  }
});

Deno.test("errors: not found, wrong region (with the right one), permission, licence", async () => {
  const accounts = [
    { id: "acct_a", apiKey: KEY_A },
    { id: "acct_b", apiKey: KEY_B },
    { id: "acct_au", apiKey: KEY_AU_ONLY, regions: ["au" as const] },
  ];
  const h = await connect({ apiKey: KEY_A, sandbox: { accounts } });
  try {
    const missing = await h.call("recapture_get_customer", { customer_id: "cus_missing" });
    assertEquals(missing.isError, true);
    assertStringIncludes(textOf(missing), "no customer with that id");
    const missingUpload = await h.call("recapture_upload_status", { upload_id: "upl_missing" });
    assertEquals(missingUpload.isError, true);
    assertStringIncludes(textOf(missingUpload), "upload_id returned by recapture_upload_customers");

    await uploadAndWait(h, 1, "nz");
    const nzId = await firstCustomerId(h, "nz");
    const wrong = await h.call("recapture_get_customer", { customer_id: nzId, region: "au" });
    assertEquals(wrong.isError, true);
    assertStringIncludes(textOf(wrong), "incorrect_region");
    assertStringIncludes(textOf(wrong), 'call again with region "nz"');

    const sdkB = new RecaptureClient({ apiKey: KEY_B, fetch: (r) => h.sandbox.fetch(r) });
    const other = await sdkB.uploads.create({
      name: "b",
      customers: [{ rego: "BBB1", state: "NSW" }],
    });
    await sdkB.uploads.wait(other.id, { intervalMs: 10 });
    const bCustomer = (await sdkB.customers.list()).customers[0].id;
    const denied = await h.call("recapture_get_customer", { customer_id: bCustomer });
    assertEquals(denied.isError, true);
    assertStringIncludes(textOf(denied), "permission_denied");
    const deniedDelete = await h.call("recapture_delete_customer", { customer_id: bCustomer });
    assertStringIncludes(textOf(deniedDelete), "permission_denied");
  } finally {
    await h.close();
  }
  const au = await connect({ apiKey: KEY_AU_ONLY, sandbox: { accounts } });
  try {
    const result = await au.call("recapture_list_customers", { region: "uk" });
    assertEquals(result.isError, true);
    assertStringIncludes(textOf(result), "not_licensed");
    assertStringIncludes(textOf(result), '"uk"');
  } finally {
    await au.close();
  }
});

Deno.test("errors: bad API key, rate limit, quota, server failure, unreachable API", async () => {
  const badKey = await connect({ apiKey: "sec_not_a_real_key_000" });
  try {
    const result = await badKey.call("recapture_list_customers", {});
    assertEquals(result.isError, true);
    assertStringIncludes(textOf(result), "authentication_failed");
    assert(!textOf(result).includes("sec_not_a_real_key_000"));
  } finally {
    await badKey.close();
  }

  const limited = await connect({ sandbox: { rateLimit: { limit: 2, windowMs: 60_000 } } });
  try {
    await limited.call("recapture_list_customers", {});
    await limited.call("recapture_list_customers", {});
    const result = await limited.call("recapture_list_customers", {});
    assertEquals(result.isError, true);
    assertMatch(textOf(result), /rate_limited: .*Retry the same call after \d+ s/);
  } finally {
    await limited.close();
  }

  const quota = await connect({ sandbox: { quota: { base: 1, max: 2 } } });
  try {
    await quota.call("recapture_list_customers", {});
    await quota.call("recapture_list_customers", {});
    const result = await quota.call("recapture_list_customers", {});
    assertEquals(result.isError, true);
    assertStringIncludes(textOf(result), "quota_exceeded");
    assertStringIncludes(textOf(result), "Do not retry");
  } finally {
    await quota.close();
  }

  const failing = await connect({
    fetch: () => () =>
      Promise.resolve(Response.json({ error: true, message: "boom" }, { status: 503 })),
  });
  try {
    const result = await failing.call("recapture_upload_status", { upload_id: "upl_1" });
    assertEquals(result.isError, true);
    assertStringIncludes(textOf(result), "server_error");
  } finally {
    await failing.close();
  }

  const offline = await connect({
    fetch: () => () => Promise.reject(new TypeError("connection refused")),
  });
  try {
    const result = await offline.call("recapture_get_customer", { customer_id: "cus_1" });
    assertEquals(result.isError, true);
    assertStringIncludes(textOf(result), "could not be reached");
  } finally {
    await offline.close();
  }
});

Deno.test("secrets never appear in results, even when the upstream echoes them", async () => {
  const secret = "sec_live_do_not_leak_42";
  const h = await connect({
    server: { secrets: [secret] },
    fetch: () => () =>
      Promise.resolve(
        Response.json({ error: true, message: `bad value near ${secret}` }, { status: 400 }),
      ),
  });
  try {
    const result = await h.call("recapture_update_customer", {
      customer_id: "cus_1",
      client_name: "x",
    });
    assertEquals(result.isError, true);
    assert(!JSON.stringify(result).includes(secret), JSON.stringify(result));
    assertStringIncludes(textOf(result), "[redacted]");
  } finally {
    await h.close();
  }
});

Deno.test("PII masking hides names and mobile numbers in every result", async () => {
  const h = await connect({ server: { maskPii: true } });
  try {
    await uploadAndWait(h, 1);
    const page = dataOf(await h.call("recapture_list_customers", {}));
    const c = (page.customers as Record<string, unknown>[])[0];
    assertEquals(c.client_name, "J*** C****** 0");
    assertEquals(c.mobile_number, "*******678");
    const got = await h.call("recapture_get_customer", { customer_id: c.id });
    assert(!textOf(got).includes("Jane"));
    assert(!textOf(got).includes("0412"));
    const preview = await h.call("recapture_delete_customer", { customer_id: c.id });
    assert(!JSON.stringify(preview).includes("Jane"));
    const { instructions } = { instructions: h.client.getInstructions() ?? "" };
    assertStringIncludes(instructions, "masked");
  } finally {
    await h.close();
  }
  const namesOnly = await connect({ server: { maskPii: { showVehicleIds: true } } });
  try {
    await uploadAndWait(namesOnly, 1);
    const c = (dataOf(await namesOnly.call("recapture_list_customers", {})).customers as Record<
      string,
      unknown
    >[])[0];
    assertEquals(c.client_name, "J*** C****** 0");
    assertEquals(c.rego, "TST000");
  } finally {
    await namesOnly.close();
  }
});

Deno.test("read-only mode lists and serves only the reading tools", async () => {
  const h = await connect({ server: { readOnly: true } });
  try {
    const { tools } = await h.client.listTools();
    assertEquals(tools.map((t) => t.name), [
      "recapture_upload_status",
      "recapture_wait_for_upload",
      "recapture_list_customers",
      "recapture_get_customer",
      "recapture_find_customers",
    ]);
    for (const t of tools) assertEquals(t.annotations?.readOnlyHint, true);
    const refused = await h.call("recapture_delete_customer", { customer_id: "cus_1" });
    assertEquals(refused.isError, true);
    assertStringIncludes(textOf(refused), "not found");
    assertStringIncludes(h.client.getInstructions() ?? "", "Read-only");
  } finally {
    await h.close();
  }
});

Deno.test("an allowlist serves exactly the tools named", async () => {
  const h = await connect({
    server: { tools: ["recapture_get_customer", "recapture_list_customers"] },
  });
  try {
    const { tools } = await h.client.listTools();
    assertEquals(tools.map((t) => t.name), [
      "recapture_list_customers",
      "recapture_get_customer",
    ]);
    const refused = await h.call("recapture_upload_customers", { name: "x", customers: rows(1) });
    assertEquals(refused.isError, true);
  } finally {
    await h.close();
  }
});

Deno.test("the default region applies when a call names none", async () => {
  const h = await connect({ server: { region: "nz" } });
  try {
    await uploadAndWait(h, 1, "nz");
    assertEquals(dataOf(await h.call("recapture_list_customers", {})).total, 1);
    assertEquals(dataOf(await h.call("recapture_list_customers", { region: "au" })).total, 0);
    assertStringIncludes(h.client.getInstructions() ?? "", "Default region: nz");
  } finally {
    await h.close();
  }
});
