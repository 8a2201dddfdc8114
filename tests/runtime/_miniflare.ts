/**
 * Miniflare (real workerd) for the test suites, installed from npm on first use into a tool
 * directory under `.recapture/` (CI installs it itself; nothing is added to the project).
 *
 * @module
 */

/** Pinned: the last miniflare 4.x whose engines allow Node 20. */
export const MINIFLARE_VERSION = "4.20260426.0";

/** Where miniflare is installed (shared with the edge adapter's workerd suite). */
export const MINIFLARE_DIR: string = new URL("../../.recapture/workerd-tools", import.meta.url)
  .pathname;

/** Installs the pinned miniflare into {@linkcode MINIFLARE_DIR} unless it is there already. */
export async function ensureMiniflare(): Promise<string> {
  try {
    const pkg = JSON.parse(
      await Deno.readTextFile(`${MINIFLARE_DIR}/node_modules/miniflare/package.json`),
    );
    if (pkg.version === MINIFLARE_VERSION) return MINIFLARE_DIR;
  } catch {
    // not installed yet
  }
  await Deno.mkdir(MINIFLARE_DIR, { recursive: true });
  const out = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      MINIFLARE_DIR,
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `miniflare@${MINIFLARE_VERSION}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`npm install miniflare@${MINIFLARE_VERSION} failed (${out.code}):\n${err}`);
  }
  return MINIFLARE_DIR;
}
