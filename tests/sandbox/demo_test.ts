/**
 * `deno task demo` in sandbox mode: runs end to end and prints counters that add up, for every
 * region; and the rows it generates fit their region.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { REGIONS, validateCustomers } from "../../mod.ts";
import { generateCustomers } from "../../examples/_customers.ts";
import { childEnv } from "../_child_env.ts";

/** Runs the demo in sandbox mode with `args`; answers what it printed (it must exit 0). */
async function sandboxDemo(args: string[]): Promise<string> {
  const root = new URL("../../", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}deno.json`, `${root}examples/demo.ts`, ...args],
    clearEnv: true,
    env: childEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

/** The number after `label:` in the demo's output. */
function numberAfter(text: string, label: string): number {
  const m = new RegExp(`${label}:\\s+([\\d,]+)`).exec(text);
  assert(m !== null, `no "${label}" in:\n${text}`);
  return Number(m[1].replaceAll(",", ""));
}

/** Checks that the run's counters add up for `count` customers; answers the planted bad rows. */
function assertAddsUp(text: string, count: number): number {
  const shown = count.toLocaleString("en-AU");
  assertStringIncludes(text, `in-process sandbox (no API key set), ${shown} customers`);
  assertEquals(numberAfter(text, "uploaded"), count);
  assertEquals(numberAfter(text, "processed"), count);
  const preflight = /flags ([\d,]+) rows \(([\d,]+) bad rows were planted\)/.exec(text);
  assert(preflight !== null, text);
  const [flagged, planted] = preflight.slice(1).map((n) => Number(n.replaceAll(",", "")));
  assertEquals(flagged, planted, "the pre-flight check flags the planted rows");
  assertEquals(numberAfter(text, "errors"), planted);
  assertEquals(numberAfter(text, "customers now"), count - planted - 1, "one customer deleted");
  return planted;
}

Deno.test("demo: without RECAPTURE_API_KEY it runs on an in-process sandbox and adds up", async () => {
  const text = await sandboxDemo(["--count", "1500"]);
  assertAddsUp(text, 1500);
  assertMatch(text, /Updated cus_\w+: client_name ".+ \(VIP\)", mobile_number cleared \(null\)/);
  // The last act: a simulated listing of that customer's car arrives as an alert.
  assertMatch(
    text,
    /Simulated: \S+ listed on carsales for \$24,990 → 1 tracked customer\(s\) matched/,
  );
  assertMatch(text, /Slack message: .+\(VIP\)'s car .+ is listed on carsales for \$24,990/);
  assertMatch(text, /CRM webhook: +recapture_new evt_\w+, signature verified; customer .+ \(VIP\)/);
});

Deno.test("demo: outside AU the customers it uploads have no state, and the run adds up", async () => {
  for (const region of REGIONS.filter((r) => r !== "au")) {
    const text = await sandboxDemo(["--region", region, "--count", "600"]);
    assert(assertAddsUp(text, 600) > 0, `${region}: some bad rows are planted`);
    // The table of the first customers: id, rego, state, ... (console.table's cells).
    const rows = text.split("\n").filter((line) => line.includes('"cus_'))
      .map((line) => line.split("│").map((cell) => cell.trim()));
    assert(rows.length > 0, `${region}: a table of customers`);
    for (const row of rows) assertEquals(row[4], "null", `${region}: ${row.join(" | ")}`);
    assertMatch(text, /Simulated: \S+ listed on carsales .+→ 1 tracked customer\(s\) matched/);
  }
});

Deno.test("demo data: every planted row is bad in its region, every other row is valid there", () => {
  for (const region of REGIONS) {
    const { customers, bad } = generateCustomers(3000, { badRatio: 0.05, seed: 5, region });
    const flagged = new Set(validateCustomers(customers, { region }).issues.map((i) => i.index));
    assertEquals([...flagged].sort((a, b) => a - b), [...bad].sort((a, b) => a - b), region);
    const withState = customers.filter((c) => c.state !== undefined).length;
    assertEquals(withState > 0, region === "au", `${region}: ${withState} rows with a state`);
  }
});

/** Runs the demo with `args` and `env`; answers the exit code and stderr. */
async function demo(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const root = new URL("../../", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}deno.json`, `${root}examples/demo.ts`, ...args],
    clearEnv: true,
    env: { ...childEnv(), ...env },
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("demo: every user error ends with one clean line and the CLI's exit code", async () => {
  const { serveSandbox } = await import("../../src/sandbox/serve.ts");
  const served = await serveSandbox({ port: 0, path: ":memory:", quiet: true });
  // A port nothing listens on: bound, then closed.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refusedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  try {
    const cases: [string, string[], Record<string, string>, number, RegExp][] = [
      ["unknown flag", ["--bogus"], {}, 2, /Unknown option '--bogus'/],
      ["bad count", ["--count", "x"], {}, 2, /--count must be a positive whole number/],
      ["half an OAuth pair", [], { RECAPTURE_CLIENT_ID: "id_only" }, 2, /RECAPTURE_CLIENT_SECRET/],
      [
        "wrong key",
        ["--count", "2"],
        {
          RECAPTURE_API_KEY: "sec_wrong",
          RECAPTURE_BASE_URL: served.url,
        },
        5,
        /Invalid API key/,
      ],
      [
        "refused connection",
        ["--count", "2"],
        {
          RECAPTURE_API_KEY: "sec_any",
          RECAPTURE_BASE_URL: `http://127.0.0.1:${refusedPort}`,
        },
        6,
        /refused|failed/i,
      ],
    ];
    for (const [what, args, env, code, message] of cases) {
      const run = await demo(args, env);
      assertEquals(run.code, code, `${what}: ${run.stderr}`);
      assertMatch(run.stderr, message);
      const lines = run.stderr.trim().split("\n");
      assertEquals(lines.length, 1, `${what}: one line, got:\n${run.stderr}`);
      assertEquals(/^\s+at /m.test(run.stderr), false, `${what}: a stack trace`);
      assertStringIncludes(lines[0], "error: ");
    }
  } finally {
    await served.shutdown();
  }
});
