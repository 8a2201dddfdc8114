/**
 * CLI commands for alerts: `webhooks create|list|get|delete|ping` and `simulate-listing`
 * (sandbox only). `cli.ts` hands the arguments here first; {@linkcode alertsMain} answers null
 * when the command is not one of these.
 *
 * Webhook endpoints carry a secret token, so they are printed masked unless `--show-endpoint`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { RecaptureClient } from "../sdk/client.ts";
import { RECAPTURE_ALERT_EVENTS, type RecaptureAlertEventName } from "../sdk/alert_events.ts";
import type { Region } from "../sdk/schemas.ts";
import { DEFAULT_SANDBOX_PATH, openClient, resolveRegion } from "../config/mod.ts";
import { simulateMarketEvent } from "../sandbox/simulate.ts";
import { table } from "./_format.ts";
import { classify, EXIT, type Io, processIo, readEnv, UsageError } from "./_io.ts";
import { maskEndpoint } from "../_internal/mask_endpoint.ts";

/** The help lines of these commands (appended to the CLI's help). */
export const ALERTS_HELP = `
Alerts (AutoGrab pushes an event when a tracked car is listed, re-priced or delisted):
  webhooks create --name X --endpoint URL [--events recapture_new,recapture_price_change,...]
                                Register an endpoint (put a long random token in its URL)
  webhooks list                 List webhooks (endpoints masked; --show-endpoint to reveal)
  webhooks get <webhook_id>     Show one webhook
  webhooks delete <webhook_id>  Delete a webhook
  webhooks ping <webhook_id>    Send a test ping event to its endpoint
  simulate-listing (--vin V | --rego R [--state S]) --marketplace M --price N
                   [--event listed|price_change|delisted] [--url U] [--seller-type T]
                                (--price is optional only with --event delisted)
                                Sandbox only: pretend the car was listed, and push the alert
`;

const OPTIONS = {
  region: { type: "string" },
  json: { type: "boolean", default: false },
  "sandbox-path": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  name: { type: "string" },
  endpoint: { type: "string" },
  events: { type: "string" },
  "show-endpoint": { type: "boolean", default: false },
  vin: { type: "string" },
  rego: { type: "string" },
  state: { type: "string" },
  marketplace: { type: "string" },
  price: { type: "string" },
  event: { type: "string" },
  url: { type: "string" },
  "seller-type": { type: "string" },
} as const;

const ALLOWED: Record<string, string[]> = {
  "webhooks create": ["name", "endpoint", "events", "show-endpoint"],
  "webhooks list": ["show-endpoint"],
  "webhooks get": ["show-endpoint"],
  "webhooks delete": ["show-endpoint"],
  "webhooks ping": [],
  "simulate-listing": [
    "vin",
    "rego",
    "state",
    "marketplace",
    "price",
    "event",
    "url",
    "seller-type",
  ],
};
/** How long a command waits for the sandbox's pushes to be delivered before it exits. */
const PUSH_WAIT_MS = 3000;

const GLOBAL = new Set(["region", "json", "sandbox-path", "help"]);

/** Whether `args` name an alerts command (its first positional argument). */
function isAlertsCommand(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return false;
    if (a.startsWith("-")) {
      // Global options that take a value skip it.
      if (/^--(region|sandbox-path)$/.test(a)) i++;
      continue;
    }
    return a === "webhooks" || a === "simulate-listing";
  }
  return false;
}

/**
 * Runs an alerts command and answers its exit code, or null when `args` are not an alerts
 * command (the caller runs its own commands then).
 *
 * @example
 * ```ts ignore
 * const code = await alertsMain(["webhooks", "list", "--json"]);
 * ```
 */
export async function alertsMain(args: string[], io: Io = processIo()): Promise<number | null> {
  // `--version` is the CLI's own answer, whatever the command.
  if (!isAlertsCommand(args) || args.includes("--version")) return null;
  let json = args.includes("--json");
  try {
    let parsed;
    try {
      parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
    }
    const { values, positionals } = parsed;
    json = values.json;
    const [command, ...rest] = positionals;
    if (values.help) {
      io.out(ALERTS_HELP.trimStart());
      return EXIT.ok;
    }
    const sub = command === "webhooks" ? rest.shift() : undefined;
    const key = command === "webhooks" ? `webhooks ${sub ?? ""}` : command;
    const allowed = ALLOWED[key];
    if (allowed === undefined) {
      throw new UsageError(
        `webhooks wants create, list, get, delete or ping${
          sub ? `, not ${JSON.stringify(sub)}` : ""
        }`,
      );
    }
    for (const [name, given] of Object.entries(values)) {
      if (given !== false && given !== undefined && !GLOBAL.has(name) && !allowed.includes(name)) {
        throw new UsageError(`--${name} does not apply to ${key}`);
      }
    }
    const wantsId = ["webhooks get", "webhooks delete", "webhooks ping"].includes(key);
    if (rest.length !== (wantsId ? 1 : 0)) {
      throw new UsageError(
        wantsId ? `${key} wants a webhook id` : `${key}: unexpected ${JSON.stringify(rest[0])}`,
      );
    }
    let region: Region;
    try {
      // The same rule as every other command (and it names where a bad value came from).
      region = resolveRegion(values.region, { RECAPTURE_REGION: readEnv("RECAPTURE_REGION") }) ??
        "au";
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const sandboxPath = values["sandbox-path"] ?? readEnv("RECAPTURE_SANDBOX_PATH") ??
      `${Deno.cwd()}/${DEFAULT_SANDBOX_PATH}`;
    const opened = await openClient({ region, path: sandboxPath });
    try {
      if (key === "simulate-listing" && opened.mode !== "sandbox") {
        throw new UsageError(
          "simulate-listing works only against the sandbox (unset RECAPTURE_API_KEY)",
        );
      }
      const code = await run(io, opened.client, key, rest[0], values, json);
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
    } finally {
      await opened.close();
    }
  } catch (error) {
    const { code, kind, message } = classify(error);
    if (json) io.out(JSON.stringify({ error: { code: kind, message, exit_code: code } }) + "\n");
    else io.err(`error: ${message}\n`);
    return code;
  }
}

type Values = { [K in keyof typeof OPTIONS]?: string | boolean };

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
  const str = (name: keyof typeof OPTIONS) => {
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
      if (event !== "listed" && event !== "price_change" && event !== "delisted") {
        throw new UsageError(`--event must be listed, price_change or delisted, got "${event}"`);
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
