/**
 * Waiting for a big job (issue 18): how much the CLI's wait adds to the time the sandbox takes to
 * process a file. One run of `deno task recapture upload <file> --json` with default flags (the
 * CLI's shipped V8 flags, the local sandbox on a temporary KV file) on a generated N-row CSV
 * (bench/import_bench.ts's generator). Printed: the time from spawning the CLI to its exit, the
 * time from spawning to the sandbox's last processing write (the latest `updated_at` of the job's
 * uploads, read back from the KV file afterwards) and their ratio (goal at 1M rows: ≤ 1.1).
 *
 * Not part of the test suite; run it once (the machine is shared):
 *   deno run -A bench/job_wait.ts            # 1,000,000 rows
 *   deno run -A bench/job_wait.ts 100000
 *
 * @module
 */
import { generateCsv } from "./import_bench.ts";
import { openClient } from "../src/config/mod.ts";

const ROWS = Number(Deno.args[0] ?? 1_000_000);
const V8_FLAGS = "--max-old-space-size=256"; // as `deno task recapture` (deno.json)

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "recapture_job_wait_" });
  try {
    const csv = `${dir}/customers.csv`;
    const kv = `${dir}/sandbox.kv`;
    await generateCsv(csv, ROWS);
    const cli = new URL("../src/cli/mod.ts", import.meta.url).pathname;
    const started = Date.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--v8-flags=${V8_FLAGS}`, cli, "upload", csv, "--json"],
      // The local sandbox, whatever this shell's RECAPTURE_* settings say.
      env: {
        ...Object.fromEntries(
          Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("RECAPTURE_")),
        ),
        RECAPTURE_SANDBOX_PATH: kv,
      },
      clearEnv: true,
      cwd: dir,
      stderr: "null",
    }).output();
    const returned = Date.now();
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    if (!out.success && out.code !== 4) {
      throw new Error(`the CLI exited with ${out.code}: ${JSON.stringify(result)}`);
    }
    const opened = await openClient({ path: kv, env: {} });
    let processedAt = 0;
    let uploads = 0;
    try {
      for (const id of result.upload_ids as string[]) {
        const u = await opened.client.uploads.retrieve(id);
        processedAt = Math.max(processedAt, Date.parse(u.updated_at!));
        uploads++;
      }
    } finally {
      await opened.close();
    }
    const cliS = (returned - started) / 1000;
    const processedS = (processedAt - started) / 1000;
    console.log(
      `${ROWS.toLocaleString("en")} rows, ${uploads} uploads, default flags (exit ${out.code})`,
    );
    console.log(`CLI returned after          ${cliS.toFixed(1)} s`);
    console.log(`last upload processed after ${processedS.toFixed(1)} s`);
    console.log(`ratio ${(cliS / processedS).toFixed(3)} (goal ≤ 1.1)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
