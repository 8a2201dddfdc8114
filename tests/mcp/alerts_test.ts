// The opt-in alert tools: off by default, annotated, endpoints masked, two-step delete, the
// sandbox-only simulate tool, and pushes arriving at the registered endpoint.
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import {
  createRecaptureMcpServer,
  RECAPTURE_ALERT_TOOL_NAMES,
  RecaptureMcpConfigError,
} from "../../mcp/mod.ts";
import { connect, dataOf, textOf, uploadAndWait } from "./_fixture.ts";

const ENDPOINT = "https://edge.example.com/alerts/tok_9f8e7d6c5b4a39281706?x=topsecretvalue";

Deno.test("alert tools are off by default and opt-in with alerts: true", async () => {
  const plain = await connect();
  try {
    const names = (await plain.client.listTools()).tools.map((t) => t.name);
    assertEquals(names.filter((n) => RECAPTURE_ALERT_TOOL_NAMES.includes(n)), []);
  } finally {
    await plain.close();
  }
  const api = await connect({ server: { alerts: true } });
  try {
    const tools = (await api.client.listTools()).tools;
    const alertTools = tools.filter((t) => RECAPTURE_ALERT_TOOL_NAMES.includes(t.name));
    assertEquals(alertTools.map((t) => t.name), [
      "recapture_create_webhook",
      "recapture_list_webhooks",
      "recapture_delete_webhook",
      "recapture_ping_webhook",
    ]);
    for (const t of alertTools) {
      const a = t.annotations!;
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]) {
        assertEquals(typeof (a as Record<string, unknown>)[hint], "boolean", `${t.name} ${hint}`);
      }
    }
    assertEquals(
      tools.find((t) => t.name === "recapture_delete_webhook")!.annotations!
        .destructiveHint,
      true,
    );
  } finally {
    await api.close();
  }
  const client = new RecaptureClient({ apiKey: "sec_x" });
  assertThrows(
    () => createRecaptureMcpServer(client, { tools: ["recapture_create_webhook"] }),
    RecaptureMcpConfigError,
    "toolset alerts",
  );
  assertThrows(
    () => createRecaptureMcpServer(client, { alerts: true, tools: ["recapture_simulate_listing"] }),
    RecaptureMcpConfigError,
    'mode: "sandbox"',
  );
  const ro = createRecaptureMcpServer(client, {
    alerts: true,
    readOnly: true,
    tools: ["recapture_list_webhooks"],
  });
  await ro.close();
});

Deno.test("alert tools: create, list (masked), ping, simulate, two-step delete", async () => {
  const pushed: string[] = [];
  const h = await connect({
    server: {
      alerts: true,
      mode: "sandbox",
      confirm: "token-unverified",
      confirmationSecret: "w".repeat(32),
    },
    sandbox: {
      pushFetch: async (r) => {
        pushed.push((await r.json()).event);
        return new Response("ok");
      },
    },
  });
  try {
    await uploadAndWait(h, 2);
    // Creating one sends customer data to a third party: confirmed first, naming the host.
    const asked = textOf(
      await h.call("recapture_create_webhook", { name: "edge", endpoint: ENDPOINT }),
    );
    assertMatch(
      asked,
      /^confirmation_required: This call sends customer data to a third party: .* to edge\.example\.com,/,
    );
    assert(!asked.includes("tok_9f8e7d6c5b4a39281706"), "the host only, not the URL's token");
    assertEquals((await h.sdk.webhooks.list()).webhooks.length, 0, "nothing registered yet");
    const token = /confirmation_token "([^"]+)"/.exec(asked)?.[1];
    const created = dataOf(
      await h.call("recapture_create_webhook", {
        name: "edge",
        endpoint: ENDPOINT,
        confirmation_token: token,
      }),
    );
    const webhook = created.webhook as { id: string; endpoint: string };
    assert(!JSON.stringify(created).includes("topsecretvalue"), "query secret masked");
    assert(!JSON.stringify(created).includes("tok_9f8e7d6c5b4a39281706"), "path token masked");
    assertEquals(webhook.endpoint, "https://edge.example.com/alerts/tok_…?x=…");

    const listed = await h.call("recapture_list_webhooks", {});
    assert(!textOf(listed).includes("topsecretvalue"));
    assertEquals((dataOf(listed).webhooks as unknown[]).length, 1);

    const ping = dataOf(await h.call("recapture_ping_webhook", { webhook_id: webhook.id }));
    assert(typeof ping.event_id === "string");

    const sim = dataOf(
      await h.call("recapture_simulate_listing", {
        rego: "TST000",
        state: "NSW",
        marketplace: "carsales",
        price: 19_990,
      }),
    );
    assertEquals(sim.matched, 1);
    assertEquals(sim.event, "recapture_new");
    await h.sandbox.pushesIdle();
    assertEquals(pushed.sort(), ["ping", "recapture_new"]);

    const none = await h.call("recapture_simulate_listing", { marketplace: "carsales", price: 1 });
    assert(none.isError);
    assertStringIncludes(textOf(none), "invalid_arguments");

    const preview = textOf(await h.call("recapture_delete_webhook", { webhook_id: webhook.id }));
    assertStringIncludes(preview, "confirmation_required: ");
    assertEquals((dataOf(await h.call("recapture_list_webhooks", {})).webhooks as []).length, 1);
    const done = dataOf(
      await h.call("recapture_delete_webhook", {
        webhook_id: webhook.id,
        confirmation_token: /confirmation_token "([^"]+)"/.exec(preview)?.[1],
      }),
    );
    assertEquals(done.action, "deleted");
    assertEquals((dataOf(await h.call("recapture_list_webhooks", {})).webhooks as []).length, 0);

    const missing = await h.call("recapture_ping_webhook", { webhook_id: webhook.id });
    assert(missing.isError);
    assertStringIncludes(textOf(missing), "invalid_webhook_id");
  } finally {
    await h.close();
  }
});

Deno.test("code mode: a script reads webhook endpoints masked, as the alert tools show them", async () => {
  const h = await connect({ server: { toolsets: ["uploads", "customers", "code"] } });
  try {
    const created = await h.sdk.webhooks.create({
      name: "edge",
      endpoint: ENDPOINT,
      events: ["recapture_new"],
    });
    const scripts = [
      "return await client.webhooks.list();",
      `return await client.webhooks.retrieve(${JSON.stringify(created.id)});`,
      "console.log(JSON.stringify(await client.webhooks.list())); throw new Error('stop');",
    ];
    for (const script of scripts) {
      const result = await h.call("recapture_run_script", { script });
      const everything = JSON.stringify(result);
      for (const secret of ["tok_9f8e7d6c5b4a39281706", "topsecretvalue"]) {
        assert(!everything.includes(secret), `${script}: ${everything}`);
      }
      assertStringIncludes(everything, "https://edge.example.com/alerts/tok_…?x=…", script);
    }
  } finally {
    await h.close();
  }
});
