// The command line's one command table: every command, its arguments and the flags it takes,
// every flag with its help. The help text, the argument parser's options and the check that a
// flag applies to a command are all made from it. Private to src/cli/mod.ts.

import { parseArgs } from "node:util";
import { type CustomerUpdateParams, REGIONS } from "../sdk/mod.ts";
import { TARGETS } from "../import/columns.ts";
import { MARKET_EVENTS } from "../sandbox/simulate.ts";
import { DEFAULT_SANDBOX_PATH, SANDBOX_PATH_ENV } from "../config/mod.ts";
import { positiveInt, UsageError } from "./_io.ts";

/** A flag of the command line. */
export interface FlagSpec {
  /** `"string"` takes a value; `"boolean"` is a switch. */
  type: "string" | "boolean";
  /** The value's placeholder in the help (`FILE`, `N`, the regions joined by `|`). */
  value?: string;
  /** A one-letter alias. */
  short?: string;
  /** Whether the flag may be repeated. */
  multiple?: boolean;
  /** What it does, for the help. */
  help: string;
}

/**
 * The whole-number flags, each with its default and its largest value: the help says them and
 * {@linkcode numberFlag} applies them. `--limit`'s largest is the API's largest page (the SDK
 * refuses more; tests/facts_test.ts holds the two together).
 */
export const NUMBER_FLAGS = {
  // Bounds keep memory within budget: about batch size x (concurrency + 1) rows are held.
  "batch-size": { default: 5000, max: 20_000 },
  concurrency: { default: 2, max: 8 },
  "poll-ms": { default: 1000, max: 3_600_000 }, // an hour
  limit: { default: 20, max: 1000 },
} as const;

/** A flag of {@linkcode NUMBER_FLAGS}. */
export type NumberFlag = keyof typeof NUMBER_FLAGS;

/**
 * A whole-number flag's value, from 1 to its largest, or its default when it is not given.
 * Throws a {@linkcode UsageError} naming the flag and its bounds.
 */
export function numberFlag(name: NumberFlag, value: string | undefined): number {
  const { default: fallback, max } = NUMBER_FLAGS[name];
  return positiveInt(value, `--${name}`, fallback, max);
}

/** Every flag, in the help's order. */
export const FLAGS = {
  region: {
    type: "string",
    value: REGIONS.join("|"),
    help: "Region (default: RECAPTURE_REGION, else au)",
  },
  json: { type: "boolean", help: "One JSON document on stdout, for scripts" },
  "sandbox-path": {
    type: "string",
    value: "FILE",
    help:
      `The local sandbox's KV file (default: ${SANDBOX_PATH_ENV}, else ${DEFAULT_SANDBOX_PATH})`,
  },
  help: { type: "boolean", short: "h", help: "This text" },
  version: { type: "boolean", help: "The version" },
  name: {
    type: "string",
    value: "NAME",
    help: 'upload: its name (default: the file name; uploads are "NAME (part N)"); customers ' +
      "update: the client's name; webhooks create: the webhook's name",
  },
  format: {
    type: "string",
    value: "csv|ndjson",
    help: "Default from the extension (.ndjson, .jsonl), else csv",
  },
  delimiter: { type: "string", value: ", ; tab |", help: "Default: detected" },
  encoding: {
    type: "string",
    value: "LABEL",
    help: "e.g. windows-1252 (default utf-8; UTF-16 with a BOM is detected)",
  },
  "date-order": {
    type: "string",
    value: "dmy|mdy",
    help: "How to read 01/02/2024 (default dmy: 1 February)",
  },
  map: {
    type: "string",
    value: '"Header=field"',
    multiple: true,
    help: `Map a column (repeatable); fields: ${[...TARGETS].join(" ")}`,
  },
  "strict-columns": {
    type: "boolean",
    help: "Refuse a file with a column no rule maps (default: such columns are kept in " +
      "additional_fields; the column report lists them)",
  },
  "skip-malformed": {
    type: "boolean",
    help: "Report a ragged line (or an NDJSON line that is not an object) as a bad row with " +
      "its line, and go on (default: refuse the file)",
  },
  "allow-past-expiry": {
    type: "boolean",
    help: "Send rows whose expiry date is today or earlier (default: bad rows, since the API " +
      "deletes such a customer at once)",
  },
  "bad-rows": { type: "string", value: "FILE", help: "Write every bad row to FILE as NDJSON" },
  "batch-size": {
    type: "string",
    value: "N",
    help: `Customers per upload (default ${NUMBER_FLAGS["batch-size"].default})`,
  },
  concurrency: {
    type: "string",
    value: "N",
    help: `Uploads in flight (default ${NUMBER_FLAGS.concurrency.default})`,
  },
  "rego-lookups": { type: "boolean", help: "Look up VINs from regos (extra cost)" },
  "no-wait": {
    type: "boolean",
    help: "Stop once everything is sent, without waiting for processing",
  },
  "poll-ms": {
    type: "string",
    value: "N",
    help: `The longest pause between progress polls, in ms (default ${
      NUMBER_FLAGS["poll-ms"].default
    }); polls come sooner when processing is about to end`,
  },
  manifest: {
    type: "string",
    value: "FILE",
    help: "Where the resumable manifest goes (default <file>.recapture.json)",
  },
  resend: {
    type: "boolean",
    help: "Send rows already sent to this account and region before",
  },
  "skip-sent": {
    type: "boolean",
    help: "Leave out rows already sent before (each with a warning); by default, rows sent " +
      "before (the local record in .recapture/sent/) stop the upload before anything is sent",
  },
  "check-account": {
    type: "boolean",
    help: "Compare with the account's customers (every page: costs requests) instead of the " +
      "local record",
  },
  resume: { type: "boolean", help: "Continue an interrupted upload from its manifest" },
  restart: {
    type: "boolean",
    help: "Upload the whole file again despite an earlier manifest",
  },
  "resend-unconfirmed": {
    type: "boolean",
    help: "With --resume: send again the rows of uploads that were in flight when the earlier " +
      "run was killed and cannot be found in the account (they may be stored twice)",
  },
  wait: { type: "boolean", help: "status: follow the upload or the file until done" },
  "upload-id": { type: "string", value: "ID", help: "Only this upload's customers" },
  limit: {
    type: "string",
    value: "N",
    help:
      `Customers per page (default ${NUMBER_FLAGS.limit.default}, at most ${NUMBER_FLAGS.limit.max})`,
  },
  offset: { type: "string", value: "N", help: "Customers to skip" },
  all: { type: "boolean", help: "Every page, streamed" },
  mobile: { type: "string", value: "X", help: 'The mobile number ("" clears it)' },
  "sale-date": { type: "string", value: "D", help: 'The sale date ("" clears it)' },
  "expiry-date": { type: "string", value: "D", help: 'The expiry date ("" clears it)' },
  endpoint: {
    type: "string",
    value: "URL",
    help: "Where the alerts go (put a long random token in its URL)",
  },
  events: {
    type: "string",
    value: "a,b",
    help: "recapture_new, recapture_price_change, ... (default: every event)",
  },
  "show-endpoint": {
    type: "boolean",
    help: "Print endpoints in full (they carry a secret token: masked by default)",
  },
  vin: { type: "string", value: "V", help: "The car's VIN" },
  rego: { type: "string", value: "R", help: "The car's rego" },
  state: { type: "string", value: "S", help: "The rego's state" },
  marketplace: { type: "string", value: "M", help: "Where it is listed" },
  price: {
    type: "string",
    value: "N",
    help: "The asking price (optional only with --event delisted)",
  },
  event: {
    type: "string",
    value: MARKET_EVENTS.join("|"),
    help: "What happened (default listed)",
  },
  url: { type: "string", value: "U", help: "The listing's URL" },
  "seller-type": { type: "string", value: "T", help: "Who sells it" },
} as const satisfies Record<string, FlagSpec>;

/** A flag's name (without `--`). */
export type FlagName = keyof typeof FLAGS;

/**
 * The flag that sets each field `customers update` changes: every field of the SDK's update,
 * and no other (`satisfies` refuses a missing or an extra one).
 */
export const UPDATE_FLAGS = {
  client_name: "name",
  mobile_number: "mobile",
  sale_date: "sale-date",
  expiry_date: "expiry-date",
} as const satisfies Record<keyof CustomerUpdateParams, FlagName>;

/** The flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagName[] = [
  "region",
  "json",
  "sandbox-path",
  "help",
  "version",
];

/** A command of the command line. */
export interface CommandSpec {
  /** Its words (`"customers list"`). */
  name: string;
  /** Its argument, if any (`"<file>"`), as the help shows it. */
  argument?: string;
  /** What the usage error says when the argument is missing (`"a file: upload <file>"`). */
  wants?: string;
  /** What it does, for the help. */
  help: string;
  /** The flags it takes beyond {@linkcode GLOBAL_FLAGS}, in the help's order. */
  flags: readonly FlagName[];
  /** The alerts commands' part of the help. */
  alerts?: true;
}

const FILE_FLAGS = [
  "format",
  "delimiter",
  "encoding",
  "date-order",
  "map",
  "strict-columns",
  "skip-malformed",
  "allow-past-expiry",
  "bad-rows",
] as const satisfies readonly FlagName[];

/** Every command, in the help's order. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "upload",
    argument: "<file>",
    wants: "a file: upload <file>",
    help: "Upload a CSV or NDJSON file in batches, with a live progress bar, until the API has " +
      "processed every row",
    flags: [
      "name",
      ...FILE_FLAGS,
      "batch-size",
      "concurrency",
      "rego-lookups",
      "no-wait",
      "poll-ms",
      "manifest",
      "resend",
      "skip-sent",
      "check-account",
      "resume",
      "restart",
      "resend-unconfirmed",
    ],
  },
  {
    name: "validate",
    argument: "<file>",
    wants: "a file: validate <file>",
    help: "Check every row and report the bad ones; nothing is sent",
    flags: FILE_FLAGS,
  },
  {
    name: "status",
    argument: "<upload_id|job_id>",
    wants: "an upload id, a job id or a manifest file (<file>.recapture.json)",
    help: "Show an upload's progress, or a whole file's (its job id, or its manifest file)",
    flags: ["wait", "poll-ms"],
  },
  {
    name: "cancel",
    argument: "<upload_id|job_id>",
    wants: "an upload id, a job id or a manifest file (<file>.recapture.json)",
    help: "Cancel an upload, or every upload of a file (customers already created stay); says " +
      "whether anything was really cancelled",
    flags: [],
  },
  {
    name: "customers list",
    help: "List customers",
    flags: ["upload-id", "limit", "offset", "all"],
  },
  {
    name: "customers get",
    argument: "<customer_id>",
    wants: "a customer id",
    help: "Show one customer",
    flags: [],
  },
  {
    name: "customers update",
    argument: "<customer_id>",
    wants: "a customer id",
    help: 'Change those fields ("" clears one)',
    flags: [...Object.values(UPDATE_FLAGS), "allow-past-expiry"],
  },
  {
    name: "customers delete",
    argument: "<customer_id>",
    wants: "a customer id",
    help: "Delete one customer",
    flags: [],
  },
  {
    name: "webhooks create",
    help: "Register an endpoint (--name and --endpoint are required)",
    flags: ["name", "endpoint", "events", "show-endpoint"],
    alerts: true,
  },
  {
    name: "webhooks list",
    help: "List webhooks (endpoints masked; --show-endpoint to reveal)",
    flags: ["show-endpoint"],
    alerts: true,
  },
  {
    name: "webhooks get",
    argument: "<webhook_id>",
    wants: "a webhook id",
    help: "Show one webhook",
    flags: ["show-endpoint"],
    alerts: true,
  },
  {
    name: "webhooks delete",
    argument: "<webhook_id>",
    wants: "a webhook id",
    help: "Delete a webhook",
    flags: ["show-endpoint"],
    alerts: true,
  },
  {
    name: "webhooks ping",
    argument: "<webhook_id>",
    wants: "a webhook id",
    help: "Send a test ping event to its endpoint",
    flags: [],
    alerts: true,
  },
  {
    name: "simulate-listing",
    help: "Sandbox only: pretend the car was listed (--vin or --rego, and --marketplace), and " +
      "push the alert",
    flags: ["vin", "rego", "state", "marketplace", "price", "event", "url", "seller-type"],
    alerts: true,
  },
];

/** The parsed flags: a string, strings (repeatable flags), or a switch. */
export type Values = {
  [K in FlagName]?: (typeof FLAGS)[K] extends { multiple: true } ? string[]
    : (typeof FLAGS)[K]["type"] extends "string" ? string
    : boolean;
};

/** A command line read against the table. */
export interface Parsed {
  /** The command, or undefined for none (`help`, `--help`, `--version`, nothing). */
  command: CommandSpec | undefined;
  /** The flags given. */
  values: Values;
  /** The arguments after the command's words. */
  rest: string[];
  /** Whether help was asked for (`help`, `--help`, `-h`). */
  helpWanted: boolean;
}

/**
 * Reads `args` against the table: unknown flags, unknown commands and flags that do not apply
 * to the command are {@linkcode UsageError}s. The number of arguments is checked by
 * {@linkcode wantArguments} (after `--help` and `--version` are answered).
 */
export function parseCommandLine(args: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: FLAGS as Record<FlagName, FlagSpec>,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
  }
  const values = parsed.values as Values;
  const [first, ...rest] = parsed.positionals;
  const helpWanted = first === "help" || values.help === true;
  if (first === undefined || helpWanted || values.version) {
    return { command: undefined, values, rest, helpWanted };
  }
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  let command: CommandSpec | undefined;
  if (group.length > 0) {
    const sub = rest.shift();
    command = group.find((c) => c.name === `${first} ${sub}`);
    if (command === undefined) {
      const subs = group.map((c) => c.name.slice(first.length + 1));
      throw new UsageError(
        `${first} wants ${subs.slice(0, -1).join(", ")} or ${subs.at(-1)}${
          sub ? `, not ${JSON.stringify(sub)}` : ""
        }`,
      );
    }
  } else {
    command = COMMANDS.find((c) => c.name === first);
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  }
  for (const [name, given] of Object.entries(values)) {
    if (given === false || given === undefined) continue;
    const flag = name as FlagName;
    if (!GLOBAL_FLAGS.includes(flag) && !command.flags.includes(flag)) {
      throw new UsageError(`--${name} does not apply to ${command.name}`);
    }
  }
  return { command, values, rest, helpWanted };
}

/** Checks that the command got exactly its argument (or none). */
export function wantArguments(command: CommandSpec, rest: readonly string[]): void {
  const n = command.argument === undefined ? 0 : 1;
  if (rest.length < n) throw new UsageError(`${command.name} wants ${command.wants}`);
  if (rest.length > n) {
    throw new UsageError(`${command.name}: unexpected ${JSON.stringify(rest[n])}`);
  }
}

/** `--flag VALUE`, as the help shows a flag. */
export function flagUsage(name: FlagName): string {
  const spec: FlagSpec = FLAGS[name];
  return `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
}

const COLUMN = 32;
const WIDTH = 96;

/** `left` in a column, `text` wrapped beside it. */
function entry(left: string, text: string): string {
  const words = text.split(" ");
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && COLUMN + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  const head = `  ${left}`;
  const pad = " ".repeat(COLUMN);
  const first = head.length < COLUMN - 1
    ? head.padEnd(COLUMN) + lines[0]
    : `${head}\n${pad}${lines[0]}`;
  return [first, ...lines.slice(1).map((l) => pad + l)].join("\n") + "\n";
}

/**
 * The help text, made from the table: the commands (each with its flags), then every flag.
 * `intro` and `outro` are the text around it (what the CLI is; environment and exit codes).
 */
export function helpText(intro: string, outro: string): string {
  const section = (alerts: boolean) =>
    COMMANDS.filter((c) => (c.alerts ?? false) === alerts).map((c) => {
      const flags = c.flags.length > 0 ? ` [${c.flags.map((f) => `--${f}`).join(" ")}]` : "";
      return entry(`${c.name}${c.argument ? ` ${c.argument}` : ""}`, c.help + flags);
    }).join("");
  const options = (Object.keys(FLAGS) as FlagName[]).map((f) => entry(flagUsage(f), FLAGS[f].help))
    .join("");
  return `${intro}\nCommands:\n${section(false)}\nAlerts (AutoGrab pushes an event when a ` +
    `tracked car is listed, re-priced or delisted):\n${section(true)}\nOptions (the first ` +
    `${GLOBAL_FLAGS.length} apply to every command):\n${options}\n${outro}`;
}
