// The alert commands of the command line, end to end: `deno run src/cli/mod.ts` as a subprocess on a
// sandbox KV file in a temp directory, pushing to a receiver served on 127.0.0.1 by this test.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { parseAlertEvent } from "../../mod.ts";
import { runCli } from "./_run.ts";

const cli = (dir: string, ...args: string[]) => runCli(dir, args);

Deno.test("cli: webhooks create/list/ping/delete and simulate-listing push to the endpoint", async () => {
  const dir = await Deno.makeTempDir();
  const received: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    received.push(await r.text());
    return new Response("ok");
  });
  const token = "tok_cli_5f0c2d9e8b7a6f5e4d3c";
  const endpoint = `http://127.0.0.1:${server.addr.port}/alerts/${token}`;
  try {
    await Deno.writeTextFile(`${dir}/c.csv`, "rego,state,client_name\nCLI123,NSW,Jo Citizen\n");
    assertEquals((await cli(dir, "upload", "c.csv", "--json")).code, 0);

    const created = await cli(
      dir,
      "webhooks",
      "create",
      "--name",
      "crm",
      "--endpoint",
      endpoint,
      "--json",
    );
    assertEquals(created.code, 0, created.stderr);
    const hook = JSON.parse(created.stdout);
    assert(!created.stdout.includes(token), "the token is masked");
    const shown = await cli(dir, "webhooks", "get", hook.id, "--show-endpoint", "--json");
    assertEquals(JSON.parse(shown.stdout).endpoint, endpoint);

    const listed = await cli(dir, "webhooks", "list");
    assertStringIncludes(listed.stdout, hook.id);
    assert(!listed.stdout.includes(token));

    const sim = await cli(
      dir,
      "simulate-listing",
      "--rego",
      "cli 123",
      "--state",
      "NSW",
      "--marketplace",
      "carsales",
      "--price",
      "19990",
      "--json",
    );
    assertEquals(sim.code, 0, sim.stderr);
    const result = JSON.parse(sim.stdout);
    assertEquals(result.matched, 1);
    const ping = await cli(dir, "webhooks", "ping", hook.id, "--json");
    assertEquals(ping.code, 0, ping.stderr);
    const events = received.map((b) => parseAlertEvent(b));
    assertEquals(events.map((e) => e.event), ["recapture_new", "ping"]);
    assertEquals(events[0].id, result.alerts[0].id);

    const deleted = await cli(dir, "webhooks", "delete", hook.id);
    assertEquals(deleted.code, 0);
    const again = await cli(dir, "webhooks", "ping", hook.id);
    assertEquals(again.code, 5);
    assertStringIncludes(again.stderr, "Invalid Webhook ID");

    const bad = await cli(
      dir,
      "webhooks",
      "create",
      "--name",
      "x",
      "--endpoint",
      endpoint,
      "--events",
      "sold",
    );
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.stderr, "--events");
    const noCar = await cli(dir, "simulate-listing", "--marketplace", "x");
    assertEquals(noCar.code, 2);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
