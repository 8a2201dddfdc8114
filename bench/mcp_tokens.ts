// Context cost of the MCP server, in tokens: the tools/list answer (total and per tool) and a
// list_customers page of 50 customers with and without a `fields` selection. Tokens are counted
// with gpt-tokenizer (o200k_base, a real BPE tokenizer) and, for comparison, as characters / 4.
//
//   deno run -A bench/mcp_tokens.ts
//
// Everything runs in process: a real sandbox (Deno KV in memory), the SDK client, the MCP server
// and a real MCP Client over InMemoryTransport.
import { countTokens } from "gpt-tokenizer";
import { connect, rows } from "../tests/mcp/_fixture.ts";
import type { CallToolResult } from "../mcp/_sdk.ts";

// Issue 17: the default toolsets (uploads, customers) list in at most 2,500 tokens (issue 16
// allowed 3,000).
const TOTAL_GOAL = 2500;
// Per tool: 400 (issue 16 had allowed 450 for the upload tool's `file` and `skip_invalid`).
const PER_TOOL_GOAL = 400;

function size(text: string): { tokens: number; quarter: number; chars: number } {
  return { tokens: countTokens(text), quarter: Math.ceil(text.length / 4), chars: text.length };
}

function row(label: string, s: { tokens: number; quarter: number; chars: number }): string {
  return `${label.padEnd(34)} ${String(s.tokens).padStart(6)} tok  ${
    String(s.quarter).padStart(6)
  } chars/4  ${String(s.chars).padStart(7)} chars`;
}

function resultText(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

const h = await connect();
let failed = false;
try {
  // --- tools/list
  const listed = await h.client.listTools();
  const total = size(JSON.stringify(listed));
  console.log("tools/list (JSON as sent to the client)");
  for (const tool of listed.tools) {
    const s = size(JSON.stringify(tool));
    const flag = s.tokens > PER_TOOL_GOAL ? "  OVER GOAL" : "";
    if (flag) failed = true;
    console.log(row(`  ${tool.name}`, s) + flag);
  }
  console.log(row("  total", total));
  console.log(
    `  goal: total <= ${TOTAL_GOAL} (${total.tokens <= TOTAL_GOAL ? "met" : "MISSED"}), ` +
      `each <= ${PER_TOOL_GOAL}; total is ${(total.tokens / TOTAL_GOAL).toFixed(2)}x the budget`,
  );
  if (total.tokens > TOTAL_GOAL) failed = true;

  // --- list_customers, 50 customers
  const created = await h.call("recapture_upload_customers", {
    name: "bench",
    customers: rows(50).map((r, i) => ({
      ...r,
      vin: `1HGCM82633A${String(100000 + i)}`,
      expiry_date: "2027-03-01",
      additional_fields: { salesperson: "Sam", stock_no: `S${1000 + i}` },
    })),
  });
  const uploadId = created.structuredContent?.upload_id as string;
  await h.call("recapture_wait_for_upload", { upload_id: uploadId });

  const full = await h.call("recapture_list_customers", { limit: 50 });
  const slim = await h.call("recapture_list_customers", {
    limit: 50,
    fields: ["rego", "vin", "vehicle_title"],
  });
  const fullText = size(resultText(full));
  const slimText = size(resultText(slim));
  const fullJson = size(JSON.stringify(full.structuredContent));
  const slimJson = size(JSON.stringify(slim.structuredContent));
  const count = (r: CallToolResult) => (r.structuredContent?.customers as unknown[]).length;
  console.log(
    `\nrecapture_list_customers, limit 50 (baseline: all fields; ${count(full)} and ` +
      `${count(slim)} customers returned)`,
  );
  console.log(row("  text, all fields (baseline)", fullText));
  console.log(row("  text, fields=rego,vin,vehicle_title", slimText));
  console.log(row("  structuredContent, all fields", fullJson));
  console.log(row("  structuredContent, 3 fields", slimJson));
  // Text is now a one-line summary; the customers travel in structuredContent.
  const perFull = fullJson.tokens / count(full);
  const perSlim = slimJson.tokens / count(slim);
  const uncapped = size(JSON.stringify((await h.sdk.customers.list({ limit: 50 })).customers));
  console.log(row("  50 full customers, uncapped JSON", uncapped));
  console.log(
    `  per customer: ${perFull.toFixed(0)} tok with all fields, ${perSlim.toFixed(0)} with 3 ` +
      `fields: ${(perSlim / perFull).toFixed(2)}x the baseline (${
        (perFull / perSlim).toFixed(1)
      }x ` +
      `smaller); the size cap held the all-fields page to ${count(full)} customers`,
  );
} finally {
  await h.close();
}

// --- the opt-in alert tools (alerts: true, sandbox mode: all five), measured on their own and
// as what they add to the default list.
const withAlerts = await connect({ server: { alerts: true, mode: "sandbox" } });
try {
  const listed = await withAlerts.client.listTools();
  const alertTools = listed.tools.filter((t) => /webhook|simulate/.test(t.name));
  console.log("\ntools/list with alerts: true (opt-in; sandbox mode adds the simulate tool)");
  let added = 0;
  for (const tool of alertTools) {
    const s = size(JSON.stringify(tool));
    added += s.tokens;
    const flag = s.tokens > PER_TOOL_GOAL ? "  OVER GOAL" : "";
    if (flag) failed = true;
    console.log(row(`  ${tool.name}`, s) + flag);
  }
  const total = size(JSON.stringify(listed));
  console.log(row("  total with alerts", total));
  console.log(
    `  the alert tools add ${added} tok; the default list (no alerts) is the one held to ` +
      `${TOTAL_GOAL}`,
  );
} finally {
  await withAlerts.close();
}
if (failed) {
  console.log("\nA token goal was missed.");
  Deno.exitCode = 1;
}
