// The command line in-process: `main` with injected output, environment and working directory
// (the subprocess tests in cli_test.ts run the same code as users do). Every command is checked
// against the command table: a flag it does not take, a missing or extra argument.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type Io, main } from "../../src/cli/mod.ts";
import { COMMANDS, type FlagName, FLAGS, GLOBAL_FLAGS } from "../../src/cli/_commands.ts";

/** Output captured, for one run. */
function captured(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
    tty: false,
    columns: () => 100,
  };
  return io;
}

async function run(dir: string, ...args: string[]) {
  const io = captured();
  const code = await main(args, {
    io,
    env: { RECAPTURE_SANDBOX_PATH: `${dir}/sandbox.kv` },
    cwd: dir,
  });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** A value for a flag, so that only the check under test can refuse it. */
function given(flag: FlagName): string[] {
  return FLAGS[flag].type === "boolean" ? [`--${flag}`] : [`--${flag}`, "1"];
}

Deno.test("main in-process: every command refuses a flag it does not take and a wrong argument count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const command of COMMANDS) {
      const words = command.name.split(" ");
      const argument = command.argument === undefined ? [] : ["x1"];
      const stranger = (Object.keys(FLAGS) as FlagName[]).find((f) =>
        !GLOBAL_FLAGS.includes(f) && !command.flags.includes(f)
      )!;
      let r = await run(dir, ...words, ...argument, ...given(stranger));
      assertEquals(r.code, 2, `${command.name} --${stranger}: ${r.stderr}`);
      assertStringIncludes(r.stderr, `--${stranger} does not apply to ${command.name}`);
      r = await run(dir, ...words, ...argument, "extra");
      assertEquals(r.code, 2, `${command.name} extra: ${r.stderr}`);
      assertStringIncludes(r.stderr, `${command.name}: unexpected "extra"`);
      if (command.argument !== undefined) {
        r = await run(dir, ...words);
        assertEquals(r.code, 2, `${command.name} without its argument: ${r.stderr}`);
        assertStringIncludes(r.stderr, `${command.name} wants ${command.wants}`);
      }
    }
    for (const group of ["customers", "webhooks"]) {
      const r = await run(dir, group, "fly", "--json");
      assertEquals(r.code, 2);
      const error = JSON.parse(r.stdout).error;
      assertEquals([error.code, error.exit_code], ["usage", 2]);
      assertStringIncludes(error.message, `${group} wants `);
      assertStringIncludes(error.message, 'not "fly"');
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main in-process: help lists every command and flag of the table; file arguments are read from INIT_CWD", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const help = await run(dir, "help");
    assertEquals(help.code, 0);
    for (const command of COMMANDS) assertStringIncludes(help.stdout, `  ${command.name}`);
    for (const flag of Object.keys(FLAGS)) assertStringIncludes(help.stdout, `--${flag}`);
    assertEquals((await run(dir)).code, 2); // no command: the help, as a usage error
    // `deno task` runs in the project's directory and says where the command was typed.
    await Deno.mkdir(`${dir}/typed`);
    await Deno.writeTextFile(`${dir}/typed/list.csv`, "Rego,State\nABC1,NSW\n,NSW\n");
    const io = captured();
    const code = await main(["validate", "list.csv", "--json"], {
      io,
      env: { INIT_CWD: `${dir}/typed` },
      cwd: dir,
    });
    assertEquals(code, 4, io.stdout + io.stderr);
    const report = JSON.parse(io.stdout);
    assertEquals([report.rows, report.valid], [2, 1]);
    assert(!(await exists(`${dir}/typed/.recapture`)), "the sandbox belongs to the project");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
