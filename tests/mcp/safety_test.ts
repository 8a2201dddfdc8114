// MCP safety, through the official SDK client: no call deletes or cancels without a person's
// accept (or the named token mode), masking hides every planted personal value, and write
// results say what the API answered. In process (InMemoryTransport), over real HTTP, and over
// stdio subprocesses.
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { defineTool } from "../../mcp/tools/_tool.ts";
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import type { Sandbox } from "../../src/sandbox/mod.ts";
import { createMcpHttpApp, createRecaptureMcpServer } from "../../mcp/mod.ts";
import type { RecaptureMcpServerOptions } from "../../mcp/mod.ts";
import { InMemoryTransport, StreamableHTTPClientTransport } from "../../mcp/_sdk.ts";
import { maskName } from "../../mcp/_mask.ts";
import type { CallToolResult, ElicitResult } from "../../mcp/_sdk.ts";
import { connect, dataOf, mcpClient, rows, textOf, uploadAndWait } from "./_fixture.ts";
import type { Elicitor, Harness, HarnessOptions } from "./_fixture.ts";

// 12:00 UTC on 1 March: already 2 March in UTC+14 (NZ daylight time is UTC+13: 01:00 on 2 March).
const NOW = Date.parse("2026-03-01T12:00:00Z");
const DELETING_DATES = {
  today: "2026-03-01",
  yesterday: "2026-02-28",
  "today only in NZ/AU": "2026-03-02",
};
const SAFE_DATE = "2026-03-03";

const answer = (action: ElicitResult["action"], confirm = true): Elicitor => () =>
  Promise.resolve(action === "accept" ? { action, content: { confirm } } : { action });

function clockOptions(extra: RecaptureMcpServerOptions = {}): RecaptureMcpServerOptions {
  return { now: () => NOW, ...extra };
}

/** Harness options with the server's and the sandbox's clocks both at `NOW`. */
function atNow(options: HarnessOptions = {}): HarnessOptions {
  return {
    ...options,
    server: clockOptions(options.server),
    sandbox: { ...options.sandbox, now: () => new Date(NOW) },
  };
}

/** A person who accepts every question (box ticked), and the questions they were asked. */
function acceptingPerson(): { questions: string[]; elicit: Elicitor } {
  const questions: string[] = [];
  const elicit: Elicitor = (params) => {
    questions.push(params.message);
    return answer("accept")(params);
  };
  return { questions, elicit };
}

async function firstCustomerId(h: Harness): Promise<string> {
  const page = dataOf(await h.call("recapture_list_customers", { limit: 1 }));
  return (page.customers as { id: string }[])[0].id;
}

async function exists(sdk: RecaptureClient, id: string): Promise<boolean> {
  try {
    await sdk.customers.retrieve(id);
    return true;
  } catch {
    return false;
  }
}

Deno.test("expiry of today, yesterday or NZ-today never deletes without a person's accept", async () => {
  for (const [label, date] of Object.entries(DELETING_DATES)) {
    for (
      const [how, elicit] of [
        ["no elicitation", undefined],
        ["decline", answer("decline")],
        ["cancel", answer("cancel")],
        ["accept without the box ticked", answer("accept", false)],
      ] as const
    ) {
      const h = await connect(atNow({ elicit }));
      try {
        await uploadAndWait(h, 1);
        const id = await firstCustomerId(h);
        const result = await h.call("recapture_update_customer", {
          customer_id: id,
          expiry_date: date,
        });
        assert(result.isError, `${label}, ${how}: refused`);
        assertMatch(
          textOf(result),
          elicit ? /^not_confirmed: / : /^confirmation_unavailable: /,
          `${label}, ${how}`,
        );
        assertStringIncludes(textOf(result), `customer ${id}`);
        const kept = await h.sdk.customers.retrieve(id);
        assertEquals(kept.expiry_date ?? null, null, `${label}, ${how}: untouched`);
      } finally {
        await h.close();
      }
    }
  }
});

Deno.test("an accepted expiry of today deletes and says so; a later date needs no question", async () => {
  const { questions, elicit } = acceptingPerson();
  const h = await connect(atNow({ elicit }));
  try {
    await uploadAndWait(h, 2);
    const page = dataOf(await h.call("recapture_list_customers", { limit: 2 }));
    const [a, b] = (page.customers as { id: string }[]).map((c) => c.id);
    const later = dataOf(
      await h.call("recapture_update_customer", { customer_id: a, expiry_date: SAFE_DATE }),
    );
    assertEquals(later.result, "updated");
    assertEquals(questions.length, 0, "no question for a date in the future everywhere");

    const today = await h.call("recapture_update_customer", {
      customer_id: b,
      expiry_date: DELETING_DATES.today,
    });
    assertEquals(questions.length, 1);
    assertStringIncludes(questions[0], `customer ${b}`);
    assertStringIncludes(questions[0], "deleted");
    assertEquals(dataOf(today).result, "deleted");
    assertEquals(await exists(h.sdk, b), false, "the API deleted it");

    // NZ-today: the sandbox (UTC) still holds it; the answer says it goes on expiry.
    const nz = dataOf(
      await h.call("recapture_update_customer", {
        customer_id: a,
        expiry_date: DELETING_DATES["today only in NZ/AU"],
      }),
    );
    assertEquals(questions.length, 2);
    assertEquals(nz.result, "deleted_on_expiry");
  } finally {
    await h.close();
  }
});

Deno.test("delete: decline and cancel leave the customer; accept deletes it", async () => {
  for (const action of ["decline", "cancel"] as const) {
    const h = await connect({ elicit: answer(action) });
    try {
      await uploadAndWait(h, 1);
      const id = await firstCustomerId(h);
      const result = await h.call("recapture_delete_customer", { customer_id: id });
      assert(result.isError);
      assertMatch(textOf(result), /^not_confirmed: /);
      assertEquals(await exists(h.sdk, id), true, `${action} leaves the customer`);
    } finally {
      await h.close();
    }
  }
  const h = await connect({ elicit: answer("accept") });
  try {
    await uploadAndWait(h, 1);
    const id = await firstCustomerId(h);
    const done = dataOf(await h.call("recapture_delete_customer", { customer_id: id }));
    assertEquals(done.action, "deleted");
    assertEquals(await exists(h.sdk, id), false);
  } finally {
    await h.close();
  }
});

Deno.test("an upload whose customers expire today or earlier needs confirmation too", async () => {
  const h = await connect(atNow());
  try {
    const result = await h.call("recapture_upload_customers", {
      name: "expired",
      customers: [
        { rego: "EXP001", state: "NSW" },
        { rego: "EXP002", state: "NSW", expiry_date: DELETING_DATES["today only in NZ/AU"] },
      ],
    });
    assert(result.isError);
    assertMatch(textOf(result), /^confirmation_unavailable: .*1 of the 2 customer\(s\)/);
    assertStringIncludes(textOf(result), "row index: 1 (2026-03-02)");
    assertEquals((await h.sdk.customers.list()).total, 0, "nothing uploaded");
    const csv = await h.call("recapture_upload_customers", {
      name: "expired csv",
      csv: `rego,state,expiry_date\nEXP003,NSW,${DELETING_DATES.yesterday}\n`,
    });
    assertMatch(textOf(csv), /^confirmation_unavailable: /);
    const dry = dataOf(
      await h.call("recapture_upload_customers", {
        name: "dry",
        csv: `rego,state,expiry_date\nEXP003,NSW,${DELETING_DATES.yesterday}\n`,
        dry_run: true,
      }),
    );
    // A dry run deletes nothing and asks nobody: it reports the row, and what a real upload does.
    assertEquals(dry.valid_rows, 0);
    const [issue] = dry.issues as { index: number; field: string; reason: string }[];
    assertEquals([issue.index, issue.field], [0, "expiry_date"]);
    assertStringIncludes(issue.reason, "asks a person to confirm");
  } finally {
    await h.close();
  }
  // Accepted by a person: the upload goes ahead.
  const { questions: asked, elicit } = acceptingPerson();
  const accepted = await connect(atNow({ elicit }));
  try {
    const created = dataOf(
      await accepted.call("recapture_upload_customers", {
        name: "accepted",
        customers: [{ rego: "EXP004", state: "NSW", expiry_date: DELETING_DATES.today }],
      }),
    );
    assertEquals(asked.length, 1);
    assertStringIncludes(asked[0], "deletes them as soon as they are created");
    assert(typeof created.upload_id === "string");
  } finally {
    await accepted.close();
  }
});

Deno.test("a destructive tool without a plan of its effects cannot be defined", () => {
  assertThrows(
    () =>
      defineTool({
        name: "recapture_wipe",
        title: "Wipe",
        description: "Deletes things.",
        access: "write",
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: false,
          openWorldHint: false,
        },
        input: {},
        output: {},
        run: () => Promise.resolve({ ok: true as const, data: {}, text: "" }),
      }),
    Error,
    "declares no plan",
  );
});

Deno.test("token mode: each refusal names the check that failed", async () => {
  let now = NOW;
  const options = {
    confirm: "token-unverified" as const,
    confirmationSecret: "s".repeat(32),
    now: () => now,
  };
  const h = await connect({ server: options });
  try {
    await uploadAndWait(h, 2);
    const page = dataOf(await h.call("recapture_list_customers", { limit: 2 }));
    const [a, b] = (page.customers as { id: string }[]).map((c) => c.id);
    const preview = await h.call("recapture_delete_customer", { customer_id: a });
    assertMatch(textOf(preview), /^confirmation_required: /);
    const token = /confirmation_token "([^"]+)"/.exec(textOf(preview))?.[1] ?? "";
    assert(token !== "");
    const tries: [Record<string, unknown>, RegExp][] = [
      [{ customer_id: b, confirmation_token: token }, /^confirmation_other_call: /],
      [{
        customer_id: a,
        confirmation_token: token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"),
      }, /^confirmation_altered: /],
      [{ customer_id: a, confirmation_token: "not a token" }, /^confirmation_altered: /],
    ];
    for (const [args, expected] of tries) {
      assertMatch(textOf(await h.call("recapture_delete_customer", args)), expected);
    }
    // Another server on the same data, with another secret.
    const otherServer = createRecaptureMcpServer(h.sdk, {
      ...options,
      confirmationSecret: "t".repeat(32),
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const other = mcpClient();
    await otherServer.connect(serverSide);
    await other.connect(clientSide);
    try {
      const refused = await other.callTool({
        name: "recapture_delete_customer",
        arguments: { customer_id: a, confirmation_token: token },
      }) as CallToolResult;
      assertMatch(textOf(refused), /^confirmation_other_server: /);
    } finally {
      await other.close();
      await otherServer.close();
    }
    now += 301_000;
    assertMatch(
      textOf(
        await h.call("recapture_delete_customer", { customer_id: a, confirmation_token: token }),
      ),
      /^confirmation_expired: /,
    );
    assertEquals(await exists(h.sdk, a), true, "no refusal deleted anything");
    assertEquals(await exists(h.sdk, b), true);
    // The same arguments with a fresh token act.
    const fresh = /confirmation_token "([^"]+)"/.exec(
      textOf(await h.call("recapture_delete_customer", { customer_id: a })),
    )?.[1];
    const done = dataOf(
      await h.call("recapture_delete_customer", { customer_id: a, confirmation_token: fresh }),
    );
    assertEquals(done.action, "deleted");
    // A token binds the arguments: one minted for a later date cannot confirm today.
    const upd = textOf(
      await h.call("recapture_update_customer", {
        customer_id: b,
        expiry_date: new Date(now).toISOString().slice(0, 10),
      }),
    );
    const updToken = /confirmation_token "([^"]+)"/.exec(upd)?.[1];
    const swapped = await h.call("recapture_update_customer", {
      customer_id: b,
      expiry_date: "2000-01-01",
      confirmation_token: updToken,
    });
    assertMatch(textOf(swapped), /^confirmation_other_call: /);
  } finally {
    await h.close();
  }
});

Deno.test("token mode: an upload's token confirms one upload; a replay is refused as already run", async () => {
  const h = await connect(atNow({
    server: { confirm: "token-unverified", confirmationSecret: "r".repeat(32) },
  }));
  try {
    const args = {
      name: "mixed",
      customers: [
        { rego: "OLD001", state: "NSW", expiry_date: DELETING_DATES.today },
        { rego: "NEW001", state: "NSW", client_name: "Jane Citizen" },
      ],
    };
    const preview = textOf(await h.call("recapture_upload_customers", args));
    const token = /confirmation_token "([^"]+)"/.exec(preview)?.[1] ?? "";
    assert(token !== "", preview);
    // A refused try does not spend the token: another call's arguments.
    const other = await h.call("recapture_upload_customers", {
      ...args,
      name: "renamed",
      confirmation_token: token,
    });
    assertMatch(textOf(other), /^confirmation_other_call: /);
    const first = dataOf(
      await h.call("recapture_upload_customers", { ...args, confirmation_token: token }),
    );
    assert(typeof first.upload_id === "string");
    for (let i = 0; i < 2; i++) {
      const replay = await h.call("recapture_upload_customers", {
        ...args,
        confirmation_token: token,
      });
      assertEquals(replay.isError, true);
      assertMatch(textOf(replay), /^confirmation_used: .*already run/);
    }
    // A stateless HTTP server is made per request: another server in this process refuses too.
    const again = createRecaptureMcpServer(h.sdk, {
      confirm: "token-unverified",
      confirmationSecret: "r".repeat(32),
      now: () => NOW,
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = mcpClient();
    await again.connect(serverSide);
    await client.connect(clientSide);
    try {
      const replay = await client.callTool({
        name: "recapture_upload_customers",
        arguments: { ...args, confirmation_token: token },
      }) as CallToolResult;
      assertMatch(textOf(replay), /^confirmation_used: /);
    } finally {
      await client.close();
      await again.close();
    }
    await h.sandbox.idle();
    const all = (await h.sdk.customers.list({ limit: 100 })).customers;
    assertEquals(all.filter((c) => c.rego === "NEW001").length, 1, "one upload, not three");
  } finally {
    await h.close();
  }
});

Deno.test("clearing a field removes data: asked first in the update tool and in code mode, as a delete is", async () => {
  const questions: string[] = [];
  let answer: ElicitResult = { action: "decline" };
  const h = await connect({
    server: { toolsets: ["uploads", "customers", "code"] },
    elicit: (params) => {
      questions.push(params.message);
      return Promise.resolve(answer);
    },
  });
  // The same data through a server whose client cannot be asked.
  const plainServer = createRecaptureMcpServer(h.sdk, { toolsets: ["customers"] });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const plain = mcpClient();
  await plainServer.connect(serverSide);
  await plain.connect(clientSide);
  try {
    await uploadAndWait(h, 3);
    const before = (await h.sdk.customers.list({ limit: 3 })).customers;
    const [a] = before;
    const declined = await h.call("recapture_update_customer", {
      customer_id: a.id,
      client_name: "",
      mobile_number: "",
    });
    assertMatch(textOf(declined), /^not_confirmed: /);
    assertEquals(questions.length, 1);
    assertMatch(
      questions[0],
      /^This call removes data .*has its client_name, mobile_number cleared/,
    );
    // Code mode: a script clearing every customer is asked at its first clear, and stops there.
    const script = await h.call("recapture_run_script", {
      script: `let n = 0; for await (const c of client.customers.iterate()) {
        await client.customers.update(c.id, { client_name: "", mobile_number: "" }); n++; }
        return n;`,
    });
    assertEquals(script.isError, true, textOf(script));
    assertEquals(questions.length, 2);
    assertStringIncludes(questions[1], "client_name, mobile_number cleared");
    const after = (await h.sdk.customers.list({ limit: 3 })).customers;
    assertEquals(after.map((c) => c.client_name), before.map((c) => c.client_name));
    assertEquals(after.map((c) => c.mobile_number), before.map((c) => c.mobile_number));
    // Changing a value to another removes nothing: no question.
    const renamed = await h.call("recapture_update_customer", {
      customer_id: a.id,
      client_name: "Other Name",
    });
    assertEquals(renamed.isError, undefined, textOf(renamed));
    assertEquals(questions.length, 2);
    // Without a way to ask, a clear is refused; with an accept it is done.
    const unasked = await plain.callTool({
      name: "recapture_update_customer",
      arguments: { customer_id: a.id, mobile_number: "" },
    }) as CallToolResult;
    assertMatch(textOf(unasked), /^confirmation_unavailable: /);
    answer = { action: "accept", content: { confirm: true } };
    const cleared = await h.call("recapture_update_customer", {
      customer_id: a.id,
      mobile_number: "",
    });
    assertEquals(cleared.isError, undefined, textOf(cleared));
    assertEquals((await h.sdk.customers.retrieve(a.id)).mobile_number ?? null, null);
  } finally {
    await plain.close();
    await plainServer.close();
    await h.close();
  }
});

// ---------------------------------------------------------------- masking

const PII = {
  name: "Penelope Quintessa-Farnsworth",
  mobile: "0499 876 543",
  email: "penelope.farnsworth@example.org",
  phone: "+61 3 9555 0199",
  street: "42 Wallaby Way, Sydney NSW 2000",
  nested: "Apartment 7 Buzzer 1234",
  arrayItem: "second-contact@example.net",
  numberPhone: 61298765432,
  externalId: "crm-penelope-88231",
};

/** Every planted value (and its parts a formatter might print apart). */
const PLANTED = [
  PII.name,
  "Penelope",
  "Quintessa",
  PII.mobile,
  "0499876543",
  "876 543",
  PII.email,
  PII.phone,
  PII.street,
  "Wallaby",
  PII.nested,
  PII.arrayItem,
  String(PII.numberPhone),
  PII.externalId,
];

function plantedRow(rego: string): Record<string, unknown> {
  return {
    rego,
    state: "VIC",
    client_name: PII.name,
    mobile_number: PII.mobile,
    external_id: PII.externalId,
    additional_fields: {
      Email: PII.email,
      Phone: PII.phone,
      Address: { street: PII.street, unit: { note: PII.nested } },
      Contacts: [PII.email, { alt: PII.arrayItem }],
      PhoneNumber: PII.numberPhone,
    },
  };
}

function assertNoPii(where: string, result: CallToolResult | string): void {
  const text = typeof result === "string"
    ? result
    : JSON.stringify(result.content) + JSON.stringify(result.structuredContent ?? null);
  for (const value of PLANTED) {
    assert(!text.includes(value), `${where} leaks ${JSON.stringify(value)}: ${text}`);
  }
}

Deno.test("masking: no planted personal value appears in any result, question or error", async () => {
  const questions: string[] = [];
  const h = await connect(atNow({
    server: { maskPii: true },
    elicit: (params) => {
      questions.push(JSON.stringify(params));
      return Promise.resolve({ action: "decline" });
    },
  }));
  try {
    const results: [string, CallToolResult][] = [];
    const call = async (name: string, args: Record<string, unknown>) => {
      const r = await h.call(name, args);
      results.push([name, r]);
      return r;
    };
    const created = dataOf(
      await call("recapture_upload_customers", {
        name: "planted",
        customers: [plantedRow("PII001"), plantedRow("PII002")],
      }),
    );
    await h.call("recapture_wait_for_upload", { upload_id: created.upload_id });
    const page = dataOf(await call("recapture_list_customers", {}));
    const id = (page.customers as { id: string }[])[0].id;
    const customer = dataOf(await call("recapture_get_customer", { customer_id: id }))
      .customer as Record<string, unknown>;
    // Safe fields pass in clear; rego is masked unless the operator allows it.
    assertEquals(customer.id, id);
    assertEquals(customer.state, "VIC");
    assertEquals(customer.rego, "[masked]");
    assertEquals(customer.client_name, maskName(PII.name));
    await call("recapture_update_customer", { customer_id: id, client_name: PII.name });
    await call("recapture_update_customer", { customer_id: id, mobile_number: PII.mobile });
    await call("recapture_update_customer", { customer_id: id, expiry_date: "2026-02-01" });
    await call("recapture_delete_customer", { customer_id: id });
    // Errors that could echo a value: a bad row, a bad update, a CSV upload.
    await call("recapture_upload_customers", {
      name: "bad",
      customers: [{ ...plantedRow("PII003"), sale_date: PII.email, mobile_number: PII.street }],
      dry_run: true,
    });
    await call("recapture_update_customer", { customer_id: id, sale_date: PII.email });
    await call("recapture_upload_customers", {
      name: "csv",
      csv:
        `rego,state,client_name,Email,Phone\nPII004,VIC,"${PII.name}",${PII.email},${PII.phone}\n` +
        `PII005,XX,"${PII.name}",${PII.email},${PII.phone}\n`,
      dry_run: true,
    });
    for (const [name, r] of results) assertNoPii(name, r);
    assert(questions.length >= 2, "the delete and expiry questions were asked");
    for (const q of questions) assertNoPii("elicitation question", q);
  } finally {
    await h.close();
  }
});

Deno.test("masking: the operator may show rego and VIN", async () => {
  const h = await connect({ server: { maskPii: { showVehicleIds: true } } });
  try {
    await uploadAndWait(h, 1);
    const page = dataOf(await h.call("recapture_list_customers", {}));
    const c = (page.customers as Record<string, unknown>[])[0];
    assertEquals(c.rego, "TST000");
    assertNoPii("list", textOf(await h.call("recapture_list_customers", {})));
  } finally {
    await h.close();
  }
});

// ---------------------------------------------------------------- honest cancel

/** A sandbox whose processing waits until `release()`: the queue listener is held. */
async function heldSandbox(): Promise<{ kv: Deno.Kv; release: () => void }> {
  const kv = await Deno.openKv(":memory:");
  const { promise, resolve } = Promise.withResolvers<void>();
  const held = new Proxy(kv, {
    get(target, prop) {
      if (prop === "listenQueue") {
        return (handler: (m: unknown) => void | Promise<void>) =>
          target.listenQueue(async (m) => {
            await promise;
            await handler(m);
          });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: held, release: () => resolve() };
}

Deno.test("cancel: a completed upload answers 'already completed: nothing cancelled'", async () => {
  const h = await connect();
  try {
    const id = await uploadAndWait(h, 3);
    const result = dataOf(await h.call("recapture_cancel_upload", { upload_id: id }));
    assertEquals(result.action, "already_completed");
    assertEquals(
      (result.upload as { total_processed_customers: number }).total_processed_customers,
      3,
    );
  } finally {
    await h.close();
  }
});

Deno.test("cancel: an upload that completes between the question and the accept is reported so", async () => {
  const { kv, release } = await heldSandbox();
  const held: { sandbox?: Sandbox } = {};
  const questions: string[] = [];
  const h = await connect({
    sandbox: { kv },
    elicit: async (params) => {
      questions.push(params.message);
      release();
      await held.sandbox?.idle();
      return { action: "accept", content: { confirm: true } };
    },
  });
  held.sandbox = h.sandbox;
  try {
    const created = dataOf(
      await h.call("recapture_upload_customers", { name: "race", customers: rows(3) }),
    );
    const result = await h.call("recapture_cancel_upload", { upload_id: created.upload_id });
    assertEquals(questions.length, 1);
    assertStringIncludes(questions[0], "3 customer(s) not yet processed");
    assertEquals(dataOf(result).action, "already_completed");
    assertMatch(textOf(result), /^already completed: nothing cancelled/);
    assertEquals((await h.sdk.customers.list()).total, 3);
  } finally {
    await h.close();
  }
});

Deno.test("cancel in token mode: held upload is cancelled; one finished after the preview is not", async () => {
  for (const finishFirst of [false, true]) {
    const { kv, release } = await heldSandbox();
    const h = await connect({
      sandbox: { kv },
      server: { confirm: "token-unverified", confirmationSecret: "k".repeat(32) },
    });
    try {
      const created = dataOf(
        await h.call("recapture_upload_customers", { name: "race", customers: rows(3) }),
      );
      const preview = textOf(
        await h.call("recapture_cancel_upload", { upload_id: created.upload_id }),
      );
      const token = /confirmation_token "([^"]+)"/.exec(preview)?.[1];
      if (finishFirst) {
        release();
        await h.sandbox.idle();
      }
      const result = await h.call("recapture_cancel_upload", {
        upload_id: created.upload_id,
        confirmation_token: token,
      });
      assertEquals(dataOf(result).action, finishFirst ? "already_completed" : "cancelled");
      release();
    } finally {
      await h.close();
    }
  }
});

// ---------------------------------------------------------------- protocol honesty

Deno.test("capabilities: tools are not advertised as changing", async () => {
  const h = await connect();
  try {
    assertEquals(h.client.getServerCapabilities()?.tools?.listChanged, false);
  } finally {
    await h.close();
  }
});

Deno.test("webhook lookup in the wrong region names the region it is in", async () => {
  const h = await connect({ server: { alerts: true } });
  try {
    const { id } = await h.sdk.webhooks.create({
      name: "crm",
      endpoint: "https://crm.example.com/hook?token=abcdefabcdef0123",
    }, { region: "au" });
    const result = await h.call("recapture_ping_webhook", { webhook_id: id, region: "nz" });
    assert(result.isError);
    assertStringIncludes(textOf(result), 'It is in region "au"');
  } finally {
    await h.close();
  }
});

// ---------------------------------------------------------------- over real HTTP

Deno.test("HTTP: the person is asked across requests; refused without elicitation, kept on decline", async () => {
  const sandbox = await createSandbox({ rateLimit: false, now: () => new Date(NOW) });
  const sdk = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    fetch: (req) => sandbox.fetch(req),
    maxRetries: 0,
  });
  const token = "http-test-token-0123456789";
  const app = createMcpHttpApp(() => createRecaptureMcpServer(sdk, clockOptions()), { token });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const url = new URL(`http://127.0.0.1:${server.addr.port}/mcp`);
  const connectHttp = async (elicit?: Elicitor) => {
    const client = mcpClient(elicit);
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  };
  try {
    const up = await sdk.uploads.create({ name: "h", customers: rows(2) });
    await sandbox.idle();
    const [id, other] = (await sdk.customers.list({ upload_id: up.id })).customers.map((c) => c.id);
    const questions: string[] = [];
    for (
      const [how, elicit, expected] of [
        ["no elicitation", undefined, /^confirmation_unavailable: /],
        ["decline", (p: { message: string }) => {
          questions.push(p.message);
          return Promise.resolve({ action: "decline" as const });
        }, /^not_confirmed: /],
        ["cancel", answer("cancel"), /^not_confirmed: /],
      ] as const
    ) {
      const client = await connectHttp(elicit as Elicitor | undefined);
      try {
        assertEquals(client.getServerCapabilities()?.tools?.listChanged, false);
        for (const date of Object.values(DELETING_DATES)) {
          const r = await client.callTool({
            name: "recapture_update_customer",
            arguments: { customer_id: id, expiry_date: date },
          }) as CallToolResult;
          assert(r.isError, `${how} ${date}`);
          assertMatch(textOf(r), expected, `${how} ${date}`);
        }
        const del = await client.callTool({
          name: "recapture_delete_customer",
          arguments: { customer_id: id },
        }) as CallToolResult;
        assertMatch(textOf(del), expected, how);
      } finally {
        await client.close();
      }
    }
    assertEquals(questions.length, 4, "the declining person was asked every time");
    assertStringIncludes(questions[3], `customer ${id}`);
    assertEquals((await sdk.customers.retrieve(id)).expiry_date ?? null, null);

    // While a question is pending, the app reads POST bodies itself: with the transport's bound.
    const statuses: number[] = [];
    const probing = await connectHttp(async () => {
      const big = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: "x", result: { pad: "x".repeat(5 << 20) } }),
      });
      statuses.push(big.status);
      await big.body?.cancel();
      return { action: "decline" as const };
    });
    try {
      const r = await probing.callTool({
        name: "recapture_delete_customer",
        arguments: { customer_id: id },
      }) as CallToolResult;
      assertMatch(textOf(r), /^not_confirmed: /);
      assertEquals(statuses, [413]);
    } finally {
      await probing.close();
    }

    // Two calls at once, each asking: each answer reaches the call that asked.
    const accepting = await connectHttp(answer("accept"));
    try {
      const [a, b] = await Promise.all([
        accepting.callTool({ name: "recapture_delete_customer", arguments: { customer_id: id } }),
        accepting.callTool({
          name: "recapture_update_customer",
          arguments: { customer_id: other, expiry_date: DELETING_DATES.yesterday },
        }),
      ]) as CallToolResult[];
      assertEquals(dataOf(a).action, "deleted");
      assertEquals(dataOf(b).result, "deleted");
    } finally {
      await accepting.close();
    }
    assertEquals((await sdk.customers.list()).total, 0);
  } finally {
    await server.shutdown();
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("a file upload confirms the file as it was previewed: a file changed after the preview or during the question is not uploaded", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/customers.csv`;
  // The regos of every upload the API receives.
  const uploaded: string[][] = [];
  const recording = (f: (req: Request) => Promise<Response>) => async (req: Request) => {
    if (req.method === "POST" && new URL(req.url).pathname === "/v2/recapture/upload") {
      const body = await req.clone().json() as { customers: { rego: string }[] };
      uploaded.push(body.customers.map((c) => c.rego));
    }
    return await f(req);
  };
  const csvOf = (regos: string[]) =>
    "rego,state,expiry_date\n" +
    regos.map((r) => `${r},NSW,${DELETING_DATES.yesterday}`).join("\n") + "\n";
  try {
    // Token mode: the token for a one-row file does not confirm the same path holding three.
    const token = await connect(atNow({
      server: {
        confirm: "token-unverified",
        confirmationSecret: "f".repeat(32),
        fileInput: { dirs: [dir] },
      },
      fetch: recording,
    }));
    try {
      await Deno.writeTextFile(file, csvOf(["TOC001"]));
      const args = { name: "previewed", file };
      const preview = await token.call("recapture_upload_customers", args);
      assertMatch(textOf(preview), /^confirmation_required: .*1 of the 1 customer/);
      const t = /confirmation_token "([^"]+)"/.exec(textOf(preview))?.[1] ?? "";
      await Deno.writeTextFile(file, csvOf(["TOC002", "TOC003", "TOC004"]));
      const swapped = await token.call("recapture_upload_customers", {
        ...args,
        confirmation_token: t,
      });
      assertMatch(textOf(swapped), /^confirmation_other_call: /);
      assertEquals(uploaded, [], "nothing uploaded");
    } finally {
      await token.close();
    }
    // A person confirms one row; the file changes while they read the question.
    const person = await connect(atNow({
      server: { fileInput: { dirs: [dir] } },
      fetch: recording,
      elicit: async () => {
        await Deno.writeTextFile(file, csvOf(["TOC006", "TOC007", "TOC008"]));
        return { action: "accept", content: { confirm: true } };
      },
    }));
    try {
      await Deno.writeTextFile(file, csvOf(["TOC005"]));
      const done = await person.call("recapture_upload_customers", { name: "asked", file });
      assert(
        uploaded.length === 0 || JSON.stringify(uploaded) === '[["TOC005"]]',
        `confirmed TOC005 only, uploaded ${JSON.stringify(uploaded)}: ${textOf(done)}`,
      );
    } finally {
      await person.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("masking: find by name matches whole words, so a masked name cannot be read out letter by letter", async () => {
  const h = await connect({ server: clockOptions({ maskPii: true }) });
  try {
    const created = dataOf(
      await h.call("recapture_upload_customers", {
        name: "planted",
        customers: [plantedRow("PII010")],
      }),
    );
    await h.call("recapture_wait_for_upload", { upload_id: created.upload_id });
    const found = async (query: string) =>
      (dataOf(await h.call("recapture_find_customers", { query, by: "name" })).matches as unknown[])
        .length;
    // Prefixes and fragments: the oracle that spells a name one letter at a time.
    for (const fragment of ["P", "Pe", "Penel", "e", "Quint", "nelope", "arnsworth"]) {
      assertEquals(await found(fragment), 0, fragment);
    }
    // Whole words of the name, any case, still find the customer.
    for (const words of ["Penelope", "farnsworth", "QUINTESSA", PII.name]) {
      assertEquals(await found(words), 1, words);
    }
  } finally {
    await h.close();
  }
});

Deno.test("cancel of an upload cancelled before: already_cancelled, nobody asked, nothing claimed", async () => {
  const { kv, release } = await heldSandbox();
  const { questions, elicit } = acceptingPerson();
  const h = await connect({ sandbox: { kv }, elicit });
  try {
    const created = dataOf(
      await h.call("recapture_upload_customers", { name: "twice", customers: rows(3) }),
    );
    await h.sdk.uploads.cancel(created.upload_id as string);
    const result = await h.call("recapture_cancel_upload", { upload_id: created.upload_id });
    assertEquals(questions.length, 0);
    assertEquals(dataOf(result).action, "already_cancelled");
    assertMatch(textOf(result), /^already cancelled: nothing more to stop/);
  } finally {
    release();
    await h.close();
  }
});
