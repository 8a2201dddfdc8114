/**
 * `deno task demo`: the main job, end to end.
 *
 * Without `RECAPTURE_API_KEY` it starts an in-process sandbox (no port, no network), generates a
 * realistic list of 20,000 customers of the region (regos and mobiles as written there, a state
 * only in AU) with a few percent of bad rows, uploads it with the SDK, shows live progress until
 * processing is done, then lists a page, updates one customer, deletes one and prints a summary;
 * last, it simulates a listing of one uploaded customer's car and shows the alert arrive through
 * the edge adapter's relay. With `RECAPTURE_API_KEY` set it does the same against the real API on
 * a small list (20 customers, no bad rows, no paid rego lookups).
 *
 * Flags: `--count N` (customers to generate), `--region au|nz|uk|my`. Every user error (an
 * unknown flag, half an OAuth pair, a wrong key, an API that cannot be reached) ends with one
 * line and the CLI's exit code (2 arguments, 5 refused by the API, 6 not reachable).
 *
 * @example
 * ```sh
 * deno task demo
 * deno task demo --count 2000
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { type Customer, type Region, type Upload, validateCustomers } from "../mod.ts";
import { openClient, resolveRegion } from "../src/config/mod.ts";
import { classify, EXIT, UsageError } from "../src/cli/_io.ts";
import { generateCustomers } from "./_customers.ts";
import { alertsDemo } from "./_alerts_demo.ts";

try {
  Deno.exit(await demo());
} catch (error) {
  // One line and the CLI's exit code, as `deno task recapture` does: no stack trace.
  const { code, message } = classify(error);
  console.error(`\nerror: ${message}`);
  Deno.exit(code);
}

/** The demo; answers the exit code, throws what `classify` turns into one. */
async function demo(): Promise<number> {
  let values: { count?: string; region?: string };
  let region: Region;
  try {
    values = parseArgs({
      args: Deno.args,
      options: { count: { type: "string" }, region: { type: "string" } },
    }).values;
    region = resolveRegion(values.region) ?? "au";
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
  }
  let opened: Awaited<ReturnType<typeof openClient>>;
  try {
    opened = await openClient({ path: ":memory:", region });
  } catch (error) {
    // The environment's settings (half an OAuth pair, a bad base URL) are arguments here.
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
  const live = opened.mode === "api";
  const count = Number(values.count ?? (live ? 20 : 20_000));
  if (!Number.isInteger(count) || count < 1) {
    await opened.close();
    throw new UsageError(`--count must be a positive whole number (got "${values.count}")`);
  }
  const { client } = opened;
  const fmt = (n: number) => n.toLocaleString("en-AU");
  const tty = Deno.stdout.isTerminal();
  const encoder = new TextEncoder();

  try {
    console.log(
      live
        ? `Recapture demo against the real API (region ${region}), ${fmt(count)} customers`
        : `Recapture demo on an in-process sandbox (no API key set), ${fmt(count)} customers`,
    );
    const { customers, bad } = generateCustomers(count, {
      badRatio: live ? 0 : 0.03,
      seed: Date.now(),
      region,
    });
    const preflight = validateCustomers(customers, { region });
    console.log(
      `Generated ${fmt(customers.length)} customers; the SDK's pre-flight check flags ` +
        `${fmt(preflight.issues.length)} rows (${fmt(bad.size)} bad rows were planted). ` +
        `Uploading all of them so the API counts the bad ones.`,
    );

    const started = performance.now();
    const created = await client.uploads.create({
      name: `Demo upload ${new Date().toISOString().slice(0, 16)}`,
      enable_rego_lookups: !live, // lookups cost money on the real API
      customers,
    }, { validate: false });
    const acceptedMs = performance.now() - started;
    console.log(`Upload ${created.id} accepted in ${acceptedMs.toFixed(0)} ms`);

    const render = (u: Upload) => {
      const total = u.total_uploaded_customers;
      const done = u.total_processed_customers;
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      const line = `[${bar}] uploaded ${fmt(total)} · processed ${fmt(done)} · errors ${
        fmt(u.total_errors)
      }`;
      if (tty) Deno.stdout.writeSync(encoder.encode(`\r${line}`));
      else console.log(line);
    };
    const finished = await client.uploads.wait(created.id, {
      intervalMs: live ? 2000 : 100,
      deadlineMs: live ? 30 * 60_000 : 5 * 60_000,
      onProgress: render,
    });
    render(finished);
    if (tty) console.log();
    const seconds = (performance.now() - started) / 1000;

    const page = await client.customers.list({ upload_id: created.id, limit: 5 });
    console.log(
      `\nFirst ${page.customers.length}${
        page.total != null ? ` of ${fmt(page.total)}` : ""
      } customers of this upload:`,
    );
    console.table(page.customers.map((c: Customer) => ({
      id: c.id,
      rego: c.rego,
      state: c.state,
      vin: c.vin,
      vehicle: c.vehicle_title,
      client: c.client_name,
    })));

    const [first, second] = page.customers;
    if (first) {
      const updated = await client.customers.update(first.id, {
        client_name: `${first.client_name ?? "Customer"} (VIP)`,
        mobile_number: "",
      });
      console.log(
        `Updated ${updated.id}: client_name "${updated.client_name}", mobile_number cleared (${updated.mobile_number})`,
      );
    }
    if (second) {
      const deleted = await client.customers.delete(second.id);
      console.log(`Deleted ${deleted.id} (${deleted.rego ?? deleted.vin})`);
    }
    const after = await client.customers.list({ upload_id: created.id, limit: 1 });

    const lookups = (finished as Upload & { total_rego_lookups?: number }).total_rego_lookups;
    console.log("\nSummary");
    console.log(`  mode:              ${live ? "real API" : "in-process sandbox"}`);
    console.log(`  uploaded:          ${fmt(finished.total_uploaded_customers)}`);
    console.log(`  processed:         ${fmt(finished.total_processed_customers)}`);
    console.log(`  errors:            ${fmt(finished.total_errors)}`);
    if (lookups !== undefined) console.log(`  rego lookups:      ${fmt(lookups)}`);
    console.log(`  customers now:     ${after.total != null ? fmt(after.total) : "?"}`);
    console.log(
      `  time, POST→done:   ${seconds.toFixed(2)} s (${
        fmt(Math.round(count / seconds))
      } customers/s)`,
    );
    const errors =
      (finished as Upload & { errors?: { index: number; field: string; reason: string }[] })
        .errors;
    if (errors && errors.length > 0) {
      console.log(`  first row errors:`);
      for (const e of errors.slice(0, 3)) console.log(`    row ${e.index} ${e.field}: ${e.reason}`);
    }
    if (opened.sandbox && first) {
      await alertsDemo(client, opened.sandbox, first);
    } else if (live) {
      console.log(
        "\nAlerts: register a public HTTPS URL with client.webhooks.create (see README).",
      );
    }
  } finally {
    await opened.close();
  }
  return EXIT.ok;
}
