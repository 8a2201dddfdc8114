// The registry itself: explicit annotations, the tools/list snapshot, start-up option checks,
// confirmation tokens and masking.
import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import {
  createRecaptureMcpServer,
  RECAPTURE_READ_TOOL_NAMES,
  RECAPTURE_TOOL_NAMES,
  RecaptureMcpConfigError,
} from "../../mcp/mod.ts";
import type { RecaptureMcpServerOptions } from "../../mcp/mod.ts";
import { ALL_TOOLS, DEFAULT_TOOLSETS, TOOLSETS } from "../../mcp/_registry.ts";
import { CUSTOMER_FIELDS } from "../../mcp/tools/_tool.ts";
import { CustomerSchema } from "../../src/sdk/schemas.ts";
import { createConfirmationTokens } from "../../mcp/_confirm.ts";
import { maskMobile, maskName } from "../../mcp/_mask.ts";
import { parseEntryArgs } from "../../mcp/_cli.ts";
import { connect } from "./_fixture.ts";

const ANNOTATIONS = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"];

Deno.test("every registry tool sets all four annotations explicitly", () => {
  for (const tool of ALL_TOOLS) {
    for (const key of ANNOTATIONS) {
      const value = (tool.annotations as unknown as Record<string, unknown>)[key];
      assertEquals(typeof value, "boolean", `${tool.name}.${key} must be set explicitly`);
    }
    assert(/^recapture_[a-z_]+$/.test(tool.name), `${tool.name} is snake_case recapture_*`);
    assert(tool.title.length > 0 && tool.description.length > 0);
    // The code tool is served in read-only mode too, where its scripts may only read (checked
    // per client call); its hints describe a server that lets scripts write.
    if (tool.name !== "recapture_run_script") {
      assertEquals(tool.annotations.readOnlyHint, tool.access === "read", tool.name);
    }
    // Every destructive tool plans its effects, so the one gate can confirm them.
    if (tool.annotations.destructiveHint) assertEquals(tool.confirmation, true, tool.name);
  }
});

Deno.test("every listed tool carries all four annotations on the wire", async () => {
  const h = await connect();
  try {
    const { tools } = await h.client.listTools();
    assertEquals(tools.length, DEFAULT_TOOLSETS.flatMap((set) => TOOLSETS[set] ?? []).length);
    for (const tool of tools) {
      for (const key of ANNOTATIONS) {
        const value = (tool.annotations as Record<string, unknown> | undefined)?.[key];
        assertEquals(typeof value, "boolean", `${tool.name}.${key} is on the wire`);
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("tools/list matches the snapshot (deno test --update-snapshots rewrites it)", async (t) => {
  const h = await connect();
  try {
    await t.assertSnapshot(await h.client.listTools());
  } finally {
    await h.close();
  }
});

Deno.test("the list tool's fields on the wire are the SDK's customer fields", async () => {
  // The one copy: the JSON Schema enum a client sees, derived from the SDK's CustomerSchema.
  const h = await connect();
  try {
    const { tools } = await h.client.listTools();
    const list = tools.find((t) => t.name === "recapture_list_customers");
    const fields = (list?.inputSchema.properties?.fields as { items: { enum: string[] } }).items
      .enum;
    assertEquals(
      [...fields].sort(),
      Object.keys(CustomerSchema.entries).filter((f) => f !== "id").sort(),
    );
    assertEquals([...CUSTOMER_FIELDS], fields);
  } finally {
    await h.close();
  }
});

Deno.test("toolsets: defaults, opt-in alerts, unknown toolsets and tools outside them fail", () => {
  const client = new RecaptureClient({ apiKey: "sec_example_key_000" });
  assertEquals(DEFAULT_TOOLSETS, ["uploads", "customers"]);
  assertThrows(
    () => createRecaptureMcpServer(client, { toolsets: ["uploads", "scripts"] }),
    RecaptureMcpConfigError,
    "unknown toolset: scripts (known: uploads, customers, alerts, code)",
  );
  assertThrows(
    () =>
      createRecaptureMcpServer(client, {
        toolsets: ["uploads"],
        tools: ["recapture_get_customer"],
      }),
    RecaptureMcpConfigError,
    "tool recapture_get_customer is in toolset customers, which is not served",
  );
  createRecaptureMcpServer(client, { toolsets: ["alerts"], tools: ["recapture_list_webhooks"] });
  const env = parseEntryArgs([], { RECAPTURE_MCP_TOOLSETS: "uploads,alerts" });
  assertEquals(env.server.toolsets, ["uploads", "alerts"]);
  const flag = parseEntryArgs(["--toolsets", "customers"], { RECAPTURE_MCP_TOOLSETS: "uploads" });
  assertEquals(flag.server.toolsets, ["customers"], "the flag wins over the environment");
  assertThrows(
    () => parseEntryArgs([], { RECAPTURE_MCP_TOOLSETS: "uploads,nope" }),
    RecaptureMcpConfigError,
    "RECAPTURE_MCP_TOOLSETS: unknown toolset: nope",
  );
});

Deno.test("unknown options, tool names and bad values fail at start-up", () => {
  const client = new RecaptureClient({ apiKey: "sec_example_key_000" });
  const bad: [unknown, RegExp][] = [
    [{ readonly: true }, /unknown option: readonly/],
    [{ tools: ["recapture_list_customer"] }, /unknown tool: recapture_list_customer/],
    [{ tools: [] }, /non-empty/],
    [{ readOnly: true, tools: ["recapture_delete_customer"] }, /read-only/],
    [{ region: "us" }, /unknown region: us/],
    [{ maskPii: { phones: true } }, /unknown maskPii option: phones/],
    [{ maxWaitSeconds: 60 }, /maxWaitSeconds/],
    [{ confirmationSecret: "short" }, /16 bytes/],
    [{ confirm: "token-unverified" }, /needs confirmationSecret/],
    [{ confirm: "agent" }, /confirm must be/],
    [{ mode: "live" }, /mode/],
  ];
  for (const [options, message] of bad) {
    const error = assertThrows(
      () => createRecaptureMcpServer(client, options as RecaptureMcpServerOptions),
      RecaptureMcpConfigError,
    );
    assert(message.test(error.message), `${JSON.stringify(options)}: ${error.message}`);
  }
  // And the good ones build.
  createRecaptureMcpServer(client, {
    readOnly: true,
    tools: ["recapture_get_customer"],
    region: "uk",
    maskPii: { showVehicleIds: true },
  });
  assertEquals(RECAPTURE_TOOL_NAMES.length, 9);
  assertEquals(RECAPTURE_READ_TOOL_NAMES, [
    "recapture_upload_status",
    "recapture_wait_for_upload",
    "recapture_list_customers",
    "recapture_get_customer",
    "recapture_find_customers",
  ]);
});

Deno.test("confirmation tokens bind tool, region, resource, arguments, server and expiry", async () => {
  let now = 1_700_000_000_000;
  const secret = new TextEncoder().encode("a-test-secret-of-32-bytes-length");
  const tokens = await createConfirmationTokens(secret, 300, () => now);
  const subject = {
    tool: "recapture_update_customer",
    region: "au",
    resourceId: "cus_1",
    args: { customer_id: "cus_1", expiry_date: "2026-01-01" },
  };
  const { token, expiresAt } = await tokens.mint(subject);
  assertEquals(expiresAt.getTime(), now + 300_000);
  assertEquals(await tokens.check(token, subject), null);
  // Key order of the arguments does not matter; their values do.
  assertEquals(
    await tokens.check(token, {
      ...subject,
      args: { expiry_date: "2026-01-01", customer_id: "cus_1" },
    }),
    null,
  );
  for (
    const other of [
      { resourceId: "cus_2" },
      { region: "nz" },
      { tool: "recapture_delete_customer" },
      { args: { customer_id: "cus_1", expiry_date: "2000-01-01" } },
    ]
  ) {
    assertEquals(await tokens.check(token, { ...subject, ...other }), "other_call");
  }
  assertEquals(await tokens.check("garbage", subject), "altered");
  // Moving the expiry forward breaks the MAC.
  const parts = token.split(".");
  parts[2] = String(Number(parts[2]) + 3600);
  assertEquals(await tokens.check(parts.join("."), subject), "altered");
  now += 300_000;
  assertEquals(await tokens.check(token, subject), "expired");
  // Another key is another server; the same key in another instance accepts it (restarts).
  const other = await createConfirmationTokens(
    new TextEncoder().encode("another-secret-of-32-bytes-long!"),
    300,
    () => now - 1000,
  );
  assertEquals(await other.check(token, subject), "other_server");
  const twin = await createConfirmationTokens(secret, 300, () => now - 1000);
  assertEquals(await twin.check(token, subject), null);
  assert(!token.includes("a-test-secret"), "the secret is not in the token");
  // Single-use: spent by the first check that passes, refused after; a token for an
  // idempotent call (no singleUse) is not spent.
  const once = (await twin.mint(subject)).token;
  assertEquals(await twin.check(once, subject), null);
  assertEquals(
    await twin.check(once, { ...subject, resourceId: "cus_2" }, { singleUse: true }),
    "other_call",
  );
  assertEquals(await twin.check(once, subject, { singleUse: true }), null);
  assertEquals(await twin.check(once, subject, { singleUse: true }), "used");
  assertNotEquals((await twin.mint(subject)).token, once, "each token has its own nonce");
});

Deno.test("masking keeps the last three digits and each word's initial", () => {
  assertEquals(maskMobile("0412 345 678"), "*******678");
  assertEquals(maskMobile("+61 412 345 678"), "********678");
  assertEquals(maskMobile("12"), "**");
  assertEquals(maskName("Jane Citizen"), "J*** C******");
  assertEquals(maskName("Zoë O'Brien-Smith"), "Z** O************");
  assertNotEquals(maskName("Li"), "Li");
});

Deno.test("entry flags map to server options; unknown flags and bad values are refused", () => {
  const config = parseEntryArgs(
    ["--read-only", "--tools", "recapture_get_customer, recapture_list_customers", "--region", "nz"]
      .concat(["--mask-pii", "--port", "9000", "--allowed-host", "mcp.example"])
      .concat(["--confirm", "token-unverified"]),
    { RECAPTURE_API_KEY: "sec_live_secret_value", RECAPTURE_MCP_CONFIRM_SECRET: "x".repeat(32) },
  );
  assertEquals(config.server.readOnly, true);
  assertEquals(config.server.tools, ["recapture_get_customer", "recapture_list_customers"]);
  assertEquals(config.server.region, "nz");
  assertEquals(config.server.maskPii, true);
  assertEquals(config.server.confirmationSecret, "x".repeat(32));
  assertEquals(config.server.confirm, "token-unverified");
  assertEquals(config.confirmSecretFile, undefined, "the environment's secret is used");
  assertEquals(config.server.secrets, ["sec_live_secret_value", "x".repeat(32)]);
  assertEquals([config.hostname, config.port, config.allowedHosts], [
    "127.0.0.1",
    9000,
    ["mcp.example"],
  ]);
  for (const args of [["--readonly"], ["--region", "eu"], ["--port", "http"], ["extra"]]) {
    assertThrows(() => parseEntryArgs(args, {}), RecaptureMcpConfigError, undefined);
  }
});

Deno.test("RECAPTURE_REGION is the server's default region; --region wins; a bad value is refused by name", () => {
  assertEquals(parseEntryArgs([], { RECAPTURE_REGION: "UK" }).server.region, "uk");
  assertEquals(parseEntryArgs(["--region", "nz"], { RECAPTURE_REGION: "uk" }).server.region, "nz");
  assertEquals(parseEntryArgs([], {}).server.region, undefined);
  assertThrows(
    () => parseEntryArgs([], { RECAPTURE_REGION: "eu" }),
    RecaptureMcpConfigError,
    'RECAPTURE_REGION must be one of au, nz, uk, my, got "eu"',
  );
});
