// The stdio entry point as a subprocess (`deno run mcp/stdio.ts`), driven by a real MCP Client.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { Client } from "../../mcp/_sdk.ts";
import { StdioClientTransport } from "../../mcp/_sdk_stdio.ts";
import { callTool, dataOf, INITIALIZE_REQUEST, mcpClient, textOf } from "./_fixture.ts";
import { childEnv } from "../_child_env.ts";
import type { Elicitor } from "./_fixture.ts";

const decline: Elicitor = () => Promise.resolve({ action: "decline" });
const accept: Elicitor = () => Promise.resolve({ action: "accept", content: { confirm: true } });

const ROOT = new URL("../../", import.meta.url);
const CONFIG = new URL("deno.json", ROOT).pathname;
const ENTRY = new URL("mcp/stdio.ts", ROOT).pathname;

/**
 * Starts `mcp/stdio.ts` with `args` on `dir`'s sandbox file and connects a client: one that
 * answers questions with `elicit`, or shares `roots`, when given.
 */
async function stdioClient(
  dir: string,
  args: string[],
  options: { elicit?: Elicitor; roots?: readonly string[] } = {},
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", "--config", CONFIG, ENTRY, "--sandbox-path", `${dir}/sandbox.kv`, ...args],
    env: childEnv(),
    stderr: "pipe",
  });
  const client = mcpClient(options.elicit, options.roots);
  await client.connect(transport);
  return client;
}

/**
 * A test of the stdio server as a subprocess, given a fresh directory for its sandbox file
 * (removed after). Not sanitized: StdioClientTransport.close() races the child's exit against an
 * unref'd 2 s timer that it never clears (SDK 1.32.2), which Deno reports as a leak. The child
 * itself exits on its own when stdin closes (see serveStdio).
 */
function stdioTest(name: string, fn: (dir: string) => Promise<void>): void {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false }, async () => {
    const dir = await Deno.makeTempDir({ prefix: "recapture_mcp_stdio_" });
    try {
      await fn(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

stdioTest("stdio: a subprocess serves the tools on the sandbox and runs an upload", async (dir) => {
  const client = await stdioClient(dir, []);
  try {
    const instructions = client.getInstructions() ?? "";
    assertStringIncludes(instructions, "SANDBOX");
    assertStringIncludes(instructions, `${dir}/sandbox.kv`);
    const { tools } = await client.listTools();
    assertEquals(tools.length, 9);

    const created = dataOf(
      await callTool(client, "recapture_upload_customers", {
        name: "stdio",
        customers: [{ rego: "STD001", state: "VIC" }, { vin: "1HGCM82633A004352" }],
      }),
    );
    const id = created.upload_id as string;
    const waited = dataOf(
      await callTool(client, "recapture_wait_for_upload", { upload_id: id, max_wait_seconds: 10 }),
    );
    assertEquals(waited.done, true);
    assertEquals(waited.total_processed_customers, 2);
    const listed = dataOf(
      await callTool(client, "recapture_list_customers"),
    );
    assertEquals(listed.total, 2);
  } finally {
    await client.close();
  }
});

Deno.test("stdio: unknown flags and tool names fail at start-up with exit code 2", async () => {
  for (const args of [["--bogus"], ["--tools", "recapture_nope"], ["--region", "us"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, ENTRY, "--sandbox-path", ":memory:", ...args],
      env: childEnv(),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 2, `${args.join(" ")}: ${stderr}`);
    assertStringIncludes(stderr, "recapture MCP:");
    assertEquals(out.stdout.length, 0, "nothing on stdout");
  }
});

async function uploadOne(client: Client): Promise<string> {
  const created = dataOf(
    await callTool(client, "recapture_upload_customers", {
      name: "stdio",
      customers: [{ rego: "STD001", state: "VIC" }],
    }),
  );
  await callTool(client, "recapture_wait_for_upload", {
    upload_id: created.upload_id,
    max_wait_seconds: 10,
  });
  const listed = dataOf(await callTool(client, "recapture_list_customers"));
  return (listed.customers as { id: string }[])[0].id;
}

stdioTest(
  "stdio: expiry of today, yesterday or the UTC+14 day is refused, declined, or accepted",
  async (dir) => {
    const now = Date.now();
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    // The real clock here: the earliest "today" anywhere is today's date in UTC+14.
    const dates = [day(now), day(now - 86_400_000), day(now + 14 * 3_600_000)];
    let id = "";
    for (const [how, elicit] of [["no elicitation", undefined], ["decline", decline]] as const) {
      const client = await stdioClient(dir, [], { elicit });
      try {
        id ||= await uploadOne(client);
        for (const date of dates) {
          const r = await callTool(client, "recapture_update_customer", {
            customer_id: id,
            expiry_date: date,
          });
          assert(r.isError, `${how} ${date}`);
          assertStringIncludes(textOf(r), elicit ? "not_confirmed" : "confirmation_unavailable");
        }
        const got = dataOf(
          await callTool(client, "recapture_get_customer", { customer_id: id }),
        );
        assertEquals((got.customer as { expiry_date?: string | null }).expiry_date ?? null, null);
      } finally {
        await client.close();
      }
    }
    const accepting = await stdioClient(dir, [], { elicit: accept });
    try {
      const r = dataOf(
        await callTool(accepting, "recapture_update_customer", {
          customer_id: id,
          expiry_date: dates[1],
        }),
      );
      assertEquals(r.result, "deleted");
    } finally {
      await accepting.close();
    }
  },
);

stdioTest(
  "stdio: token mode survives a restart; the secret stays beside the data, never in output",
  async (dir) => {
    const outputs: string[] = [];
    const first = await stdioClient(dir, ["--confirm=token-unverified"]);
    let id: string;
    let token: string;
    try {
      id = await uploadOne(first);
      const preview = await callTool(first, "recapture_delete_customer", { customer_id: id });
      outputs.push(JSON.stringify(preview));
      assertStringIncludes(textOf(preview), "confirmation_required");
      token = /confirmation_token "([^"]+)"/.exec(textOf(preview))?.[1] ?? "";
    } finally {
      await first.close();
    }
    const second = await stdioClient(dir, ["--confirm=token-unverified"]);
    try {
      const done = await callTool(second, "recapture_delete_customer", {
        customer_id: id,
        confirmation_token: token,
      });
      outputs.push(JSON.stringify(done));
      assertEquals(dataOf(done).action, "deleted");
    } finally {
      await second.close();
    }
    const secret = (await Deno.readTextFile(`${dir}/mcp_confirm_secret`)).trim();
    assert(secret.length >= 32);
    assertEquals((await Deno.stat(`${dir}/mcp_confirm_secret`)).mode! & 0o077, 0, "owner-only");
    for (const out of outputs) assert(!out.includes(secret), "the secret is not in output");
  },
);

Deno.test("stdio: a JSON-RPC batch is refused with a JSON-RPC error, and the server goes on", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, ENTRY, "--sandbox-path", ":memory:"],
    env: childEnv(),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify([INITIALIZE_REQUEST]) + "\n"));
  await writer.write(
    new TextEncoder().encode(JSON.stringify({ ...INITIALIZE_REQUEST, id: 2 }) + "\n"),
  );
  await writer.close();
  const out = new TextDecoder().decode((await child.output()).stdout);
  const lines = out.trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines[0].error?.code, -32600, out);
  assertEquals(lines[0].id, null);
  assertEquals(lines[1].id, 2, "the next message is served");
  assert(lines[1].result?.serverInfo, out);
});

stdioTest(
  "stdio: --files-dir opens a folder to uploads by path; the client's roots open theirs",
  async (dir) => {
    const exports = await Deno.makeTempDir({ prefix: "recapture_mcp_files_" });
    const shared = await Deno.makeTempDir({ prefix: "recapture_mcp_root_" });
    const csv = "rego,state\nFIL001,VIC\nFIL002,NSW\n";
    await Deno.writeTextFile(`${exports}/a.csv`, csv);
    await Deno.writeTextFile(`${shared}/b.csv`, csv);
    const upload = (client: Client, file: string) =>
      callTool(client, "recapture_upload_customers", { name: "file", file, dry_run: true });
    try {
      const client = await stdioClient(dir, ["--files-dir", exports]);
      try {
        assertEquals(dataOf(await upload(client, `${exports}/a.csv`)).valid_rows, 2);
        assert(textOf(await upload(client, `${shared}/b.csv`)).startsWith("file_not_allowed: "));
      } finally {
        await client.close();
      }
      // A client that shares a root: its folder is open too, without any flag.
      const rooted = await stdioClient(dir, [], { roots: [`file://${shared}`] });
      try {
        assertEquals(dataOf(await upload(rooted, `${shared}/b.csv`)).valid_rows, 2);
      } finally {
        await rooted.close();
      }
    } finally {
      for (const d of [exports, shared]) await Deno.remove(d, { recursive: true });
    }
  },
);
