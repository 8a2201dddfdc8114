/**
 * `deno task setup`: installs every tool the test suite needs (the table in `mod.ts`), so that
 * `deno task test` installs nothing. Idempotent: a tool already installed at its pinned version is
 * left alone. Needs `npm` (and `apt-get`, as root, for Debian packages).
 *
 * @module
 */
import { APT_PACKAGES, NPM_TOOLS, TOOLS_DIR } from "./mod.ts";

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "inherit", stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code})`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

for (const [name, tool] of Object.entries(NPM_TOOLS)) {
  const dir = `${TOOLS_DIR}/${name}`;
  const stamp = `${dir}/.installed`;
  const want = tool.packages.join(" ");
  if (exists(stamp) && Deno.readTextFileSync(stamp) === want && exists(`${dir}/${tool.marker}`)) {
    console.log(`setup: ${name} ok (${want})`);
    continue;
  }
  console.log(`setup: installing ${name} (${want})`);
  await Deno.mkdir(dir, { recursive: true });
  await run("npm", [
    "install",
    "--prefix",
    dir,
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    ...tool.packages,
  ]);
  await Deno.writeTextFile(stamp, want);
}

const missing: string[] = [];
for (const pkg of APT_PACKAGES) {
  const out = await new Deno.Command("dpkg-query", { args: ["-W", "-f=${Status}", pkg] }).output()
    .catch(() => undefined);
  const status = out ? new TextDecoder().decode(out.stdout) : "";
  if (!status.includes("install ok installed")) missing.push(pkg);
}
if (missing.length > 0) {
  console.log(`setup: apt-get install ${missing.join(" ")}`);
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing]);
} else if (APT_PACKAGES.length > 0) {
  console.log(`setup: apt packages ok (${APT_PACKAGES.join(" ")})`);
}
console.log("setup: done");
