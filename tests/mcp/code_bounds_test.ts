/**
 * Code mode's results stay bounded whatever a script throws or logs, and say what was cut
 * (through the real MCP client, as an agent sees them).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { connect, textOf } from "./_fixture.ts";
import { LOG_LIMITS, MAX_ERROR_CHARS } from "../../mcp/code/_runner.ts";

Deno.test("code mode: a thrown error's name and message are cut, and so are 30,000 empty logs", async () => {
  const h = await connect({ server: { toolsets: ["code"] } });
  try {
    const size = (r: unknown) => JSON.stringify(r).length;
    const logs = await h.call("recapture_run_script", {
      script: `for (let i = 0; i < 30000; i++) console.log(""); return 1;`,
    });
    assertEquals(logs.isError, undefined, textOf(logs));
    const kept = (logs.structuredContent as { logs: string[] }).logs;
    assertEquals(kept.length, LOG_LIMITS.entries + 1, "the entries kept, then the note");
    assertMatch(kept.at(-1)!, /^\[logs cut: 29800 more entries and 0 more characters/);
    assert(size(logs) < 10_000, `${size(logs)} characters`);

    const message = await h.call("recapture_run_script", {
      script: `throw new Error("x".repeat(3000000));`,
    });
    assertEquals(message.isError, true);
    assertMatch(textOf(message), /more characters cut\)/);
    assert(size(message) < 3 * MAX_ERROR_CHARS, `${size(message)} characters`);

    const name = await h.call("recapture_run_script", {
      script: `const e = new Error("m"); e.name = "N".repeat(3000000); throw e;`,
    });
    assertEquals(name.isError, true);
    assertMatch(
      textOf(name),
      /^script_error: the script threw N+\.\.\. \(2998000 more characters cut\): m/,
    );
    assert(size(name) < 3 * MAX_ERROR_CHARS, `${size(name)} characters`);
  } finally {
    await h.close();
  }
});
