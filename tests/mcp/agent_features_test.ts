// Issue 16's features one by one through the SDK client: file input (every refusal), find
// (bounds, continuation), resources (read, masked, not found, templates, subscribe rules),
// prompts and completions, logging levels.
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { connect, dataOf, rows, textOf, uploadAndWait } from "./_fixture.ts";
import { LoggingMessageNotificationSchema, McpError } from "../../mcp/_sdk.ts";
import { MAX_FILE_BYTES } from "../../mcp/_files.ts";

const HEADER = "rego,state,client_name,mobile_number,sale_date\n";
const csv = (n: number) =>
  HEADER + rows(n).map((r) => `${r.rego},NSW,${r.client_name},0412 345 678,2024-03-01`)
    .join("\n") +
  "\n";

Deno.test("file input: inside the folder it uploads; every other path is refused by name", async () => {
  const open = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.writeTextFile(`${open}/ok.csv`, csv(3));
  await Deno.writeTextFile(`${outside}/secret.csv`, csv(3));
  await Deno.symlink(`${outside}/secret.csv`, `${open}/link.csv`);
  await Deno.symlink(outside, `${open}/linkdir`);
  await Deno.mkdir(`${open}/folder.csv`);
  await Deno.writeFile(`${open}/big.csv`, new Uint8Array(MAX_FILE_BYTES + 1).fill(65));
  await Deno.writeFile(`${open}/latin1.csv`, new Uint8Array([0x72, 0x65, 0xe9, 0x0a]));
  const fifo = await new Deno.Command("mkfifo", { args: [`${open}/pipe.csv`] }).output();
  assert(fifo.success, "mkfifo");
  const h = await connect({ server: { fileInput: { dirs: [open] } } });
  const off = await connect();
  try {
    const ok = dataOf(
      await h.call("recapture_upload_customers", { name: "f", file: `${open}/ok.csv` }),
    );
    assertEquals(ok.valid_rows, 3);
    const refusals: [string, string][] = [
      [`${outside}/secret.csv`, "file_not_allowed"],
      [`${open}/link.csv`, "file_not_allowed"], // a symlink out of the folder
      [`${open}/linkdir/secret.csv`, "file_not_allowed"], // a linked folder
      [`${open}/../${outside.split("/").pop()}/secret.csv`, "file_not_allowed"],
      [`${open}/folder.csv`, "invalid_file"],
      [`${open}/pipe.csv`, "invalid_file"], // a FIFO: refused before it is opened
      ["/dev/zero", "file_not_allowed"],
      [`${open}/missing.csv`, "invalid_file"],
      // Outside the open folders, a missing file and an existing one answer alike (no oracle).
      [`${outside}/missing.csv`, "file_not_allowed"],
      [`${open}/../${outside.split("/").pop()}/missing.csv`, "file_not_allowed"],
      ["ok.csv", "invalid_file"],
      [`${open}/big.csv`, "file_too_large"],
      [`${open}/latin1.csv`, "invalid_file"],
    ];
    for (const [file, code] of refusals) {
      const result = await h.call("recapture_upload_customers", { name: "f", file, dry_run: true });
      assertEquals(result.isError, true, file);
      assertMatch(textOf(result), new RegExp(`^${code}: `), file);
    }
    // Over HTTP (no fileInput) the file is refused, saying why and what to send instead.
    const http = await off.call("recapture_upload_customers", {
      name: "f",
      file: `${open}/ok.csv`,
    });
    assertMatch(textOf(http), /^file_input_unavailable: .*HTTP.*`csv`/);
    const both = await h.call("recapture_upload_customers", {
      name: "f",
      file: `${open}/ok.csv`,
      csv: csv(1),
    });
    assertStringIncludes(textOf(both), "exactly one of");
    await h.sandbox.idle();
    assertEquals((await h.sdk.customers.list()).total, 3, "only the allowed file was uploaded");
  } finally {
    await h.close();
    await off.close();
    await Deno.remove(open, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("file input: no result quotes a file's content; hidden and non-CSV names are refused unread", async () => {
  const open = await Deno.makeTempDir();
  const SECRET = "sk_live_0123456789SECRET";
  await Deno.writeTextFile(`${open}/.env`, `API_KEY=${SECRET}\n`);
  await Deno.writeTextFile(`${open}/.git-credentials`, `https://me:${SECRET}@github.com\n`);
  await Deno.mkdir(`${open}/.git`);
  await Deno.writeTextFile(`${open}/.git/config.csv`, `rego,${SECRET}\nABC123,x\n`);
  await Deno.writeTextFile(`${open}/creds.json`, `{"key":"${SECRET}"}\n`);
  await Deno.symlink(`${open}/.env`, `${open}/data.csv`); // a CSV name for a dotfile
  // CSV-named files that are not customer files: neither header nor values come back.
  await Deno.writeTextFile(`${open}/keys.csv`, `user,${SECRET},note\nme,x,y\n`);
  await Deno.writeTextFile(
    `${open}/dates.csv`,
    `rego,state,sale_date\nABC123,NSW,${SECRET}\nABC124,NSW,2024-01-01\n`,
  );
  await Deno.writeTextFile(`${open}/ragged.csv`, `rego,state\nABC123,NSW,${SECRET}\n`);
  const h = await connect({ server: { fileInput: { dirs: [open] } } });
  try {
    const texts: string[] = [];
    const call = async (file: string, code: string | null) => {
      const result = await h.call("recapture_upload_customers", { name: "f", file, dry_run: true });
      texts.push(JSON.stringify(result));
      if (code !== null) {
        assertEquals(result.isError, true, file);
        assertMatch(textOf(result), new RegExp(`^${code}: `), file);
      }
      return textOf(result);
    };
    for (const name of [".env", ".git-credentials", ".git/config.csv", "data.csv"]) {
      assertStringIncludes(await call(`${open}/${name}`, "file_not_allowed"), "hidden", name);
    }
    assertStringIncludes(await call(`${open}/creds.json`, "file_not_allowed"), ".csv");
    // A missing hidden file is refused by its name too: nothing is looked up.
    assertStringIncludes(await call(`${open}/.npmrc`, "file_not_allowed"), "hidden");
    const header = await call(`${open}/keys.csv`, "invalid_csv");
    assertStringIncludes(header, "line 1 (its header) has no rego or VIN column (3 columns)");
    assert(!header.includes("columns option"), "the tool has no columns option");
    const dates = await call(`${open}/dates.csv`, null);
    assertStringIncludes(dates, "sale_date: cannot be read as a date (the value is not shown");
    await call(`${open}/ragged.csv`, "invalid_csv");
    // A date column that proves month first is refused, not read day first: from a file, with
    // no value shown.
    await Deno.writeTextFile(
      `${open}/us_dates.csv`,
      "rego,state,sale_date\nABC123,NSW,02/03/2024\nABC124,NSW,12/25/2023\n",
    );
    const order = await call(`${open}/us_dates.csv`, "ambiguous_dates");
    assertStringIncludes(order, "a date column (line 3; the value is not shown");
    assert(!order.includes("12/25"), order);
    for (const text of texts) assert(!text.includes(SECRET), text);
    assert(!texts.some((t) => t.includes("note")), "no header cell is quoted");
    // The agent's own CSV text may be quoted back, but the advice is the tool's, not the SDK's.
    const own = await h.call("recapture_upload_customers", {
      name: "f",
      csv: "plate_no,name\nABC123,x\n",
      dry_run: true,
    });
    assertMatch(
      textOf(own),
      /^invalid_csv: .*line 1 \(its header\) has no rego or VIN column \(2 columns\)/,
    );
    assert(!textOf(own).includes("columns option"));
    // The agent's own month-first CSV: refused before anything is sent, the proof quoted.
    const before = (await h.sdk.customers.list()).total;
    const us = await h.call("recapture_upload_customers", {
      name: "f",
      csv: "rego,state,sale_date\nABC123,NSW,02/03/2024\nABC124,NSW,12/25/2023\n",
    });
    assertEquals(us.isError, true);
    assertMatch(
      textOf(us),
      /^ambiguous_dates: column "sale_date" \(line 3: "12\/25\/2023"\) is written month first/,
    );
    await h.sandbox.idle();
    assertEquals((await h.sdk.customers.list()).total, before, "nothing was sent");
  } finally {
    await h.close();
    await Deno.remove(open, { recursive: true });
  }
});

Deno.test("file input: the client's roots open their folders; no folder at all is said so", async () => {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(`${root}/ok.csv`, csv(2));
  const none = await connect({ server: { fileInput: {} } });
  try {
    const refused = await none.call("recapture_upload_customers", {
      name: "f",
      file: `${root}/ok.csv`,
    });
    assertMatch(textOf(refused), /^file_not_allowed: no folder is open/);
  } finally {
    await none.close();
  }
  const h = await connect({ server: { fileInput: {} }, roots: [`file://${root}`] });
  try {
    const ok = dataOf(
      await h.call("recapture_upload_customers", { name: "f", file: `${root}/ok.csv` }),
    );
    assertEquals(ok.valid_rows, 2);
  } finally {
    await h.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("skip_invalid: valid rows go, the rest are reported; all invalid uploads nothing", async () => {
  const h = await connect();
  try {
    const mixed = [...rows(3), { rego: "BAD1", state: "XX" }];
    const refused = await h.call("recapture_upload_customers", { name: "m", customers: mixed });
    assertMatch(textOf(refused), /^validation_failed: /);
    const done = dataOf(
      await h.call("recapture_upload_customers", {
        name: "m",
        customers: mixed,
        skip_invalid: true,
      }),
    );
    assertEquals([done.valid_rows, done.skipped_rows], [3, 1]);
    assertEquals((done.issues as { index: number }[])[0]?.index, 3);
    const none = await h.call("recapture_upload_customers", {
      name: "m",
      customers: [{ state: "NSW" }],
      skip_invalid: true,
    });
    assertMatch(textOf(none), /^validation_failed: none of the 1 row/);
    await h.sandbox.idle();
    assertEquals((await h.sdk.customers.list()).total, 3);
  } finally {
    await h.close();
  }
});

Deno.test("find: by rego (any spacing or case), VIN, name; says how far it searched", async () => {
  const h = await connect();
  try {
    await uploadAndWait(h, 40);
    const byRego = dataOf(await h.call("recapture_find_customers", { query: "tst 007" }));
    assertEquals((byRego.matches as { rego: string }[]).map((m) => m.rego), ["TST007"]);
    assertEquals([byRego.searched, byRego.total, byRego.next_offset], [40, 40, null]);
    const byName = await h.call("recapture_find_customers", { query: "citizen 3", by: "name" });
    // "Jane Citizen 3" and "Jane Citizen 30".."39"
    assertEquals((dataOf(byName).matches as unknown[]).length, 11);
    assertStringIncludes(textOf(byName), "searched 40 of 40 customers: the whole account");
    const none = dataOf(await h.call("recapture_find_customers", { query: "TST007", by: "vin" }));
    assertEquals((none.matches as unknown[]).length, 0);
    // Continuing from an offset searches the rest only.
    const rest = dataOf(await h.call("recapture_find_customers", { query: "tst007", offset: 8 }));
    assertEquals([rest.searched, (rest.matches as unknown[]).length], [32, 0]);
    // At 25 matches it stops and says where to go on.
    const many = await h.call("recapture_find_customers", { query: "jane", by: "name" });
    const page = dataOf(many);
    assertEquals([(page.matches as unknown[]).length, page.searched, page.next_offset], [
      25,
      25,
      25,
    ]);
    assertStringIncludes(textOf(many), "call again with offset 25");
    assert(many.content.some((c) => c.type === "resource_link"), "matches are linked");
  } finally {
    await h.close();
  }
});

Deno.test("resources: uploads and customers read as JSON (masked with maskPii); unknown ones are errors", async () => {
  const h = await connect({ server: { maskPii: true } });
  try {
    const id = await uploadAndWait(h, 2);
    const upload = await h.client.readResource({ uri: `recapture://uploads/${id}` });
    const summary = JSON.parse((upload.contents[0] as { text: string }).text);
    assertEquals([summary.upload_id, summary.done, summary.total_processed_customers], [
      id,
      true,
      2,
    ]);
    const [c] = (await h.sdk.customers.list()).customers;
    const customer = await h.client.readResource({
      uri: `recapture://customers/${c?.id}?region=au`,
    });
    const text = (customer.contents[0] as { text: string }).text;
    assert(!text.includes("Jane Citizen"), "the name is masked");
    assertStringIncludes(text, "J*** C******");
    const templates = await h.client.listResourceTemplates();
    assertEquals(templates.resourceTemplates.map((t) => t.uriTemplate), [
      "recapture://uploads/{id}",
      "recapture://customers/{id}",
    ]);
    const listed = await h.client.listResources();
    assertEquals(listed.resources.map((r) => r.uri), [`recapture://uploads/${id}`]);
    const missing = await assertRejects(
      () => h.client.readResource({ uri: "recapture://customers/cus_nope" }),
      McpError,
    );
    assertStringIncludes(missing.message, 'no customer with that id in region "au"');
    assertEquals(missing.code, -32002, "MCP: resource not found");
    await assertRejects(
      () => h.client.readResource({ uri: "recapture://customers/x?region=us" }),
      McpError,
      "not a recapture resource",
    );
    await assertRejects(
      () => h.client.subscribeResource({ uri: `recapture://customers/${c?.id}` }),
      McpError,
      "only uploads can be subscribed to",
    );
  } finally {
    await h.close();
  }
});

Deno.test("prompts and completions: regions and upload ids complete; prompts name the tools", async () => {
  const h = await connect();
  try {
    const id = await uploadAndWait(h, 1);
    const { prompts } = await h.client.listPrompts();
    assertEquals(prompts.map((p) => p.name), ["import_customer_list", "review_alerts"]);
    const region = await h.client.complete({
      ref: { type: "ref/prompt", name: "review_alerts" },
      argument: { name: "region", value: "n" },
    });
    assertEquals(region.completion.values, ["nz"]);
    const upload = await h.client.complete({
      ref: { type: "ref/prompt", name: "review_alerts" },
      argument: { name: "upload_id", value: id.slice(0, 3) },
    });
    assertEquals(upload.completion.values, [id]);
    const template = await h.client.complete({
      ref: { type: "ref/resource", uri: "recapture://uploads/{id}" },
      argument: { name: "id", value: "" },
    });
    assertEquals(template.completion.values, [id]);
    const got = await h.client.getPrompt({
      name: "import_customer_list",
      arguments: { file: "/data/sales.csv", region: "nz" },
    });
    const text = (got.messages[0]?.content as { text: string }).text;
    assertStringIncludes(text, 'dry_run: true and file "/data/sales.csv"');
    assertStringIncludes(text, "skip_invalid");
    const review = await h.client.getPrompt({ name: "review_alerts", arguments: {} });
    assertStringIncludes((review.messages[0]?.content as { text: string }).text, "sightings");
  } finally {
    await h.close();
  }
});

Deno.test("logging: the wait tool logs progress at info; setLevel warning silences it", async () => {
  const h = await connect({ server: { maskPii: true } });
  const lines: string[] = [];
  h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    lines.push(`${n.params.level}: ${String(n.params.data)}`);
  });
  try {
    const id = await uploadAndWait(h, 2);
    assert(lines.some((l) => l.startsWith("info: Upload ") && l.includes(id)), lines.join("\n"));
    lines.length = 0;
    await h.client.setLoggingLevel("warning");
    await uploadAndWait(h, 2);
    assertEquals(lines, []);
  } finally {
    await h.close();
  }
});

Deno.test("find with maskPii: matches on the real values, answers masked, never echoes the query", async () => {
  const h = await connect({ server: { maskPii: true } });
  try {
    await uploadAndWait(h, 5);
    const result = await h.call("recapture_find_customers", { query: "Jane Citizen 3" });
    const [match] = dataOf(result).matches as Record<string, unknown>[];
    assertEquals([match?.client_name, match?.rego], ["J*** C****** 3", "[masked]"]);
    const everything = JSON.stringify(result);
    assert(!everything.includes("Jane Citizen"), everything);
    assert(!everything.includes("TST003"), everything);
  } finally {
    await h.close();
  }
});

Deno.test("find: one call scans at most 50,000 customers and says where to continue", async () => {
  const h = await connect();
  try {
    for (let part = 0; part < 10; part++) {
      await h.sdk.uploads.create({ name: `seed ${part}`, customers: rows(5000, part * 5000) });
    }
    await h.sdk.uploads.create({ name: "last", customers: rows(10, 60_000) });
    await h.sandbox.idle();
    const first = await h.call("recapture_find_customers", { query: "TST60009" });
    const page = dataOf(first);
    assertEquals([page.searched, page.total, page.next_offset], [50_000, 50_010, 50_000]);
    assertEquals((page.matches as unknown[]).length, 0);
    assertStringIncludes(textOf(first), "searched 50000 of 50010 customers. More to search");
    const rest = dataOf(
      await h.call("recapture_find_customers", { query: "TST60009", offset: page.next_offset }),
    );
    assertEquals([rest.searched, rest.next_offset], [10, null]);
    assertEquals((rest.matches as { rego: string }[]).map((m) => m.rego), ["TST60009"]);
  } finally {
    await h.close();
  }
});

Deno.test("find: a scan of several pages reports progress and log lines as it goes", async () => {
  const h = await connect();
  const lines: string[] = [];
  h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    lines.push(String(n.params.data));
  });
  try {
    await h.sdk.uploads.create({ name: "seed", customers: rows(2500) });
    await h.sandbox.idle();
    const progress: number[] = [];
    await h.client.callTool(
      { name: "recapture_find_customers", arguments: { query: "nobody" } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    assertEquals(progress, [1000, 2000]);
    assertEquals(lines, [
      "find: searched 1000 of 2500, 0 match(es)",
      "find: searched 2000 of 2500, 0 match(es)",
    ]);
  } finally {
    await h.close();
  }
});
