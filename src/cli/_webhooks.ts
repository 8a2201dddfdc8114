/**
 * CLI commands for alerts: `webhooks create|list|get|delete|ping` and `simulate-listing`
 * (sandbox only), run by src/cli/mod.ts once the command table has checked the arguments.
 *
 * Webhook endpoints carry a secret token, so they are printed masked unless `--show-endpoint`.
 *
 * @module
 */
import type { RecaptureClient } from "../sdk/client.ts";
import { RECAPTURE_ALERT_EVENTS, type RecaptureAlertEventName } from "../sdk/alert_events.ts";
import type { OpenedClient } from "../config/mod.ts";
import { isMarketEvent, MARKET_EVENTS, simulateMarketEvent } from "../sandbox/simulate.ts";
import { table } from "./_format.ts";
import { EXIT, type Io, UsageError } from "./_io.ts";
import type { FlagName, Values } from "./_commands.ts";
import { maskEndpoint } from "../_internal/mask_endpoint.ts";

/** How long a command waits for the sandbox's pushes to be delivered before it exits. */
const PUSH_WAIT_MS = 3000;

/**
 * Runs an alerts command (its flags and argument already checked against the command table)
 * and answers its exit code. On the sandbox, it gives the pushes a moment to go out first.
 */
export async function alertsCommand(
  io: Io,
  opened: OpenedClient,
  key: string,
  id: string | undefined,
  values: Values,
  json: boolean,
): Promise<number> {
  if (key === "simulate-listing" && opened.mode !== "sandbox") {
    throw new UsageError(
      "simulate-listing works only against the sandbox (unset RECAPTURE_API_KEY)",
    );
  }
  const code = await run(io, opened.client, key, id, values, json);
  // Give the in-process sandbox a moment to deliver its pushes before it closes; the rest
  // stay queued in its KV file and go out the next time the sandbox runs.
  if (opened.sandbox) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = await Promise.race([
      opened.sandbox.pushesIdle().then(() => true),
      new Promise<boolean>((ok) => timer = setTimeout(() => ok(false), PUSH_WAIT_MS)),
    ]);
    clearTimeout(timer);
    if (!waited && !json) {
      io.err(
        "note: some pushes are still waiting for their endpoint; they stay queued in the " +
          "sandbox's KV file and are retried the next time the sandbox runs\n",
      );
    }
  }
  return code;
}

async function run(
  io: Io,
  client: RecaptureClient,
  key: string,
  id: string | undefined,
  values: Values,
  json: boolean,
): Promise<number> {
  const show = values["show-endpoint"] === true;
  const shown = <T extends { endpoint?: string | null }>(w: T): T => ({
    ...w,
    endpoint: w.endpoint && !show ? maskEndpoint(w.endpoint) : w.endpoint,
  });
  const print = (value: unknown, human: string) =>
    io.out(json ? JSON.stringify(value) + "\n" : human);
  const row = (
    w: { id: string; name?: string | null; endpoint?: string | null; events?: string[] | null },
  ) => [
    w.id,
    w.name ?? "",
    (w.events ?? []).join(","),
    w.endpoint ?? "",
  ];
  const str = (name: FlagName): string | undefined => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  switch (key) {
    case "webhooks create": {
      const name = str("name");
      const endpoint = str("endpoint");
      if (!name || !endpoint) throw new UsageError("webhooks create wants --name and --endpoint");
      const events = str("events")?.split(",").map((e) => e.trim()).filter((e) => e !== "");
      for (const e of events ?? []) {
        if (!(RECAPTURE_ALERT_EVENTS as readonly string[]).includes(e)) {
          throw new UsageError(
            `--events: ${JSON.stringify(e)} is not one of ${RECAPTURE_ALERT_EVENTS.join(", ")}`,
          );
        }
      }
      const w = shown(
        await client.webhooks.create({
          name,
          endpoint,
          ...(events ? { events: events as RecaptureAlertEventName[] } : {}),
        }),
      );
      print({ ...w }, `Created webhook ${w.id} → ${w.endpoint} (${(w.events ?? []).join(", ")})\n`);
      return EXIT.ok;
    }
    case "webhooks list": {
      const list = (await client.webhooks.list()).webhooks.map(shown);
      print(
        { webhooks: list },
        table([["ID", "NAME", "EVENTS", "ENDPOINT"], ...list.map(row)], 70) +
          `\n${list.length} webhook(s)\n`,
      );
      return EXIT.ok;
    }
    case "webhooks get": {
      const w = shown(await client.webhooks.retrieve(id!));
      print({ ...w }, table([["ID", "NAME", "EVENTS", "ENDPOINT"], row(w)], 70) + "\n");
      return EXIT.ok;
    }
    case "webhooks delete": {
      const w = shown(await client.webhooks.delete(id!));
      print({ ...w }, `Deleted webhook ${w.id}\n`);
      return EXIT.ok;
    }
    case "webhooks ping": {
      const ping = await client.webhooks.ping(id!);
      print(
        { ...ping },
        `Ping ${ping.event ? `${ping.event.id} ` : ""}queued for webhook ${id}\n`,
      );
      return EXIT.ok;
    }
    case "simulate-listing": {
      const marketplace = str("marketplace");
      if (!marketplace) throw new UsageError("simulate-listing wants --marketplace");
      if (!str("vin") && !str("rego")) {
        throw new UsageError("simulate-listing wants --vin or --rego");
      }
      const event = str("event") ?? "listed";
      if (!isMarketEvent(event)) {
        const last = MARKET_EVENTS.length - 1;
        throw new UsageError(
          `--event must be ${MARKET_EVENTS.slice(0, last).join(", ")} or ${MARKET_EVENTS[last]}, ` +
            `got "${event}"`,
        );
      }
      let price: number | undefined;
      const rawPrice = str("price");
      if (rawPrice !== undefined) {
        price = Number(rawPrice);
        if (!Number.isFinite(price) || price < 0) {
          throw new UsageError(`--price must be a number ≥ 0, got ${JSON.stringify(rawPrice)}`);
        }
      }
      const optional = (k: "vin" | "rego" | "state" | "url") => {
        const v = str(k);
        return v === undefined ? {} : { [k]: v };
      };
      const result = await simulateMarketEvent(client, {
        event,
        marketplace,
        ...(price !== undefined ? { price } : {}),
        ...(str("seller-type") ? { seller_type: str("seller-type") } : {}),
        ...optional("vin"),
        ...optional("rego"),
        ...optional("state"),
        ...optional("url"),
      });
      print(
        result,
        `${result.matched} tracked customer(s) matched; ${result.event} ` +
          (result.alerts.length > 0
            ? `pushed: ${
              result.alerts.map((a) =>
                `${a.id} (customer ${a.customer_id}, ${a.webhooks} webhook(s))`
              )
                .join(", ")
            }\n`
            : "not pushed (no match)\n"),
      );
      return EXIT.ok;
    }
  }
  throw new UsageError(`unknown command ${JSON.stringify(key)}`);
}
