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

import { isAbsolute, join } from "node:path";
import type { RecaptureClient } from "../sdk/client.ts";
import { parseDate } from "../import/dates.ts";
import { expiresImmediately, PAST_EXPIRY_REASON } from "../sdk/validate.ts";
import type { Customer, CustomerUpdateParams, Region, Upload } from "../sdk/schemas.ts";
import {
  CLIENT_ENV,
  DEFAULT_SANDBOX_PATH,
  openClient,
  readEnv,
  resolveRegion,
  SANDBOX_PATH_ENV,
} from "../config/mod.ts";
import { num, table } from "./_format.ts";
import { classify, EXIT, type Io, processIo, UsageError } from "./_io.ts";
import { uploadCommand, validateCommand } from "./_upload.ts";
import { isJobRef, jobCommand } from "./_jobs.ts";
import { sha256Hex } from "../_internal/hex.ts";
import { alertsCommand } from "./_webhooks.ts";
import {
  type CommandSpec,
  type FlagName,
  helpText,
  NUMBER_FLAGS,
  numberFlag,
  parseCommandLine,
  UPDATE_FLAGS,
  type Values,
  wantArguments,
} from "./_commands.ts";

import { VERSION } from "../sdk/version.ts";

export type { Io } from "./_io.ts";

/** The environment variables the command line reads. */
export const CLI_ENV = [...CLIENT_ENV, "INIT_CWD"] as const;

const HELP = helpText(
  `recapture: upload and manage AutoGrab Customer Recapture lists

Usage: deno task recapture <command> [options]
`,
  `Environment: RECAPTURE_API_KEY, or RECAPTURE_CLIENT_ID + RECAPTURE_CLIENT_SECRET for OAuth
(the real API; without them the local sandbox is used), RECAPTURE_BASE_URL, RECAPTURE_REGION,
RECAPTURE_SANDBOX_PATH.

Exit codes: 0 done; 1 unexpected error; 2 wrong arguments; 3 file missing, not a CSV/NDJSON or
malformed (the message names the line); 4 done, but some rows were bad or failed processing;
5 the API refused the request (authentication, permission, not found, region, validation);
6 the API could not be reached or failed (network, timeout, 5xx, rate limit); 130 interrupted
(the manifest is saved: resume with --resume).
`,
);

/** Options of {@linkcode main}: where it writes, what environment it sees, where it runs. */
export interface MainOptions {
  /** Where output goes (default: the process's stdout and stderr). */
  io?: Io;
  /** The environment (default: the process's, read for {@linkcode CLI_ENV}). */
  env?: Record<string, string | undefined>;
  /**
   * The directory the default sandbox file (and `RECAPTURE_SANDBOX_PATH`, when relative) is
   * found from (default: the process's). File arguments are read from `INIT_CWD` (set by
   * `deno task`: where the command was typed), else from here.
   */
  cwd?: string;
}

/**
 * Runs the command line with `args` and answers the exit code (it does not exit). Output,
 * environment and working directory can be given, so that it runs in-process.
 *
 * @param args the arguments after the program name
 * @param options where output goes, the environment, the working directory
 * @returns the exit code
 *
 * @example
 * ```ts ignore
 * import { main } from "@recapture/sdk/cli";
 *
 * Deno.exit(await main(Deno.args));
 * ```
 */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  const io: Io = options.io ?? processIo();
  const env = options.env ?? readEnv(CLI_ENV);
  const cwd = options.cwd ?? Deno.cwd();
  let json = args.includes("--json");
  try {
    const { command, values, rest, helpWanted } = parseCommandLine(args);
    json = values.json ?? false;
    if (values.version) {
      io.out(json ? JSON.stringify({ version: VERSION }) + "\n" : `recapture ${VERSION}\n`);
      return EXIT.ok;
    }
    if (command === undefined) {
      io.out(HELP);
      return helpWanted ? EXIT.ok : EXIT.usage;
    }
    // `deno task` runs in the project's directory and tells where it was started (INIT_CWD):
    // the default sandbox file stays the project's (shared with `deno task sandbox`), while
    // file arguments (and --sandbox-path) are read from where the command was typed.
    const typedIn = env.INIT_CWD ?? cwd;
    const at = (path: string, from = typedIn) =>
      isAbsolute(path) || from === Deno.cwd() ? path : join(from, path);
    const sandboxPath = values["sandbox-path"] !== undefined
      ? at(values["sandbox-path"])
      : at(env[SANDBOX_PATH_ENV] ?? DEFAULT_SANDBOX_PATH, cwd);
    // Job ids are indexed beside the sandbox file (by default the project's .recapture/jobs).
    const jobsDir = join(isAbsolute(sandboxPath) ? "" : Deno.cwd(), sandboxPath, "..", "jobs");
    let region: Region;
    try {
      region = resolveRegion(values.region, env) ?? "au";
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    wantArguments(command, rest);
    if (values.name !== undefined && values.name.trim() === "") {
      throw new UsageError("--name must not be empty");
    }
    const key = command.name;
    const fileOptions = (file: string) => ({
      file: at(file),
      region,
      json,
      map: values.map ?? [],
      strictColumns: values["strict-columns"] ?? false,
      allowPastExpiry: values["allow-past-expiry"] ?? false,
      skipMalformed: values["skip-malformed"] ?? false,
      ...(values.format !== undefined ? { format: values.format } : {}),
      ...(values.delimiter !== undefined ? { delimiter: values.delimiter } : {}),
      ...(values.encoding !== undefined ? { encoding: values.encoding } : {}),
      ...(values["date-order"] !== undefined ? { dateOrder: values["date-order"] } : {}),
      ...(values["bad-rows"] !== undefined ? { badRowsPath: at(values["bad-rows"]) } : {}),
    });
    if (key === "validate") return await validateCommand(io, fileOptions(rest[0]));
    if (key === "upload" && values.resume && values.restart) {
      throw new UsageError("--resume and --restart cannot go together");
    }
    if (key === "upload" && values["resend-unconfirmed"] && !values.resume) {
      throw new UsageError("--resend-unconfirmed goes with --resume only");
    }
    let opened: Awaited<ReturnType<typeof openClient>>;
    try {
      opened = await openClient({ region, path: sandboxPath, env });
    } catch (error) {
      // The environment's settings are the command line's arguments here (exit 2).
      if (error instanceof TypeError || error instanceof RangeError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    try {
      if (command.alerts) return await alertsCommand(io, opened, key, rest[0], values, json);
      if (key === "upload") {
        return await uploadCommand(io, opened.client, {
          ...fileOptions(rest[0]),
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(values["batch-size"] !== undefined ? { batchSize: values["batch-size"] } : {}),
          ...(values.concurrency !== undefined ? { concurrency: values.concurrency } : {}),
          ...(values["poll-ms"] !== undefined ? { pollMs: values["poll-ms"] } : {}),
          ...(values.manifest !== undefined ? { manifestPath: at(values.manifest) } : {}),
          regoLookups: values["rego-lookups"] ?? false,
          wait: !values["no-wait"],
          resume: values.resume ?? false,
          restart: values.restart ?? false,
          mode: opened.mode,
          jobsDir,
          sentRecord: join(
            jobsDir,
            "..",
            "sent",
            `${await accountKey(opened.mode, env)}_${region}.tsv`,
          ),
          resend: values.resend ?? false,
          skipSent: values["skip-sent"] ?? false,
          checkAccount: values["check-account"] ?? false,
          resendUnconfirmed: values["resend-unconfirmed"] ?? false,
        });
      }
      if ((key === "status" || key === "cancel") && isJobRef(rest[0])) {
        return await jobCommand(
          io,
          opened.client,
          key,
          rest[0].startsWith("job_") ? rest[0] : at(rest[0]),
          {
            region,
            json,
            wait: values.wait ?? false,
            pollMs: numberFlag("poll-ms", values["poll-ms"]),
            jobsDir,
          },
        );
      }
      return await apiCommand(io, opened.client, command, rest[0], values, json);
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
async function accountKey(
  mode: "api" | "sandbox",
  env: Record<string, string | undefined>,
): Promise<string> {
  if (mode === "sandbox") return "sandbox";
  const who = env.RECAPTURE_API_KEY ?? env.RECAPTURE_CLIENT_ID ?? "";
  return `api_${(await sha256Hex(`${env.RECAPTURE_BASE_URL ?? ""}\u0000${who}`)).slice(0, 16)}`;
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
  command: CommandSpec,
  id: string | undefined,
  values: Values,
  json: boolean,
): Promise<number> {
  const key = command.name;
  const print = (value: unknown, human: string) =>
    io.out(json ? JSON.stringify(value) + "\n" : human);
  switch (key) {
    case "status": {
      const interval = numberFlag("poll-ms", values["poll-ms"]);
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
        : result === "already_cancelled"
        ? `Already cancelled: nothing more to stop (${
          num(notProcessed)
        } customers were not created).\n`
        : `Already completed: nothing cancelled (every customer was processed).\n`;
      print(
        { ...upload, outcome: { result, not_processed: notProcessed } },
        describeUpload(upload) + said,
      );
      return EXIT.ok;
    }
    case "customers list": {
      const limit = values.limit === undefined ? undefined : numberFlag("limit", values.limit);
      const offset = intOption(values.offset, "offset");
      const uploadId = values["upload-id"];
      if (values.all) {
        if (limit !== undefined || offset !== undefined) {
          throw new UsageError("--all reads every customer: leave out --limit and --offset");
        }
        // Every page, streamed: memory stays flat whatever the number of customers. The first
        // page is read before anything is printed, so a refused request prints only its error.
        const customers = client.customers.iterate({
          pageSize: NUMBER_FLAGS.limit.max,
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
        limit: limit ?? NUMBER_FLAGS.limit.default,
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
      const fields = Object.entries(UPDATE_FLAGS) as [keyof CustomerUpdateParams, FlagName][];
      for (const [field, flag] of fields) {
        const given = values[flag] as string | undefined;
        if (given === undefined) continue;
        if (!field.endsWith("_date")) params[field] = given;
        else if (given.trim() === "") params[field] = ""; // clears it
        else {
          // A date is read as the CSV reader reads one (`1/3/2024`, `2024-03-01`, ...).
          try {
            params[field] = parseDate(given, { column: `--${flag}` });
          } catch (error) {
            throw new UsageError((error as Error).message);
          }
        }
      }
      if (Object.keys(params).length === 0) {
        throw new UsageError(
          `customers update wants at least one of ${
            Object.values(UPDATE_FLAGS).map((f) => `--${f}`).join(", ")
          }`,
        );
      }
      const allowPastExpiry = values["allow-past-expiry"] === true;
      if (
        !allowPastExpiry && params.expiry_date !== undefined &&
        expiresImmediately(params.expiry_date)
      ) {
        throw new UsageError(
          `--expiry-date ${params.expiry_date} ${PAST_EXPIRY_REASON}: nothing was changed ` +
            "(--allow-past-expiry sends it anyway)",
        );
      }
      const c = await client.customers.update(id!, params, { allowPastExpiry });
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
