/**
 * The `recapture` command line: upload long customer lists with a live progress bar, check files
 * without sending them, follow and cancel uploads, and manage customers.
 *
 * ```sh
 * deno task recapture upload customers.csv
 * deno task recapture validate customers.csv --json
 * deno task recapture status upl_123
 * deno task recapture customers list --upload-id upl_123
 * ```
 *
 * Without `RECAPTURE_API_KEY` it works on the local sandbox (`.recapture/sandbox.kv`, or
 * `RECAPTURE_SANDBOX_PATH`), the data `deno task sandbox` serves. Exit codes: 0 done, 1
 * unexpected error, 2 wrong arguments, 3 file missing or unreadable as CSV/NDJSON, 4 done but
 * some rows were bad (or failed processing), 5 the API refused the request, 6 the API could not
 * be reached or failed, 130 interrupted (the manifest to resume from is saved).
 *
 * @example
 * ```ts ignore
 * import { main } from "@recapture/sdk/cli";
 *
 * const code = await main(["validate", "customers.csv", "--json"]);
 * console.log(code); // 0 when every row is valid, 4 when some are not
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import type { RecaptureClient } from "../sdk/client.ts";
import { parseDate } from "../import/dates.ts";
import type { Customer, CustomerUpdateParams, Region, Upload } from "../sdk/schemas.ts";
import { DEFAULT_SANDBOX_PATH, openClient, resolveRegion } from "../config/mod.ts";
import { num, table } from "./_format.ts";
import {
  classify,
  EXIT,
  type Io,
  POLL_MS_MAX,
  positiveInt,
  processIo,
  readEnv,
  UsageError,
} from "./_io.ts";
import { uploadCommand, validateCommand } from "./_upload.ts";
import { isJobRef, jobCommand } from "./_jobs.ts";
import { sha256Hex } from "../_internal/hex.ts";
import { ALERTS_HELP, alertsMain } from "./_webhooks.ts";
import { VERSION } from "../sdk/version.ts";

const HELP = `recapture: upload and manage AutoGrab Customer Recapture lists

Usage: deno task recapture <command> [options]

Commands:
  upload <file>                 Upload a CSV or NDJSON file in batches, with a live progress
                                bar, until the API has processed every row
  validate <file>               Check every row and report the bad ones; nothing is sent
  status <upload_id|job_id>     Show an upload's progress, or a whole file's (its job id, or
                                its manifest file): --wait follows it until done
  cancel <upload_id|job_id>     Cancel an upload, or every upload of a file (customers already
                                created stay); says whether anything was really cancelled
  customers list                List customers (--upload-id ID, --limit N, --offset N, --all)
  customers get <customer_id>   Show one customer
  customers update <customer_id> [--name X] [--mobile X] [--sale-date D] [--expiry-date D]
                                Change those fields ("" clears one)
  customers delete <customer_id>
  webhooks, simulate-listing    Alerts: see below
  help                          This text

Options:
  --region au|nz|uk|my          Region (default: RECAPTURE_REGION, else au)
  --json                        One JSON document on stdout, for scripts
  --sandbox-path FILE           The local sandbox's KV file (default: RECAPTURE_SANDBOX_PATH,
                                else .recapture/sandbox.kv)
  -h, --help                    Help;  --version: the version

Upload and validate:
  --name NAME                   Upload name (default: the file name); uploads are "NAME (part N)"
  --format csv|ndjson           Default from the extension (.ndjson, .jsonl), else csv
  --delimiter , ; tab |         Default: detected
  --encoding LABEL              e.g. windows-1252 (default utf-8; UTF-16 with a BOM is detected)
  --date-order dmy|mdy          How to read 01/02/2024 (default dmy: 1 February)
  --map "Header=field"          Map a column (repeatable); fields: rego state vin client_name
                                mobile_number sale_date expiry_date monitor_start_date
                                monitor_end_date external_id first_name last_name additional ignore
  --strict-columns              Refuse a file with a column no rule maps (default: such columns
                                are kept in additional_fields; the column report lists them)
  --skip-malformed              Report a ragged line (or an NDJSON line that is not an object)
                                as a bad row with its line, and go on (default: refuse the file)
  --allow-past-expiry           Send rows whose expiry date is today or earlier (default: bad
                                rows, since the API deletes such a customer at once)
  --bad-rows FILE               Write every bad row to FILE as NDJSON
  --batch-size N                Customers per upload (default 5000)
  --concurrency N               Uploads in flight (default 2)
  --rego-lookups                Look up VINs from regos (extra cost)
  --no-wait                     Stop once everything is sent, without waiting for processing
  --poll-ms N                   How often to poll progress, in ms (default 1000; also status --wait)
  --manifest FILE               Where the resumable manifest goes (default <file>.recapture.json)
  --resend                      Send rows already sent to this account and region before
  --skip-sent                   Leave out rows already sent before (each with a warning); by
                                default, rows sent before (the local record in
                                .recapture/sent/) stop the upload before anything is sent
  --check-account               Compare with the account's customers (every page: costs
                                requests) instead of the local record
  --resume                      Continue an interrupted upload from its manifest
  --restart                     Upload the whole file again despite an earlier manifest

Environment: RECAPTURE_API_KEY, or RECAPTURE_CLIENT_ID + RECAPTURE_CLIENT_SECRET for OAuth
(the real API; without them the local sandbox is used), RECAPTURE_BASE_URL, RECAPTURE_REGION,
RECAPTURE_SANDBOX_PATH.

Exit codes: 0 done; 1 unexpected error; 2 wrong arguments; 3 file missing, not a CSV/NDJSON or
malformed (the message names the line); 4 done, but some rows were bad or failed processing;
5 the API refused the request (authentication, permission, not found, region, validation);
6 the API could not be reached or failed (network, timeout, 5xx, rate limit); 130 interrupted
(the manifest is saved: resume with --resume).
${ALERTS_HELP}`;

const OPTIONS = {
  region: { type: "string" },
  json: { type: "boolean", default: false },
  "sandbox-path": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", default: false },
  name: { type: "string" },
  format: { type: "string" },
  delimiter: { type: "string" },
  encoding: { type: "string" },
  "date-order": { type: "string" },
  map: { type: "string", multiple: true },
  "bad-rows": { type: "string" },
  "strict-columns": { type: "boolean", default: false },
  "allow-past-expiry": { type: "boolean", default: false },
  "skip-malformed": { type: "boolean", default: false },
  resend: { type: "boolean", default: false },
  "skip-sent": { type: "boolean", default: false },
  "check-account": { type: "boolean", default: false },
  "batch-size": { type: "string" },
  concurrency: { type: "string" },
  "rego-lookups": { type: "boolean", default: false },
  "no-wait": { type: "boolean", default: false },
  "poll-ms": { type: "string" },
  manifest: { type: "string" },
  resume: { type: "boolean", default: false },
  restart: { type: "boolean", default: false },
  wait: { type: "boolean", default: false },
  "upload-id": { type: "string" },
  limit: { type: "string" },
  offset: { type: "string" },
  all: { type: "boolean", default: false },
  mobile: { type: "string" },
  "sale-date": { type: "string" },
  "expiry-date": { type: "string" },
} as const;

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Which options each command takes (beyond --region, --json, --sandbox-path, --help). */
const ALLOWED: Record<string, string[]> = {
  upload: [
    "name",
    "format",
    "delimiter",
    "encoding",
    "date-order",
    "map",
    "bad-rows",
    "strict-columns",
    "allow-past-expiry",
    "skip-malformed",
    "batch-size",
    "concurrency",
    "rego-lookups",
    "no-wait",
    "poll-ms",
    "manifest",
    "resume",
    "restart",
    "resend",
    "skip-sent",
    "check-account",
  ],
  validate: [
    "format",
    "delimiter",
    "encoding",
    "date-order",
    "map",
    "bad-rows",
    "strict-columns",
    "allow-past-expiry",
    "skip-malformed",
  ],
  status: ["wait", "poll-ms"],
  cancel: [],
  "customers list": ["upload-id", "limit", "offset", "all"],
  "customers get": [],
  "customers update": ["name", "mobile", "sale-date", "expiry-date"],
  "customers delete": [],
};
const GLOBAL = new Set(["region", "json", "sandbox-path", "help", "version"]);

/**
 * Runs the command line with `args`, writing to stdout and stderr, and answers the exit code
 * (it does not exit).
 *
 * @param args the arguments after the program name
 * @returns the exit code
 *
 * @example
 * ```ts ignore
 * import { main } from "@recapture/sdk/cli";
 *
 * Deno.exit(await main(Deno.args));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const io: Io = processIo();
  const alerts = await alertsMain(args, io); // webhooks, simulate-listing (_cli_webhooks.ts)
  if (alerts !== null) return alerts;
  let json = args.includes("--json");
  try {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(args);
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
    }
    const { values, positionals } = parsed;
    json = values.json;
    if (values.version) {
      io.out(json ? JSON.stringify({ version: VERSION }) + "\n" : `recapture ${VERSION}\n`);
      return EXIT.ok;
    }
    // `deno task` runs in the project's directory and tells where it was started (INIT_CWD):
    // the default sandbox file stays the project's (shared with `deno task sandbox`), while
    // file arguments are read from where the command was typed.
    const sandboxPath = values["sandbox-path"] ?? readEnv("RECAPTURE_SANDBOX_PATH") ??
      `${Deno.cwd()}/${DEFAULT_SANDBOX_PATH}`;
    // Job ids are indexed beside the sandbox file (by default the project's .recapture/jobs).
    const sandboxDir = sandboxPath.includes("/")
      ? sandboxPath.slice(0, sandboxPath.lastIndexOf("/"))
      : ".";
    const jobsDir = `${sandboxDir.startsWith("/") ? "" : `${Deno.cwd()}/`}${sandboxDir}/jobs`;
    const initCwd = readEnv("INIT_CWD");
    if (initCwd !== undefined && initCwd !== Deno.cwd()) Deno.chdir(initCwd);
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === "help") {
      io.out(HELP);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    const sub = command === "customers" ? rest.shift() : undefined;
    const key = sub !== undefined ? `customers ${sub}` : command;
    const allowed = ALLOWED[key];
    if (allowed === undefined) {
      throw new UsageError(
        command === "customers"
          ? `customers wants list, get, update or delete${
            sub ? `, not ${JSON.stringify(sub)}` : ""
          }`
          : `unknown command ${JSON.stringify(command)}`,
      );
    }
    for (const name of Object.keys(values)) {
      const given = (values as Record<string, unknown>)[name];
      const isDefault = given === false || given === undefined;
      if (!isDefault && !GLOBAL.has(name) && !allowed.includes(name)) {
        throw new UsageError(`--${name} does not apply to ${key}`);
      }
    }
    let region: Region;
    try {
      region = resolveRegion(values.region, { RECAPTURE_REGION: readEnv("RECAPTURE_REGION") }) ??
        "au";
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const wants = (n: number, what: string) => {
      if (rest.length < n) throw new UsageError(`${key} wants ${what}`);
      if (rest.length > n) throw new UsageError(`${key}: unexpected ${JSON.stringify(rest[n])}`);
    };
    if (values.name !== undefined && values.name.trim() === "") {
      throw new UsageError("--name must not be empty");
    }
    const fileOptions = (file: string) => ({
      file,
      region,
      json,
      map: values.map ?? [],
      strictColumns: values["strict-columns"],
      allowPastExpiry: values["allow-past-expiry"],
      skipMalformed: values["skip-malformed"],
      ...(values.format !== undefined ? { format: values.format } : {}),
      ...(values.delimiter !== undefined ? { delimiter: values.delimiter } : {}),
      ...(values.encoding !== undefined ? { encoding: values.encoding } : {}),
      ...(values["date-order"] !== undefined ? { dateOrder: values["date-order"] } : {}),
      ...(values["bad-rows"] !== undefined ? { badRowsPath: values["bad-rows"] } : {}),
    });
    if (key === "validate") {
      wants(1, "a file: validate <file>");
      return await validateCommand(io, fileOptions(rest[0]));
    }
    if (key === "upload") wants(1, "a file: upload <file>");
    else if (key === "customers list") wants(0, "no argument");
    else wants(1, key.startsWith("customers") ? "a customer id" : "an upload id");
    if (key === "upload" && values.resume && values.restart) {
      throw new UsageError("--resume and --restart cannot go together");
    }
    let opened: Awaited<ReturnType<typeof openClient>>;
    try {
      opened = await openClient({ region, path: sandboxPath });
    } catch (error) {
      // The environment's settings are the command line's arguments here (exit 2).
      if (error instanceof TypeError || error instanceof RangeError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    try {
      if (key === "upload") {
        return await uploadCommand(io, opened.client, {
          ...fileOptions(rest[0]),
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(values["batch-size"] !== undefined ? { batchSize: values["batch-size"] } : {}),
          ...(values.concurrency !== undefined ? { concurrency: values.concurrency } : {}),
          ...(values["poll-ms"] !== undefined ? { pollMs: values["poll-ms"] } : {}),
          ...(values.manifest !== undefined ? { manifestPath: values.manifest } : {}),
          regoLookups: values["rego-lookups"],
          wait: !values["no-wait"],
          resume: values.resume,
          restart: values.restart,
          mode: opened.mode,
          jobsDir,
          sentRecord: `${jobsDir.slice(0, jobsDir.lastIndexOf("/"))}/sent/${await accountKey(
            opened.mode,
          )}_${region}.tsv`,
          resend: values.resend,
          skipSent: values["skip-sent"],
          checkAccount: values["check-account"],
        });
      }
      if ((key === "status" || key === "cancel") && isJobRef(rest[0])) {
        return await jobCommand(io, opened.client, key, rest[0], {
          region,
          json,
          wait: values.wait,
          pollMs: positiveInt(values["poll-ms"], "--poll-ms", 1000, POLL_MS_MAX),
          jobsDir,
        });
      }
      return await apiCommand(io, opened.client, key, rest[0], values, json);
    } finally {
      await opened.close();
    }
  } catch (error) {
    const { code, kind, message } = classify(error);
    if (json) {
      io.out(JSON.stringify({ error: { code: kind, message, exit_code: code } }) + "\n");
    } else {
      io.err(`error: ${message}\n`);
      if (code === EXIT.usage) io.err("Run `deno task recapture help` for usage.\n");
    }
    return code;
  }
}

/** Who the account is, for the local record of what was sent: never the key itself. */
async function accountKey(mode: "api" | "sandbox"): Promise<string> {
  if (mode === "sandbox") return "sandbox";
  const who = readEnv("RECAPTURE_API_KEY") ?? readEnv("RECAPTURE_CLIENT_ID") ?? "";
  return `api_${
    (await sha256Hex(`${readEnv("RECAPTURE_BASE_URL") ?? ""}\u0000${who}`)).slice(0, 16)
  }`;
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
  }
  return n;
}

function describeUpload(u: Upload): string {
  const done = u.total_uploaded_customers > 0
    ? Math.floor(u.total_processed_customers / u.total_uploaded_customers * 100)
    : 0;
  return table([
    ["upload", u.id],
    ["name", u.name ?? ""],
    ["status", `${u.status ?? "?"} (${done}% processed)`],
    ["uploaded", num(u.total_uploaded_customers)],
    ["processed", num(u.total_processed_customers)],
    ["errors", num(u.total_errors)],
    ["created", u.created_at ?? ""],
  ], 100) + "\n";
}

function describeCustomer(c: Customer): string {
  const rows: string[][] = [];
  for (const [k, v] of Object.entries(c)) {
    if (v === null || v === undefined) continue;
    rows.push([k, typeof v === "object" ? JSON.stringify(v) : String(v)]);
  }
  return table(rows, 100) + "\n";
}

const LIST_HEADER = ["id", "rego", "state", "vin", "client_name", "upload_id"];
/** Column widths of `customers list --all` (printed a row at a time, so fixed). */
const ALL_WIDTHS = [28, 10, 5, 17, 24, 21];
function customerRow(c: Customer): string[] {
  return [c.id, c.rego ?? "", c.state ?? "", c.vin ?? "", c.client_name ?? "", c.upload_id ?? ""];
}

async function apiCommand(
  io: Io,
  client: RecaptureClient,
  key: string,
  id: string | undefined,
  values: Values,
  json: boolean,
): Promise<number> {
  const print = (value: unknown, human: string) =>
    io.out(json ? JSON.stringify(value) + "\n" : human);
  switch (key) {
    case "status": {
      const interval = positiveInt(values["poll-ms"], "--poll-ms", 1000, POLL_MS_MAX);
      let upload = await client.uploads.retrieve(id!);
      if (values.wait) {
        upload = await client.uploads.wait(id!, {
          intervalMs: interval,
          onProgress: (u) => {
            if (io.tty && !json) {
              io.err(
                `\r\x1b[K${u.id}: processed ${num(u.total_processed_customers)} of ${
                  num(u.total_uploaded_customers)
                }, ${num(u.total_errors)} errors`,
              );
            }
          },
        });
        if (io.tty && !json) io.err("\n");
      }
      print({ ...upload }, describeUpload(upload));
      return upload.total_errors > 0 ? EXIT.badRows : EXIT.ok;
    }
    case "cancel": {
      const upload = await client.uploads.cancel(id!);
      const { result, notProcessed } = upload.outcome;
      const said = result === "cancelled"
        ? `Cancelled: ${num(notProcessed)} customers will not be created; the ${
          num(upload.total_processed_customers - upload.total_errors)
        } already created stay.\n`
        : `Already completed: nothing cancelled (every customer was processed).\n`;
      print(
        { ...upload, outcome: { result, not_processed: notProcessed } },
        describeUpload(upload) + said,
      );
      return EXIT.ok;
    }
    case "customers list": {
      const limit = values.limit === undefined
        ? undefined
        : positiveInt(values.limit, "--limit", 0, 1000);
      const offset = intOption(values.offset, "offset");
      const uploadId = values["upload-id"];
      if (values.all) {
        if (limit !== undefined || offset !== undefined) {
          throw new UsageError("--all reads every customer: leave out --limit and --offset");
        }
        // Every page, streamed: memory stays flat whatever the number of customers. The first
        // page is read before anything is printed, so a refused request prints only its error.
        const customers = client.customers.iterate({
          pageSize: 1000,
          ...(uploadId ? { upload_id: uploadId } : {}),
        })[Symbol.asyncIterator]();
        let next = await customers.next();
        let n = 0;
        if (json) io.out("[");
        else io.out(table([LIST_HEADER], 60, ALL_WIDTHS) + "\n");
        for (; !next.done; next = await customers.next()) {
          const c = next.value;
          if (json) io.out((n > 0 ? ",\n" : "\n") + JSON.stringify(c));
          else io.out(table([customerRow(c)], 60, ALL_WIDTHS) + "\n");
          n++;
        }
        io.out(json ? "\n]\n" : `${num(n)} customers\n`);
        return EXIT.ok;
      }
      const page = await client.customers.list({
        limit: limit ?? 20,
        ...(offset !== undefined ? { offset } : {}),
        ...(uploadId ? { upload_id: uploadId } : {}),
      });
      print(
        { customers: page.customers, total: page.total, offset: page.offset, limit: page.limit },
        table([LIST_HEADER, ...page.customers.map(customerRow)], 40) +
          `\n${num(page.customers.length)}${
            typeof page.total === "number" ? ` of ${num(page.total)}` : ""
          } customers (offset ${num(page.offset ?? offset ?? 0)})\n`,
      );
      return EXIT.ok;
    }
    case "customers get": {
      const c = await client.customers.retrieve(id!);
      print({ ...c }, describeCustomer(c));
      return EXIT.ok;
    }
    case "customers update": {
      const params: CustomerUpdateParams = {};
      if (values.name !== undefined) params.client_name = values.name;
      if (values.mobile !== undefined) params.mobile_number = values.mobile;
      for (
        const [flag, field] of [["sale-date", "sale_date"], ["expiry-date", "expiry_date"]] as const
      ) {
        const v = values[flag];
        if (v === undefined) continue;
        try {
          params[field] = v.trim() === "" ? "" : parseDate(v, { column: `--${flag}` });
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      }
      if (Object.keys(params).length === 0) {
        throw new UsageError(
          "customers update wants at least one of --name, --mobile, --sale-date, --expiry-date",
        );
      }
      const c = await client.customers.update(id!, params);
      print({ ...c }, describeCustomer(c));
      return EXIT.ok;
    }
    case "customers delete": {
      const c = await client.customers.delete(id!);
      print({ ...c }, `Deleted ${c.id}${c.rego ? ` (${c.rego})` : ""}\n`);
      return EXIT.ok;
    }
  }
  throw new UsageError(`unknown command ${JSON.stringify(key)}`);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
