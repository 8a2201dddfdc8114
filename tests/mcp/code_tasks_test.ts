/**
 * Code mode through the MCP server as an agent meets it (the official client over an in-memory
 * link): the four tasks on a 20k-customer sandbox account, one `recapture_run_script` call each,
 * with the right answer and the result's token count (o200k); the `code` toolset's listing size;
 * the docs search; a destructive call confirmed by a person (accept, decline); the refusal where
 * processes cannot start.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { countTokens } from "gpt-tokenizer";
import { createRecaptureMcpServer } from "../../mcp/mod.ts";
import { InMemoryTransport } from "../../mcp/_sdk.ts";
import type { CallToolResult } from "../../mcp/_sdk.ts";
import { runScript } from "../../mcp/code/_runner.ts";
import { mcpClient } from "./_fixture.ts";
import type { Elicitor } from "./_fixture.ts";
import { seedAccount, TASKS } from "./_code_tasks.ts";

/** The goal for the `code` toolset's two tools in `tools/list`. */
const CODE_TOOLSET_TOKEN_GOAL = 700;

Deno.test("code mode: the tasks, one call each, on a 20k-customer account", async (t) => {
  const account = await seedAccount();
  let answer: Awaited<ReturnType<Elicitor>> = { action: "decline" };
  const questions: string[] = [];
  const server = createRecaptureMcpServer(account.client, { toolsets: ["code"] });
  const client = mcpClient((req) => {
    questions.push(req.message);
    return Promise.resolve(answer);
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  await client.connect(a);
  const run = async (script: string) =>
    await client.callTool({
      name: "recapture_run_script",
      arguments: { script },
    }) as CallToolResult;
  const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;
  try {
    await t.step(`the code toolset lists in <= ${CODE_TOOLSET_TOKEN_GOAL} tokens`, async () => {
      const { tools } = await client.listTools();
      assertEquals(tools.map((x) => x.name), ["recapture_run_script", "recapture_search_docs"]);
      const tokens = countTokens(JSON.stringify(tools));
      console.log(`code toolset tools/list: ${tokens} tokens`);
      assert(tokens <= CODE_TOOLSET_TOKEN_GOAL, `${tokens} tokens`);
    });

    for (const task of TASKS) {
      await t.step(task.name, async () => {
        const result = await run(task.script);
        assert(!result.isError, textOf(result));
        const data = result.structuredContent as { result: unknown; calls: number };
        const expected = task.expected(account.customers) as Record<string, unknown>;
        if (Array.isArray(expected)) {
          assertEquals(data.result, expected);
          assert(expected.length >= 20, "the account has cars listed over $30,000");
        } else {
          for (const [key, value] of Object.entries(expected)) {
            assertEquals((data.result as Record<string, unknown>)[key], value, key);
          }
        }
        // Text and structured content both enter the context (the result is in both).
        const tokens = countTokens(textOf(result) + JSON.stringify(result.structuredContent));
        console.log(`${task.name}: 1 call, ${data.calls} client calls, ${tokens} tokens`);
        assert(tokens < 6000, `${tokens} tokens`);
      });
    }

    await t.step("the docs search finds what a script calls", async () => {
      const result = await client.callTool({
        name: "recapture_search_docs",
        arguments: { query: "list customers page" },
      }) as CallToolResult;
      assert(!result.isError, textOf(result));
      const { matches } = result.structuredContent as {
        matches: { name: string; script_call?: string }[];
      };
      assert(matches.some((m) => m.script_call === "client.customers.list"), textOf(result));
    });

    await t.step("a delete in a script asks the person; only an accept deletes", async () => {
      const [victim] = account.customers;
      const script = `try { await client.customers.delete(${
        JSON.stringify(victim.id)
      }); return "deleted"; }
        catch (e) { return e.name; }`;
      answer = { action: "decline" };
      assertEquals((await run(script)).structuredContent?.result, "not_confirmed");
      assertEquals((await account.client.customers.retrieve(victim.id)).id, victim.id);
      answer = { action: "accept", content: { confirm: true } };
      assertEquals((await run(script)).structuredContent?.result, "deleted");
      assertEquals(questions.length, 2);
      assertMatch(questions[0], new RegExp(`customer ${victim.id} is deleted`));
    });

    await t.step(
      "an upload of rows expiring at once asks the person; an accept sends them",
      async () => {
        const script = `try {
          const u = await client.uploads.create({ name: "expiring", customers: [
            { rego: "EXPCM1", state: "NSW", expiry_date: " 2020-01-01 " }] });
          return u.total_uploaded_customers;
        } catch (e) { return e.name; }`;
        answer = { action: "decline" };
        assertEquals((await run(script)).structuredContent?.result, "not_confirmed");
        answer = { action: "accept", content: { confirm: true } };
        assertEquals((await run(script)).structuredContent?.result, 1);
        assertMatch(questions.at(-1) ?? "", /1 uploaded customer\(s\) expire at once/);
      },
    );

    await t.step("with --mask-pii, what a script reads is masked", async () => {
      const masking = createRecaptureMcpServer(account.client, {
        toolsets: ["code"],
        maskPii: true,
      });
      const other = mcpClient();
      const [x, y] = InMemoryTransport.createLinkedPair();
      await masking.connect(y);
      await other.connect(x);
      try {
        const result = await other.callTool({
          name: "recapture_run_script",
          arguments: {
            script: `const c = (await client.customers.list({ limit: 1, offset: 5 })).customers[0];
              const one = await client.customers.retrieve(c.id);
              return [c.id, c.client_name, c.mobile_number, c.rego, one.client_name, one.vin];`,
          },
        }) as CallToolResult;
        assert(!result.isError, textOf(result));
        const [id, name, mobile, rego, name2, vin] = result.structuredContent?.result as string[];
        const clear = account.customers.find((c) => c.id === id)!;
        assert(name !== clear.client_name && name === name2, `${name}`);
        assert(mobile !== clear.mobile_number && mobile.endsWith(clear.mobile_number!.slice(-3)));
        assertEquals([rego, vin], ["[masked]", "[masked]"]);
      } finally {
        await other.close();
        await masking.close();
      }
    });

    await t.step("where no process can start (Deno Deploy), code mode is refused", async () => {
      Deno.env.set("DENO_DEPLOYMENT_ID", "test");
      try {
        const out = await runScript("return 1;", () => Promise.resolve(null));
        assert(!out.ok);
        assertEquals(out.code, "unavailable");
        assertMatch(out.message, /Deno Deploy cannot start/);
      } finally {
        Deno.env.delete("DENO_DEPLOYMENT_ID");
      }
    });
  } finally {
    await client.close();
    await server.close();
    await account.close();
  }
});
