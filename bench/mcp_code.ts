// Code mode (issue 17) on one 20k-customer sandbox account (tests/mcp/_code_tasks.ts):
// 0. the `code` toolset's two tools in tools/list, in tokens (goal <= 700);
// 1. tokens (o200k, gpt-tokenizer) an agent's context takes for each task: one
//    recapture_run_script call vs paging through recapture_list_customers (limit 100, only the
//    fields the task needs; the agent does the counting itself), text + structuredContent of
//    every result (code mode's result is in both, so it is counted twice);
// 2. script start-up: a script that returns at once, median of runs, vs an in-process call;
// 3. per-call bridge overhead: 200 client calls in one script vs the same 200 SDK calls in
//    process, both against the in-memory sandbox.
// Ratios, not absolute timings, are the figures (2 shared cores here).
//
//   deno run -A bench/mcp_code.ts
import { countTokens } from "gpt-tokenizer";
import { createRecaptureMcpServer } from "../mcp/mod.ts";
import { Client, InMemoryTransport } from "../mcp/_sdk.ts";
import type { CallToolResult } from "../mcp/_sdk.ts";
import { createBridge } from "../mcp/code/_bridge.ts";
import { runScript } from "../mcp/code/_runner.ts";
import { seedAccount, TASKS } from "../tests/mcp/_code_tasks.ts";

const account = await seedAccount();
const server = createRecaptureMcpServer(account.client, {
  toolsets: ["uploads", "customers", "code"],
});
const client = new Client({ name: "bench", version: "1" });
const [a, b] = InMemoryTransport.createLinkedPair();
await server.connect(b);
await client.connect(a);
/** What a result puts in the context: its text and its structured content (both counted). */
const text = (r: CallToolResult) =>
  r.content.map((c) => c.type === "text" ? c.text : "").join("") +
  (r.structuredContent ? JSON.stringify(r.structuredContent) : "");

/** Fields the per-operation route needs for each task. */
const FIELDS: string[][] = [
  ["vin_source"],
  ["rego", "state", "sightings"],
  ["rego", "vin", "client_name", "sale_date", "state"],
  ["rego", "state"],
];

const { tools } = await client.listTools();
const codeTools = tools.filter((t) =>
  t.name === "recapture_run_script" || t.name === "recapture_search_docs"
);
const listed = countTokens(JSON.stringify(codeTools));
console.log(
  `code toolset tools/list: ${listed} tokens (goal <= 700: ${listed <= 700 ? "met" : "NOT met"})\n`,
);
console.log(
  "task                                   code mode          per-operation tools   ratio",
);
for (let i = 0; i < TASKS.length; i++) {
  const task = TASKS[i];
  const code = await client.callTool({
    name: "recapture_run_script",
    arguments: { script: task.script },
  }) as CallToolResult;
  const codeTokens = countTokens(text(code));
  let calls = 0;
  let tokens = 0;
  let cursor: string | undefined;
  do {
    const page = await client.callTool({
      name: "recapture_list_customers",
      arguments: cursor
        ? { cursor, limit: 100, fields: FIELDS[i] }
        : { limit: 100, fields: FIELDS[i] },
    }) as CallToolResult;
    calls++;
    tokens += countTokens(text(page));
    cursor = (page.structuredContent as { next_cursor?: string } | undefined)?.next_cursor;
  } while (cursor);
  console.log(
    `${task.name.padEnd(38)} 1 call ${String(codeTokens).padStart(6)} tok   ${
      String(calls).padStart(4)
    } calls ${String(tokens).padStart(8)} tok   ${(tokens / codeTokens).toFixed(0)}x`,
  );
}

const handle = createBridge(account.client, {
  write: false,
  region: "au",
  confirm: () => Promise.resolve({ go: false, text: "not_confirmed: bench" }),
});
const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const startups: number[] = [];
for (let i = 0; i < 9; i++) {
  const t0 = performance.now();
  await runScript("return 1;", handle);
  startups.push(performance.now() - t0);
}
const inProcess: number[] = [];
for (let i = 0; i < 9; i++) {
  const t0 = performance.now();
  await account.client.customers.list({ limit: 1 });
  inProcess.push(performance.now() - t0);
}
const N = 200;
const scripted: number[] = [];
const direct: number[] = [];
for (let round = 0; round < 5; round++) {
  let t0 = performance.now();
  const out = await runScript(
    `for (let i = 0; i < ${N}; i++) await client.customers.list({ limit: 1, offset: i });
return 1;`,
    handle,
  );
  if (!out.ok) throw new Error(out.message);
  scripted.push(performance.now() - t0);
  t0 = performance.now();
  for (let i = 0; i < N; i++) await account.client.customers.list({ limit: 1, offset: i });
  direct.push(performance.now() - t0);
}
const start = median(startups);
const perCallScript = (median(scripted) - start) / N;
const perCallDirect = median(direct) / N;
console.log(
  `\nscript start-up (return 1): ${start.toFixed(0)} ms median of 9 = ${
    (start / median(inProcess)).toFixed(0)
  }x one in-process SDK call (${median(inProcess).toFixed(2)} ms)`,
);
console.log(
  `per client call: ${perCallScript.toFixed(3)} ms through the bridge vs ${
    perCallDirect.toFixed(3)
  } ms in process: ${(perCallScript / perCallDirect).toFixed(2)}x, overhead ${
    (perCallScript - perCallDirect).toFixed(3)
  } ms per call (${N} calls, median of 5)`,
);

await client.close();
await server.close();
await account.close();
