/**
 * The quick start and CSV examples run as users run them (`deno run -A examples/<file>.ts`),
 * without `RECAPTURE_API_KEY`, so against the in-process sandbox; their output shows the work
 * was done.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";

const ROOT = new URL("..", import.meta.url).pathname;

async function runExample(file: string, args: string[] = []): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `examples/${file}`, ...args],
    cwd: ROOT,
    env: { RECAPTURE_API_KEY: "", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, `examples/${file} exited ${out.code}:\n${stdout}\n${stderr}`);
  return stdout;
}

Deno.test("examples/quickstart.ts uploads, waits, lists, updates and cleans up on the sandbox", async () => {
  const out = await runExample("quickstart.ts");
  assertStringIncludes(out, "talking to the in-process sandbox");
  assertMatch(out, /upload upl_\w+: 2 customers queued/);
  assertStringIncludes(out, "processed 2/2");
  assertMatch(out, /upload upl_\w+: completed, 0 errors/);
  assertMatch(out, /cus_\w+ {2}ABC123 {2}Olivia Smith\n/);
  assertMatch(out, /cus_\w+ {2}1HGCM82633A004352 {2}Jack Nguyen\n/);
  assertMatch(out, /updated cus_\w+: Olivia Smith-Jones, mobile null/);
  assertStringIncludes(out, "deleted 2 customers");
});

Deno.test("examples/upload_csv.ts streams the sample CSV, reports bad lines, uploads the rest", async () => {
  const out = await runExample("upload_csv.ts", ["--batch", "15"]);
  const csv = await Deno.readTextFile(`${ROOT}examples/data/customers.csv`);
  const rows = csv.trim().split("\n").length - 1;
  assertStringIncludes(out, `done       read ${rows}, bad 4, sent ${rows - 4} in 3 upload(s)`);
  assertStringIncludes(out, `processed ${rows - 4} (0 errors)`);
  const bad = out.split("\n").filter((l) => l.includes("not sent:")).map((l) => l.trim());
  assertEquals(bad.map((l) => l.split(" not sent")[0]), [
    "line 9",
    "line 18",
    "line 30",
    "line 34",
  ]);
  assertStringIncludes(bad[0], "rego|vin");
  assertStringIncludes(bad[1], "state");
  assertStringIncludes(bad[2], "vin: must be 17 characters");
  assertStringIncludes(bad[3], "Sale Date");
  const uploads = out.split("\n").filter((l) => /^ {2}upload upl_\w+: rows \d+-\d+/.test(l));
  assertEquals(uploads.length, 3);
});
