/** `deno task demo` in sandbox mode: runs end to end and prints counters that add up. */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { childEnv } from "../_child_env.ts";

Deno.test("demo: without RECAPTURE_API_KEY it runs on an in-process sandbox and adds up", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      `${root}deno.json`,
      `${root}examples/demo.ts`,
      "--count",
      "1500",
    ],
    clearEnv: true,
    env: childEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  assertStringIncludes(text, "in-process sandbox (no API key set), 1,500 customers");
  const num = (label: string) => {
    const m = new RegExp(`${label}:\\s+([\\d,]+)`).exec(text);
    return Number(m![1].replaceAll(",", ""));
  };
  assertEquals(num("uploaded"), 1500);
  assertEquals(num("processed"), 1500);
  const planted = Number(/\(([\d,]+) bad rows were planted\)/.exec(text)![1].replaceAll(",", ""));
  assertEquals(num("errors"), planted);
  assertEquals(num("customers now"), 1500 - planted - 1, "one customer deleted");
  assertMatch(text, /Updated cus_\w+: client_name ".+ \(VIP\)", mobile_number cleared \(null\)/);
  // The last act: a simulated listing of that customer's car arrives as an alert.
  assertMatch(
    text,
    /Simulated: \S+ listed on carsales for \$24,990 → 1 tracked customer\(s\) matched/,
  );
  assertMatch(text, /Slack message: .+\(VIP\)'s car .+ is listed on carsales for \$24,990/);
  assertMatch(text, /CRM webhook: +recapture_new evt_\w+, signature verified; customer .+ \(VIP\)/);
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
