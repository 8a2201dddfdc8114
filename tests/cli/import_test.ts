// The CLI as a dealer meets it (a subprocess on a sandbox KV file in a temp folder): the column
// report with the --map that fixes each near-miss, --strict-columns, past expiry refused unless
// --allow-past-expiry, warnings, --skip-malformed, no manifest when nothing was sent, a file's
// uploads as one job for status and cancel, and cancel saying whether anything was cancelled.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type Run, runCli } from "./_run.ts";

const FIXTURES = new URL("../fixtures/dealer_exports/", import.meta.url).pathname;

const cli = (dir: string, ...args: string[]): Promise<Run> => runCli(dir, args, { kv: "sb.kv" });
const cliWith = (extra: Record<string, string>, dir: string, ...args: string[]): Promise<Run> =>
  runCli(dir, args, { kv: "sb.kv", env: extra });

function json(run: Run): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "recapture_import_" });
  try {
    for (const name of ["dms_stockbook.csv", "crm_pipe.csv", "ragged_lines.csv"]) {
      await Deno.copyFile(`${FIXTURES}${name}`, `${dir}/${name}`);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli validate: the column report names each near-miss with the --map that fixes it", () =>
  withDir(async (dir) => {
    const run = await cli(dir, "validate", "dms_stockbook.csv", "--json");
    assertEquals(run.code, 0, run.stderr);
    const report = json(run);
    const columns = report.columns as { near_misses: { header: string; map: string }[] };
    assertEquals(columns.near_misses.map((n) => n.map), [
      '--map "St=state"',
      '--map "Mobile Ph=mobile_number"',
      '--map "Delivery=sale_date"',
      '--map "Warranty Expiry=expiry_date"',
    ]);
    assertEquals([report.rows, report.valid, report.bad, report.skipped], [5, 3, 0, 2]);
    const warnings = report.warnings as { line: number; kind: string }[];
    assertEquals(warnings.map((w) => [w.line, w.kind]), [
      [2, "missing_state"],
      [4, "missing_state"],
      [5, "duplicate_row"],
      [6, "footer_row"],
    ]);
    // Text: the same report, in full, before the counts.
    const text = await cli(dir, "validate", "dms_stockbook.csv");
    assertStringIncludes(
      text.stdout,
      'near-miss: looks like the registration state; to use it: --map "St=state"',
    );
    assertStringIncludes(text.stdout, "5 rows, 3 valid, 0 bad, 2 skipped");
    assertStringIncludes(text.stderr, "line 5  duplicate_row");
    // The fix the report names makes the near-misses go away and the state count.
    const fixed = json(
      await cli(
        dir,
        "validate",
        "dms_stockbook.csv",
        "--json",
        "--map",
        "St=state",
        "--map",
        "Delivery=sale_date",
        "--map",
        "Mobile Ph=mobile_number",
      ),
    );
    assertEquals((fixed.columns as { near_misses: unknown[] }).near_misses.length, 1);
    assertEquals((fixed.warnings as { kind: string }[]).map((w) => w.kind), [
      "missing_state",
      "duplicate_row",
      "footer_row",
    ]);
  }));

Deno.test("cli: --strict-columns refuses unmapped headers, naming the --map for each", () =>
  withDir(async (dir) => {
    const run = await cli(dir, "validate", "dms_stockbook.csv", "--strict-columns");
    assertEquals(run.code, 3);
    assertStringIncludes(
      run.stderr,
      '"Stock No", "St", "Mobile Ph", "Delivery", "Warranty Expiry"',
    );
    assertStringIncludes(run.stderr, '--map "Stock No=additional"');
  }));

Deno.test("cli: a past expiry is a bad row unless --allow-past-expiry; hints name flags", () =>
  withDir(async (dir) => {
    const run = await cli(dir, "validate", "crm_pipe.csv", "--json");
    assertEquals(run.code, 4);
    const bad = json(run).bad_rows as {
      line: number;
      issues: { field: string; reason: string }[];
    }[];
    assertEquals(bad.map((b) => [b.line, b.issues[0].field]), [[3, "expiry_date"], [4, "vin"]]);
    // One numbering: a file's rows are named by their physical line only.
    assertEquals(Object.keys(bad[0]).sort(), ["issues", "line"]);
    assertStringIncludes(bad[0].issues[0].reason, "2020-01-01 is today or earlier");
    assertStringIncludes(bad[0].issues[0].reason, "(--allow-past-expiry sends it anyway)");
    const columns = json(run).columns as { mapped: { header: string; caution?: string }[] };
    assertStringIncludes(
      columns.mapped.find((m) => m.header === "Expiry")!.caution!,
      "deleted on this date",
    );
    const allowed = json(
      await cli(dir, "validate", "crm_pipe.csv", "--json", "--allow-past-expiry"),
    );
    assertEquals((allowed.bad_rows as { line: number }[]).map((b) => b.line), [4]);
  }));

Deno.test("cli: --skip-malformed reports ragged lines as bad rows and goes on", () =>
  withDir(async (dir) => {
    const refused = await cli(dir, "validate", "ragged_lines.csv");
    assertEquals(refused.code, 3);
    assertStringIncludes(refused.stderr, "Line 3: 5 fields where the header has 4");
    const run = await cli(dir, "validate", "ragged_lines.csv", "--skip-malformed", "--json");
    assertEquals(run.code, 4);
    const report = json(run);
    assertEquals([report.rows, report.valid, report.bad], [4, 2, 2]);
    assertEquals((report.bad_rows as { line: number }[]).map((b) => b.line), [3, 4]);
  }));

Deno.test("cli: a run that sends nothing (binary file, all bad, wrong key) leaves no manifest", () =>
  withDir(async (dir) => {
    await Deno.writeFile(`${dir}/report.csv`, new TextEncoder().encode("%PDF-1.7\n..."));
    const pdf = await cli(dir, "upload", "report.csv");
    assertEquals(pdf.code, 3);
    assertEquals(pdf.stderr.includes("--resume"), false, pdf.stderr);
    await Deno.writeTextFile(`${dir}/allbad.csv`, "Rego,State\n,NSW\n,VIC\n");
    const bad = await cli(dir, "upload", "allbad.csv", "--json");
    assertEquals(bad.code, 4, bad.stderr);
    assertEquals(json(bad).manifest, null);
    // A wrong key: the first upload is refused (exit 5), nothing was sent, no manifest.
    const { serveSandbox } = await import("../../src/sandbox/serve.ts");
    const served = await serveSandbox({ port: 0, path: ":memory:", quiet: true });
    try {
      const refused = await cliWith(
        { RECAPTURE_API_KEY: "sec_wrong_key", RECAPTURE_BASE_URL: served.url },
        dir,
        "upload",
        "crm_pipe.csv",
      );
      assertEquals(refused.code, 5, refused.stderr);
      assertStringIncludes(refused.stderr, "Invalid API key");
      assertEquals(refused.stderr.includes("--resume"), false, refused.stderr);
      assertEquals(refused.stderr.includes("sec_wrong_key"), false, "the key is never shown");
    } finally {
      await served.shutdown();
    }
    for (const name of ["report.csv", "allbad.csv", "crm_pipe.csv"]) {
      const exists = await Deno.stat(`${dir}/${name}.recapture.json`).then(() => true, () => false);
      assertEquals(exists, false, `${name} has a manifest`);
    }
  }));

Deno.test("cli: a file's uploads are one job for status and cancel; cancel says what happened", () =>
  withDir(async (dir) => {
    const rows = Array.from({ length: 30 }, (_, i) => `JOB${i},NSW,Customer ${i}`);
    await Deno.writeTextFile(`${dir}/job.csv`, "Rego,State,Name\n" + rows.join("\n") + "\n");
    const up = await cli(dir, "upload", "job.csv", "--json", "--batch-size", "10");
    assertEquals(up.code, 0, up.stderr);
    const sent = json(up);
    const jobId = sent.job_id as string;
    assert(jobId.startsWith("job_"));
    assertEquals((sent.upload_ids as string[]).length, 3);
    const status = json(await cli(dir, "status", jobId, "--json"));
    assertEquals(status.job_id, jobId);
    assertEquals(status.upload_ids, sent.upload_ids);
    assertEquals([status.total_uploaded_customers, status.total_processed_customers, status.done], [
      30,
      30,
      true,
    ]);
    // The manifest file names the same job.
    assertEquals(json(await cli(dir, "status", "job.csv.recapture.json", "--json")).job_id, jobId);
    // Every upload had completed (upload waits by default): nothing is cancelled, and it says so.
    const cancel = json(await cli(dir, "cancel", jobId, "--json"));
    assertEquals(cancel.outcome, {
      result: "already_completed",
      cancelled_uploads: 0,
      already_cancelled_uploads: 0,
      completed_uploads: 3,
      not_processed: 0,
    });
    const text = await cli(dir, "cancel", (sent.upload_ids as string[])[0]);
    assertStringIncludes(text.stdout, "Already completed: nothing cancelled");
    const unknown = await cli(dir, "status", "job_0123abcd");
    assertEquals(unknown.code, 3);
    assertStringIncludes(unknown.stderr, "No job job_0123abcd here");
  }));

Deno.test("cli: a file sent before is told before anything is sent; --skip-sent and --resend", () =>
  withDir(async (dir) => {
    const rows = Array.from({ length: 12 }, (_, i) => `DUP${i},NSW,Customer ${i}`);
    await Deno.writeTextFile(`${dir}/first.csv`, "Rego,State,Name\n" + rows.join("\n") + "\n");
    // The same customers in another export (other file name, other header order), plus 3 new.
    const more = [
      ...rows.slice(0, 8).map((r) => r.split(",")).map(([rego, st, n]) => `${n},${rego},${st}`),
      "New 1,NEW1,VIC",
      "New 2,NEW2,VIC",
      "New 3,NEW3,VIC",
    ];
    await Deno.writeTextFile(`${dir}/second.csv`, "Name,Rego,State\n" + more.join("\n") + "\n");
    const first = json(await cli(dir, "upload", "first.csv", "--json"));
    const uploadId = (first.upload_ids as string[])[0];
    const today = new Date().toISOString().slice(0, 10);

    const stopped = await cli(dir, "upload", "second.csv");
    assertEquals(stopped.code, 2, stopped.stderr);
    assertStringIncludes(
      stopped.stderr,
      `8 rows of second.csv were already sent (8 on ${today}, upload ${uploadId};`,
    );
    assertStringIncludes(stopped.stderr, "Nothing was sent: pass --skip-sent");
    assertEquals(await Deno.stat(`${dir}/second.csv.recapture.json`).then(() => 1, () => 0), 0);

    // --check-account finds the same 8 among the account's customers.
    const checked = await cli(dir, "upload", "second.csv", "--check-account");
    assertEquals(checked.code, 2);
    assertStringIncludes(checked.stderr, "found among the account's customers");

    const skipped = json(await cli(dir, "upload", "second.csv", "--skip-sent", "--json"));
    assertEquals([skipped.uploaded, skipped.rows_skipped_with_warning], [3, 8]);
    const kinds = skipped.warnings as { kind: string; line: number }[];
    assertEquals(kinds.filter((w) => w.kind === "already_sent").map((w) => w.line), [
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
    // --resend sends them again, as asked.
    const resent = json(
      await cli(dir, "upload", "second.csv", "--resend", "--restart", "--json"),
    );
    assertEquals(resent.uploaded, 11);
  }));

Deno.test("cli: cancelling a job twice says the second changed nothing, in text and --json", async () => {
  const { serveSandbox } = await import("../../src/sandbox/serve.ts");
  const { SANDBOX_API_KEY } = await import("../../src/sandbox/mod.ts");
  const held = Promise.withResolvers<void>();
  // No chunk is processed until the end: the cancel decides, not a race.
  const served = await serveSandbox({
    port: 0,
    path: ":memory:",
    quiet: true,
    beforeChunk: () => held.promise,
  });
  const env = { RECAPTURE_API_KEY: SANDBOX_API_KEY, RECAPTURE_BASE_URL: served.url };
  try {
    await withDir(async (dir) => {
      const rows = Array.from({ length: 30 }, (_, i) => `TWC${i},NSW,Customer ${i}`);
      await Deno.writeTextFile(`${dir}/job.csv`, "Rego,State,Name\n" + rows.join("\n") + "\n");
      const up = await cliWith(env, dir, "upload", "job.csv", "--no-wait", "--batch-size", "10");
      assertEquals(up.code, 0, up.stderr);
      const jobId = JSON.parse(await Deno.readTextFile(`${dir}/job.csv.recapture.json`))
        .manifest.job_id as string;
      const first = await cliWith(env, dir, "cancel", jobId);
      assertEquals(first.code, 0, first.stderr);
      assertStringIncludes(
        first.stdout,
        "Cancelled 3 of 3 uploads: 30 customers will not be created",
      );
      // The resume hint is a command line the user can run.
      assertStringIncludes(
        first.stdout,
        "Resume with: deno task recapture upload job.csv --resume",
      );
      const again = json(await cliWith(env, dir, "cancel", jobId, "--json"));
      assertEquals(again.outcome, {
        result: "already_cancelled",
        cancelled_uploads: 0,
        already_cancelled_uploads: 3,
        completed_uploads: 0,
        not_processed: 0,
      });
      const text = await cliWith(env, dir, "cancel", jobId);
      assertStringIncludes(text.stdout, "Already cancelled: nothing more to stop");
      assertEquals(text.stdout.includes("will not be created"), false, text.stdout);
      const oneId = (again.upload_ids as string[])[0];
      const one = await cliWith(env, dir, "cancel", oneId);
      assertStringIncludes(one.stdout, "Already cancelled: nothing more to stop");
      const oneJson = json(await cliWith(env, dir, "cancel", oneId, "--json"));
      assertEquals(oneJson.outcome, { result: "already_cancelled", not_processed: 10 });
    });
  } finally {
    held.resolve();
    await served.shutdown();
  }
});

Deno.test("cli: a --map naming no column of the file is refused before anything is sent", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/st.csv`, "Rego,St,Name\nABC123,NSW,Jo\n");
    for (const command of ["validate", "upload"]) {
      // "Stt" is a typo: no column is called so, and St would silently go to additional_fields.
      const typo = await cli(dir, command, "st.csv", "--map", "Stt=state");
      assertEquals(typo.code, 2, `${command}: ${typo.stderr}`);
      assertStringIncludes(typo.stderr, '--map "Stt=state"');
      assertStringIncludes(typo.stderr, "Rego, St, Name");
      const asJson = json(await cli(dir, command, "st.csv", "--map", "Stt=state", "--json"));
      assertEquals((asJson.error as { exit_code: number }).exit_code, 2);
    }
    const exists = await Deno.stat(`${dir}/st.csv.recapture.json`).then(() => true, () => false);
    assertEquals(exists, false, "nothing was sent, so no manifest");
    // Matched ignoring case, spaces and punctuation, as the docs say.
    const ok = await cli(dir, "validate", "st.csv", "--map", "st=state", "--json");
    assertEquals(ok.code, 0, ok.stderr);
  }));

Deno.test("cli: a rego sent with dashes is already sent without them (as the API stores it), older record lines included", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.csv`, "Rego,State\nDUP-42,NSW\n");
    await Deno.writeTextFile(`${dir}/b.csv`, "Rego,State\nDUP42,NSW\n");
    assertEquals((await cli(dir, "upload", "a.csv", "--no-wait")).code, 0);
    const stopped = await cli(dir, "upload", "b.csv", "--no-wait");
    assertEquals(stopped.code, 2, stopped.stderr);
    assertStringIncludes(stopped.stderr, "1 rows of b.csv were already sent");
    // A line an older version wrote (the dashes kept) is read as the fingerprint is made now.
    const record = `${dir}/sent/sandbox_au.tsv`;
    await Deno.writeTextFile(record, "rego:OLD-7|VIC\t2026-01-02\tupl_old\n", { append: true });
    await Deno.writeTextFile(`${dir}/c.csv`, "Rego,State\nOLD7,VIC\n");
    const old = await cli(dir, "upload", "c.csv", "--no-wait");
    assertEquals(old.code, 2, old.stderr);
    assertStringIncludes(old.stderr, "upload upl_old");
  }));
