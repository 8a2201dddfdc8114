// The command line end to end: `deno run src/cli/mod.ts` as a subprocess on a sandbox KV file in a
// temp directory (RECAPTURE_SANDBOX_PATH), no API key.

import {
  assert,
  assertEquals,
  assertExists,
  assertGreater,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";

import { BadRowKeeper } from "../../src/cli/_upload.ts";
import { createSandbox } from "../../src/sandbox/mod.ts";
import { CLI, cliEnv, CONFIG, type Run, runCli } from "./_run.ts";

/** The environment of a CLI run: no API key, the sandbox on `kv`. */
const environment = (kv: string) => cliEnv(kv);
const cli = (dir: string, ...args: string[]): Promise<Run> => runCli(dir, args);

function parsed(run: Run): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** An export-like CSV of `n` rows; rows whose index is in `bad` have no rego nor VIN. */
function exportCsv(n: number, bad: ReadonlySet<number> = new Set()): string {
  let text = "Registration,State,VIN,Customer Name,Mobile,Sale Date,Salesperson\r\n";
  for (let i = 0; i < n; i++) {
    const rego = bad.has(i) ? "" : `CLI${i}`;
    text += `${rego},NSW,,"Customer ${i}, Jr",04${String(i).padStart(8, "0")},${
      (i % 28) + 1
    }/03/2024,Bob\r\n`;
  }
  return text;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "recapture_cli_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli: upload a generated file, counts and exit codes, --json parses", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/clean.csv`, exportCsv(1200));
    const clean = await cli(dir, "upload", "clean.csv", "--json", "--batch-size", "500");
    assertEquals(clean.code, 0, clean.stderr + clean.stdout);
    const report = parsed(clean);
    assertEquals(report.rows_read, 1200);
    assertEquals(report.uploaded, 1200);
    assertEquals(report.processed, 1200);
    assertEquals(report.bad, 0);
    const ids = report.upload_ids as string[];
    assertEquals(ids.length, 3);

    // The same data is visible to the next command (the KV file is shared).
    const status = await cli(dir, "status", ids[0], "--json");
    assertEquals(status.code, 0, status.stderr);
    const upload = parsed(status);
    assertEquals(upload.status, "completed");
    assertEquals(upload.total_uploaded_customers, 500);
    assertEquals(upload.name, "clean.csv (part 1)");
    const list = await cli(dir, "customers", "list", "--upload-id", ids[2], "--json");
    assertEquals(parsed(list).total, 200);

    // Bad rows: sent the rest, exit 4, each bad row reported with its line.
    await Deno.writeTextFile(`${dir}/some_bad.csv`, exportCsv(300, new Set([0, 150, 299])));
    // (The same generated customers as clean.csv: --resend says to send them again.)
    const partial = await cli(
      dir,
      "upload",
      "some_bad.csv",
      "--json",
      "--bad-rows",
      "bad.ndjson",
      "--resend",
    );
    assertEquals(partial.code, 4, partial.stderr);
    const r = parsed(partial);
    assertEquals([r.rows_read, r.uploaded, r.processed, r.bad], [300, 297, 297, 3]);
    const badRows = r.bad_rows as { line: number; issues: { field: string }[] }[];
    assertEquals(badRows.map((b) => b.line), [2, 152, 301]);
    assertEquals(badRows[0].issues[0].field, "rego|vin");
    const saved = (await Deno.readTextFile(`${dir}/bad.ndjson`)).trim().split("\n");
    assertEquals(saved.map((l) => JSON.parse(l).line), [2, 152, 301]);

    const all = await cli(dir, "customers", "list", "--json", "--limit", "1");
    assertEquals(parsed(all).total, 1497);
  });
});

Deno.test("cli: human output shows the summary, the bad rows and the manifest", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/list.csv`, exportCsv(40, new Set([7])));
    const run = await cli(dir, "upload", "list.csv");
    assertEquals(run.code, 4, run.stderr);
    assertStringIncludes(run.stdout, "Uploaded 39 of 40 rows in 1 upload; processed 39");
    assertStringIncludes(run.stdout, "Manifest: list.csv.recapture.json");
    assertStringIncludes(run.stderr, "Uploading list.csv to the local sandbox (region au)");
    assertMatch(run.stderr, /line 9\s+rego\|vin\s+a customer needs a rego or a vin/);
    // The manifest is there, and a second upload of the same file is refused without a choice.
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/list.csv.recapture.json`));
    assertEquals(manifest.manifest.uploads.length, 1);
    const again = await cli(dir, "upload", "list.csv");
    assertEquals(again.code, 2);
    assertStringIncludes(again.stderr, "Pass --resume to continue it, or --restart");
    // Resuming a finished upload sends nothing.
    const resumed = await cli(dir, "upload", "list.csv", "--resume", "--json");
    assertEquals(resumed.code, 0, resumed.stderr);
    assertEquals([parsed(resumed).uploaded, parsed(resumed).rows_skipped], [0, 40]);
  });
});

Deno.test("cli: a file with a header and no rows is refused as a file (exit 3), nothing sent", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/empty.csv`, "Rego,State,Customer Name\r\n");
    const run = await cli(dir, "upload", "empty.csv");
    assertEquals(run.code, 3, run.stdout + run.stderr);
    assertStringIncludes(run.stderr, "has a header but no rows under it: nothing was sent");
    const json = await cli(dir, "upload", "empty.csv", "--json");
    assertEquals(json.code, 3);
    assertEquals(JSON.parse(json.stdout).error.exit_code, 3);
    assertEquals((await storedRegos(dir)).total, 0);
  });
});

Deno.test("cli: validate reports bad rows and sends nothing", async () => {
  await withDir(async (dir) => {
    const csv = "Rego;State;VIN;Name;Sale Date\n" +
      "AB1;NSW;;Jo;01/03/2024\n" +
      "AB2;XX;;Lee;01/03/2024\n" +
      "AB3;VIC;SHORT;Kim;31/02/2024\n";
    await Deno.writeTextFile(`${dir}/check.csv`, csv);
    const run = await cli(dir, "validate", "check.csv", "--json");
    assertEquals(run.code, 4, run.stderr);
    const r = parsed(run);
    assertEquals([r.rows, r.valid, r.bad], [3, 1, 2]);
    const bad = r.bad_rows as { line: number; issues: { field: string }[] }[];
    assertEquals(bad.map((b) => [b.line, b.issues.map((i) => i.field)]), [
      [3, ["state"]],
      [4, ["sale_date", "vin"]],
    ]);
    const human = await cli(dir, "validate", "check.csv");
    assertEquals(human.code, 4);
    assertStringIncludes(human.stdout, "check.csv: 3 rows, 1 valid, 2 bad");
    assertStringIncludes(human.stdout, "Nothing was sent.");
    // Nothing reached the sandbox.
    const list = await cli(dir, "customers", "list", "--json");
    assertEquals(parsed(list).total, 0);
    await Deno.writeTextFile(`${dir}/good.csv`, "VIN\n1HGCM82633A004352\n");
    assertEquals((await cli(dir, "validate", "good.csv")).code, 0);
  });
});

Deno.test("cli: missing files, workbooks and malformed CSV exit 3 with a clear message", async () => {
  await withDir(async (dir) => {
    let run = await cli(dir, "upload", "missing.csv");
    assertEquals(run.code, 3);
    assertStringIncludes(run.stderr, "error: File not found: missing.csv");
    run = await cli(dir, "validate", "missing.csv", "--json");
    assertEquals(run.code, 3);
    assertEquals(parsed(run), {
      error: { code: "file", message: "File not found: missing.csv", exit_code: 3 },
    });
    await Deno.writeFile(`${dir}/book.xlsx`, new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]));
    run = await cli(dir, "validate", "book.xlsx");
    assertEquals(run.code, 3);
    assertStringIncludes(run.stderr, "is a spreadsheet workbook, not a CSV file");
    await Deno.writeFile(`${dir}/renamed.csv`, new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]));
    run = await cli(dir, "validate", "renamed.csv");
    assertEquals(run.code, 3);
    assertStringIncludes(run.stderr, "Line 1: this is a ZIP archive (an Excel .xlsx workbook?)");
    await Deno.writeTextFile(`${dir}/broken.csv`, 'Rego,Name\nA1,Jo\nA2,"Lee\nA3,Ng\n');
    run = await cli(dir, "upload", "broken.csv");
    assertEquals(run.code, 3);
    assertStringIncludes(run.stderr, "Line 3: a quoted field is never closed (unbalanced quote)");
    await Deno.mkdir(`${dir}/folder.csv`);
    run = await cli(dir, "validate", "folder.csv");
    assertEquals(run.code, 3);
    assertStringIncludes(run.stderr, "is a directory");
  });
});

Deno.test("cli: wrong arguments exit 2; API refusals exit 5", async () => {
  await withDir(async (dir) => {
    const usage: [string[], string][] = [
      [["frobnicate"], 'unknown command "frobnicate"'],
      [["upload"], "upload wants a file"],
      [["status"], "status wants an upload id, a job id or a manifest file"],
      [["cancel"], "cancel wants an upload id, a job id or a manifest file"],
      [["customers", "fly"], 'customers wants list, get, update or delete, not "fly"'],
      [["validate", "x.csv", "--region", "us"], "--region must be one of au, nz, uk, my"],
      [["status", "u1", "--batch-size", "5"], "--batch-size does not apply to status"],
      [["upload", "x.csv", "--bogus"], "Unknown option '--bogus'"],
      [["customers", "update", "c1"], "wants at least one of --name"],
      [["customers", "update", "c1", "--sale-date", "31/02/2024"], "February 2024 has no day 31"],
      [["validate", "x.csv", "--encoding", "nope"], "--encoding: unknown text encoding"],
      [["validate", "x.csv", "--map", "Rego=foo"], '"foo" is not a customer field'],
      [["upload", "x.csv", "--name", " "], "--name must not be empty"],
      [["customers", "list", "--limit", "0"], "--limit must be a whole number from 1 to 1,000"],
      [["customers", "list", "--all", "--offset", "3"], "--all reads every customer"],
      [
        ["status", "u1", "--wait", "--poll-ms", "3000000000"],
        "--poll-ms must be a whole number from 1 to 3,600,000",
      ],
    ];
    await Deno.writeTextFile(`${dir}/x.csv`, "Rego,State\nABC1,NSW\n");
    for (const [args, message] of usage) {
      const run = await cli(dir, ...args);
      assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assertStringIncludes(run.stderr, message);
    }
    const help = await cli(dir, "--help");
    assertEquals(help.code, 0);
    assertStringIncludes(help.stdout, "Exit codes: 0 done");
    const missing = await cli(dir, "status", "upl_missing", "--json");
    assertEquals(missing.code, 5);
    assertEquals((parsed(missing).error as { message: string }).message, "Invalid Upload ID");
    const noCustomer = await cli(dir, "customers", "get", "cus_missing");
    assertEquals(noCustomer.code, 5);
    assertStringIncludes(noCustomer.stderr, "Invalid Customer ID");
    // --all --json refused at the first page: one JSON error object, no dangling "[".
    const all = await cli(dir, "customers", "list", "--all", "--upload-id", "upl_nope", "--json");
    assertEquals(all.code, 5);
    assertEquals((parsed(all).error as { code: string }).code, "invalid_upload_id");
  });
});

Deno.test("cli: nothing is sent without a manifest, nor resumed against another backend", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.csv`, exportCsv(30));
    const nowhere = await cli(dir, "upload", "a.csv", "--manifest", `${dir}/missing/m.json`);
    assertEquals(nowhere.code, 3, nowhere.stderr);
    assertStringIncludes(nowhere.stderr, "Cannot write the manifest");
    assertStringIncludes(nowhere.stderr, "nothing was sent");
    const none = parsed(await cli(dir, "customers", "list", "--json"));
    assertEquals(none.total, 0);
    // A manifest recording an upload to the real API does not count against the sandbox.
    const size = (await Deno.stat(`${dir}/a.csv`)).size;
    await Deno.writeTextFile(
      `${dir}/a.csv.recapture.json`,
      JSON.stringify({
        file: { path: "a.csv", size, mtime: null },
        mode: "api",
        manifest: {
          version: 1,
          name: "a.csv",
          region: "au",
          uploads: [{ upload_id: "upl_x", first_row: 0, last_row: 29, customers: 30, bad_rows: 0 }],
        },
      }),
    );
    const resumed = await cli(dir, "upload", "a.csv", "--resume");
    assertEquals(resumed.code, 2, resumed.stderr);
    assertStringIncludes(
      resumed.stderr,
      "records an upload to the Recapture API, but this run sends to the local sandbox",
    );
  });
});

Deno.test("cli: text that is not UTF-8, odd NDJSON keys and control characters", async () => {
  await withDir(async (dir) => {
    // "Zoë" in Windows-1252: refused unless its encoding is given.
    const latin = new Uint8Array([
      ...new TextEncoder().encode("Rego,State,Name\nABC1,NSW,Zo"),
      0xeb,
      ...new TextEncoder().encode("\n"),
    ]);
    await Deno.writeFile(`${dir}/w.csv`, latin);
    const refused = await cli(dir, "validate", "w.csv");
    assertEquals(refused.code, 3);
    assertStringIncludes(refused.stderr, "Line 2: this is not UTF-8 text");
    assertEquals((await cli(dir, "validate", "w.csv", "--encoding", "windows-1252")).code, 0);
    // NDJSON keys are assigned as a CSV header is: rego over plate, mobile over phone.
    await Deno.writeTextFile(
      `${dir}/k.ndjson`,
      JSON.stringify({ plate: "P1", rego: "R1", phone: "0299999999", mobile: "0411111111" }) +
        "\n" + JSON.stringify({ rego: "R2", state: "NSW", name: "Evil\u001b[2J\nName" }) + "\n",
    );
    assertEquals((await cli(dir, "upload", "k.ndjson")).code, 0);
    const listed = parsed(await cli(dir, "customers", "list", "--json"));
    const [first] = listed.customers as Record<string, unknown>[];
    assertEquals([first.rego, first.mobile_number], ["R1", "0411111111"]);
    assertEquals(first.additional_fields, { plate: "P1", phone: "0299999999" });
    // A table shows control characters escaped: they neither break rows nor reach the terminal.
    const table = await cli(dir, "customers", "list");
    assertStringIncludes(table.stdout, "Evil\\x1b[2J\\nName");
    assert(!table.stdout.includes("\u001b"));
  });
});

Deno.test("cli: customers get, update, delete; status and cancel", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/few.csv`, exportCsv(3));
    const up = parsed(await cli(dir, "upload", "few.csv", "--json"));
    const uploadId = (up.upload_ids as string[])[0];
    const list = parsed(await cli(dir, "customers", "list", "--json"));
    const first = (list.customers as { id: string; rego: string }[])[0];
    assertEquals(first.rego, "CLI0");

    const got = await cli(dir, "customers", "get", first.id);
    assertEquals(got.code, 0);
    assertMatch(got.stdout, /client_name\s+Customer 0, Jr/);

    const updated = await cli(
      dir,
      "customers",
      "update",
      first.id,
      "--name",
      "Jo Citizen",
      "--sale-date",
      "02/01/2024",
      "--mobile",
      "",
      "--json",
    );
    assertEquals(updated.code, 0, updated.stderr);
    const c = parsed(updated);
    assertEquals([c.client_name, c.sale_date, c.mobile_number], ["Jo Citizen", "2024-01-02", null]);

    const deleted = await cli(dir, "customers", "delete", first.id);
    assertEquals(deleted.code, 0);
    assertStringIncludes(deleted.stdout, `Deleted ${first.id} (CLI0)`);
    assertEquals((await cli(dir, "customers", "get", first.id)).code, 5);

    const all = await cli(dir, "customers", "list", "--all", "--json");
    assertEquals((JSON.parse(all.stdout) as unknown[]).length, 2);

    const status = await cli(dir, "status", uploadId, "--wait");
    assertEquals(status.code, 0);
    assertMatch(status.stdout, /status\s+completed \(100% processed\)/);
    const cancelled = parsed(await cli(dir, "cancel", uploadId, "--json"));
    assertEquals(cancelled.id, uploadId); // cancelling a finished upload answers it unchanged
  });
});

Deno.test("cli: customers update refuses a past --expiry-date (the API would delete the customer) unless --allow-past-expiry", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/few.csv`, exportCsv(2));
    parsed(await cli(dir, "upload", "few.csv", "--json"));
    const list = parsed(await cli(dir, "customers", "list", "--json"));
    const [first, second] = list.customers as { id: string }[];
    const refused = await cli(dir, "customers", "update", first.id, "--expiry-date", "01/01/2020");
    assertEquals(refused.code, 2, refused.stderr);
    assertStringIncludes(refused.stderr, "--expiry-date");
    assertStringIncludes(refused.stderr, "--allow-past-expiry");
    assertEquals(refused.stderr.includes("allowPastExpiry"), false, refused.stderr);
    assertEquals((await cli(dir, "customers", "get", first.id)).code, 0); // still there
    const json = parsed(
      await cli(dir, "customers", "update", first.id, "--expiry-date", "2020-01-01", "--json"),
    );
    assertEquals((json.error as { exit_code: number }).exit_code, 2);
    const sent = await cli(
      dir,
      "customers",
      "update",
      second.id,
      "--expiry-date",
      "2020-01-01",
      "--allow-past-expiry",
    );
    assertEquals(sent.code, 0, sent.stderr);
  });
});

Deno.test("cli: Ctrl-C saves the manifest; --resume finishes without sending a row twice", async () => {
  await withDir(async (dir) => {
    const rows = 20_000;
    // Interrupt once the first uploads are recorded.
    const child = await startBigUpload(dir, rows, { concurrency: 1 });
    const manifestPath = `${dir}/big.csv.recapture.json`;
    child.kill("SIGINT");
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 130, stdout + new TextDecoder().decode(out.stderr));
    const stopped = JSON.parse(stdout);
    assertEquals(stopped.error.code, "interrupted");
    assertGreater(stopped.sent, 0);
    assert(stopped.sent < rows, `interrupted midway (sent ${stopped.sent})`);

    const resumed = await cli(
      dir,
      "upload",
      "big.csv",
      "--resume",
      "--json",
      "--batch-size",
      "2000",
    );
    assertEquals(resumed.code, 0, resumed.stderr);
    const r = parsed(resumed);
    assertEquals(r.rows_skipped as number + (r.uploaded as number), rows);
    const total = parsed(await cli(dir, "customers", "list", "--json", "--limit", "1")).total;
    assertEquals(total, rows);
    const ids = new Set<string>();
    const all = JSON.parse((await cli(dir, "customers", "list", "--all", "--json")).stdout) as {
      rego: string;
    }[];
    for (const c of all) ids.add(c.rego);
    assertEquals(ids.size, rows); // no rego twice
    assertExists(JSON.parse(await Deno.readTextFile(manifestPath)).manifest);
  });
});

Deno.test("cli: the bad rows reported are the first in the file, whatever order they came in", () => {
  const keeper = new BadRowKeeper();
  const bad = (index: number) => ({ index, line: index + 2, issues: [], customer: {} });
  for (let row = 1000; row < 3500; row++) keeper.add(bad(row)); // a later batch, reported first
  keeper.add(bad(5)); // then the earlier batch's bad row
  const kept = keeper.sorted();
  assertEquals(keeper.count, 2501);
  assertEquals(kept.length, 1000);
  assertEquals([kept[0].index, kept[1].index, kept.at(-1)!.index], [5, 1000, 1998]);
});

/**
 * Starts `upload big.csv` (batches of 200, two at a time unless told) and waits until its first
 * three uploads are recorded in the manifest.
 */
async function startBigUpload(
  dir: string,
  rows: number,
  options: { concurrency?: number } = {},
): Promise<Deno.ChildProcess> {
  await Deno.writeTextFile(`${dir}/big.csv`, exportCsv(rows));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, "upload", "big.csv", "--batch-size", "200"]
      .concat(["--concurrency", String(options.concurrency ?? 2), "--no-wait", "--json"]),
    cwd: dir,
    clearEnv: true,
    env: environment(`${dir}/sandbox.kv`),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  for (let i = 0; i < 1500; i++) {
    try {
      const m = JSON.parse(await Deno.readTextFile(`${dir}/big.csv.recapture.json`));
      if (m.manifest.uploads.length >= 3) break;
    } catch { /* not written yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** Every rego stored, and how many customers there are. */
async function storedRegos(dir: string): Promise<{ total: number; distinct: number }> {
  // Every accepted upload processed first, whatever a run left queued (deterministic counts).
  const sandbox = await createSandbox({ path: `${dir}/sandbox.kv` });
  await sandbox.idle();
  await sandbox.close();
  const all = JSON.parse((await cli(dir, "customers", "list", "--all", "--json")).stdout) as {
    rego: string;
  }[];
  return { total: all.length, distinct: new Set(all.map((c) => c.rego)).size };
}

for (const signal of ["SIGTERM", "SIGHUP"] as const) {
  Deno.test(`cli: ${signal} stops as Ctrl-C does; --resume sends no row twice`, async () => {
    await withDir(async (dir) => {
      const rows = 20_000;
      const child = await startBigUpload(dir, rows);
      child.kill(signal);
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 130, stdout + new TextDecoder().decode(out.stderr));
      assert(JSON.parse(stdout).sent < rows, "interrupted midway");
      const resumed = await cli(dir, "upload", "big.csv", "--resume", "--json");
      assertEquals(resumed.code, 0, resumed.stderr);
      assertEquals(await storedRegos(dir), { total: rows, distinct: rows });
    });
  });
}

Deno.test("cli: after kill -9, --resume finds the uploads in flight or refuses, naming them; never sends them blindly", async () => {
  await withDir(async (dir) => {
    const rows = 20_000;
    const child = await startBigUpload(dir, rows);
    child.kill("SIGKILL");
    await child.output();
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/big.csv.recapture.json`));
    // The uploads sent when it was killed are in the manifest, marked in flight.
    const flying = (saved.manifest.in_flight ?? []) as { first_line: number }[];
    // The embedded sandbox died with the CLI: what it had accepted is processed now (a sandbox
    // on the same file finishes the queued work), so that an upload that arrived shows all its
    // customers before --resume looks, whatever the machine's speed.
    const sandbox = await createSandbox({ path: `${dir}/sandbox.kv` });
    await sandbox.idle();
    await sandbox.close();
    let resumed = await cli(dir, "upload", "big.csv", "--resume", "--json");
    if (resumed.code === 2) {
      // Refused: it names the rows and the ways on; nothing was sent. Not in the account once
      // every accepted upload is processed: the kill came before the sandbox stored it, so
      // sending it again is exact.
      const named = (resumed.stdout + resumed.stderr).match(/found in the account: line (\d+)-/);
      assert(flying.some((f) => f.first_line === Number(named?.[1])), resumed.stdout);
      assertStringIncludes(resumed.stdout + resumed.stderr, "--resend-unconfirmed");
      resumed = await cli(dir, "upload", "big.csv", "--resume", "--resend-unconfirmed");
    }
    assertEquals(resumed.code, 0, resumed.stderr);
    assertEquals(await storedRegos(dir), { total: rows, distinct: rows });
  });
});

Deno.test("cli: --resume refuses a file whose rows changed since the first run (same size)", async () => {
  await withDir(async (dir) => {
    const lines = exportCsv(40).split("\r\n");
    await Deno.writeTextFile(`${dir}/list.csv`, lines.join("\r\n"));
    const first = await cli(dir, "upload", "list.csv", "--batch-size", "20", "--no-wait");
    assertEquals(first.code, 0, first.stderr);
    // The manifest as a run killed after its first upload leaves it.
    const path = `${dir}/list.csv.recapture.json`;
    const saved = JSON.parse(await Deno.readTextFile(path));
    saved.manifest.uploads = saved.manifest.uploads.slice(0, 1);
    await Deno.writeTextFile(path, JSON.stringify(saved));
    // Two lines of the same length swapped: rows 10 (sent) and 37 (not sent).
    [lines[11], lines[38]] = [lines[38], lines[11]];
    assertEquals(lines[11].length, lines[38].length);
    await Deno.writeTextFile(`${dir}/list.csv`, lines.join("\r\n"));
    const resumed = await cli(dir, "upload", "list.csv", "--resume");
    assertEquals(resumed.code, 2, resumed.stderr);
    assertStringIncludes(resumed.stderr, "the file changed since the first run");
    assertEquals((await storedRegos(dir)).total, 40);
  });
});
