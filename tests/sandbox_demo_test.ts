/** `deno task demo` in sandbox mode: runs end to end and prints counters that add up. */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { childEnv } from "./_child_env.ts";

Deno.test("demo: without RECAPTURE_API_KEY it runs on an in-process sandbox and adds up", async () => {
  const root = new URL("../", import.meta.url).pathname;
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
