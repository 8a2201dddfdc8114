// A scripted agent session through the official MCP SDK client, as issue 16 plays it: upload a
// 300-row CSV file (10 bad rows) by path with skip_invalid, subscribe to the upload, wait, find a
// customer by rego in a 20k-customer account, update, delete (a person confirms through
// elicitation), cancel a held upload (confirmed too). Every result's tokens are counted (o200k:
// text + resource links + structuredContent): the session must stay within 8k, no result over
// 2.5k, and the default tools/list within 3k.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { countTokens } from "gpt-tokenizer";
import { connect, dataOf, rows, textOf } from "./_fixture.ts";
import { ResourceUpdatedNotificationSchema } from "../../mcp/_sdk.ts";
import type { CallToolResult } from "../../mcp/_sdk.ts";

const SESSION_GOAL = 8000;
const RESULT_GOAL = 2500;
const LIST_GOAL = 2500;

/** A KV whose queue (the sandbox's processing) can be paused and resumed. */
async function pausableKv(): Promise<{ kv: Deno.Kv; pause(): void; resume(): void }> {
  const kv = await Deno.openKv(":memory:");
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      if (prop === "listenQueue") {
        return (handler: (m: unknown) => void | Promise<void>) =>
          target.listenQueue(async (m) => {
            await gate?.promise;
            await handler(m);
          });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    kv: wrapped,
    pause: () => {
      gate = Promise.withResolvers<void>();
    },
    resume: () => {
      gate?.resolve();
      gate = undefined;
    },
  };
}

/** The 300-row CSV: rows 0..299, of which 10 (every 30th) are bad in different ways. */
function csvFile(): string {
  const bad = [
    (i: number) => `AGS${i},XX,Bad State ${i},0412000${i},2024-03-01,`,
    (i: number) => `AGS${i},NSW,Bad Date ${i},0412000${i},2024-13-45,`,
    (i: number) => `,NSW,No Vehicle ${i},0412000${i},2024-03-01,`,
  ];
  const lines = ["rego,state,client_name,mobile_number,sale_date,expiry_date"];
  for (let i = 0; i < 300; i++) {
    lines.push(
      i % 30 === 7
        ? (bad[i % 3] as (i: number) => string)(i)
        : `AGS${String(i).padStart(3, "0")},NSW,Pat Driver ${i},0412 000 ${
          String(i).padStart(3, "0")
        },2024-03-01,2028-01-01`,
    );
  }
  return lines.join("\n") + "\n";
}

function tokensOf(result: CallToolResult): number {
  const parts = result.content.map((c) => (c.type === "text" ? c.text : JSON.stringify(c)));
  return countTokens(parts.join("\n") + JSON.stringify(result.structuredContent ?? {}));
}

Deno.test("agent session: file upload, subscribe, wait, find in 20k, update, delete, cancel, within the token budget", async () => {
  const { kv, pause, resume } = await pausableKv();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/customers.csv`;
  await Deno.writeTextFile(file, csvFile());
  const questions: string[] = [];
  const h = await connect({
    sandbox: { kv },
    server: { fileInput: { dirs: [dir] } },
    elicit: (params) => {
      questions.push(params.message);
      return Promise.resolve({ action: "accept", content: { confirm: true } });
    },
  });
  const updates: string[] = [];
  const { promise: uploadDone, resolve: sawUpdate } = Promise.withResolvers<void>();
  h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
    sawUpdate();
  });
  const table: [string, number][] = [];
  const step = async (label: string, name: string, args: Record<string, unknown>) => {
    const result = await h.call(name, args);
    table.push([label, tokensOf(result)]);
    return result;
  };
  try {
    // The account already holds 20,000 customers (not part of the session).
    for (let part = 0; part < 4; part++) {
      const seed = rows(5000, 10_000 + part * 5000).map((r) => ({ ...r, rego: `S${r.rego}` }));
      await h.sdk.uploads.create({ name: `seed ${part}`, customers: seed });
    }
    await h.sandbox.idle();
    assertEquals((await h.sdk.customers.list({ limit: 1 })).total, 20_000);

    const listed = await h.client.listTools();
    const listTokens = countTokens(JSON.stringify(listed));

    // 1. Upload the file by path, skipping the bad rows.
    const uploaded = await step("upload 300-row file", "recapture_upload_customers", {
      name: "October sales",
      file,
      skip_invalid: true,
    });
    const up = dataOf(uploaded);
    assertEquals([up.valid_rows, up.skipped_rows], [290, 10]);
    assertStringIncludes(textOf(uploaded), "Skipped 10 invalid row(s)");
    const link = uploaded.content.find((c) => c.type === "resource_link");
    assert(link && link.type === "resource_link", "the upload result links its resource");
    // 2. Subscribe to it, and read it once.
    await h.client.subscribeResource({ uri: link.uri });
    const read = await h.client.readResource({ uri: link.uri });
    table.push(["read upload resource", countTokens(JSON.stringify(read.contents))]);
    // 3. Wait.
    const waited = dataOf(
      await step("wait for upload", "recapture_wait_for_upload", { upload_id: up.upload_id }),
    );
    assertEquals([waited.done, waited.total_processed_customers], [true, 290]);
    await uploadDone;
    assert(updates.includes(link.uri), "the subscription reported the upload's progress");
    await h.client.unsubscribeResource({ uri: link.uri });
    // 4. Find one customer by rego among 20,290.
    const found = dataOf(
      await step("find by rego in 20,290", "recapture_find_customers", { query: "ags 150" }),
    );
    assertEquals([found.searched, found.total, found.next_offset], [20_290, 20_290, null]);
    const matches = found.matches as { id: string; rego: string }[];
    assertEquals(matches.map((m) => m.rego), ["AGS150"]);
    const id = matches[0]?.id as string;
    // 5. Update.
    const updated = dataOf(
      await step("update customer", "recapture_update_customer", {
        customer_id: id,
        mobile_number: "0499 111 222",
      }),
    );
    assertEquals(updated.result, "updated");
    // 6. Delete: the person is asked and accepts.
    const deleted = dataOf(
      await step("delete customer (elicitation)", "recapture_delete_customer", { customer_id: id }),
    );
    assertEquals(deleted.action, "deleted");
    assertEquals(questions.length, 1);
    // 7. Cancel an upload that is still queued (processing held), after the person accepts.
    pause();
    const queued = dataOf(
      await step("upload 5 rows (held)", "recapture_upload_customers", {
        name: "second thoughts",
        customers: rows(5, 900),
      }),
    );
    const cancelled = dataOf(
      await step("cancel upload (elicitation)", "recapture_cancel_upload", {
        upload_id: queued.upload_id,
      }),
    );
    assertEquals(cancelled.action, "cancelled");
    assertEquals(questions.length, 2);
    resume();
    await h.sandbox.idle();
    assertEquals((await h.sdk.customers.list({ limit: 1 })).total, 20_289);

    const total = table.reduce((sum, [, t]) => sum + t, 0);
    console.log(`tools/list (default toolsets): ${listTokens} tok`);
    for (const [label, t] of table) {
      console.log(`  ${label.padEnd(34)} ${String(t).padStart(5)} tok`);
    }
    console.log(`  ${"session total".padEnd(34)} ${String(total).padStart(5)} tok`);
    assert(listTokens <= LIST_GOAL, `tools/list ${listTokens} > ${LIST_GOAL}`);
    for (const [label, t] of table) assert(t <= RESULT_GOAL, `${label}: ${t} > ${RESULT_GOAL}`);
    assert(total <= SESSION_GOAL, `session ${total} > ${SESSION_GOAL}`);
  } finally {
    resume();
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
