/**
 * `openClient`: the real API with `RECAPTURE_API_KEY`, else an in-process sandbox on a KV file;
 * the sandbox's file is found by the same rule as `deno task sandbox` (flag, else
 * `RECAPTURE_SANDBOX_PATH`, else `.recapture/sandbox.kv`).
 */
import { assertEquals, assertExists, assertRejects } from "@std/assert";
import { DEFAULT_SANDBOX_PATH, openClient, sandboxPath } from "../../src/config/mod.ts";
import {
  createSandbox,
  SANDBOX_API_KEY,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
} from "../../src/sandbox/mod.ts";

Deno.test("openClient: without a key, an in-process sandbox on a KV file that survives reopening", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/sandbox.kv`;
  try {
    const first = await openClient({ path, env: {}, region: "nz" });
    assertEquals(first.mode, "sandbox");
    assertExists(first.sandbox);
    const up = await first.client.uploads.create({ name: "kept", customers: [{ rego: "KIWI1" }] });
    await first.sandbox.idle();
    await first.close();
    const second = await openClient({ path, env: { RECAPTURE_API_KEY: "  " }, region: "nz" });
    try {
      assertEquals(second.mode, "sandbox", "a blank key counts as unset");
      const page = await second.client.customers.list({ upload_id: up.id });
      assertEquals(page.customers.map((c) => c.rego), ["KIWI1"]);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openClient: with RECAPTURE_API_KEY, a client of the real API (no sandbox opened)", async () => {
  const opened = await openClient({
    env: { RECAPTURE_API_KEY: "sec_live_example", RECAPTURE_BASE_URL: "http://127.0.0.1:9" },
  });
  assertEquals(opened.mode, "api");
  assertEquals(opened.sandbox, undefined);
  await opened.close();
});

Deno.test("sandboxPath: a flag wins over RECAPTURE_SANDBOX_PATH, which wins over the default", () => {
  const env = { RECAPTURE_SANDBOX_PATH: "/data/shared.kv" };
  assertEquals(sandboxPath("mine.kv", env), "mine.kv");
  assertEquals(sandboxPath(undefined, env), "/data/shared.kv");
  assertEquals(sandboxPath(undefined, {}), DEFAULT_SANDBOX_PATH);
  assertEquals(sandboxPath(undefined, { RECAPTURE_SANDBOX_PATH: "" }), DEFAULT_SANDBOX_PATH);
  assertEquals(sandboxPath("", env), "/data/shared.kv", "an empty flag counts as unset");
});

Deno.test("RECAPTURE_SANDBOX_PATH: openClient and `deno task sandbox` (serve.ts) see the same data; --path wins", async () => {
  const dir = await Deno.makeTempDir();
  const shared = `${dir}/shared/sandbox.kv`;
  try {
    const opened = await openClient({ env: { RECAPTURE_SANDBOX_PATH: shared } });
    const up = await opened.client.uploads.create({
      name: "shared",
      customers: [{ rego: "ENV1" }],
    });
    await opened.sandbox!.idle();
    await opened.close();
    await Deno.stat(shared); // the file named by the variable, not .recapture/sandbox.kv

    const other = `${dir}/other.kv`;
    for (const [flags, expected] of [[[], shared], [["--path", other], other]] as const) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          new URL("../../deno.json", import.meta.url).pathname,
          new URL("../../src/sandbox/serve.ts", import.meta.url).pathname,
          "--port",
          "0",
          ...flags,
        ],
        cwd: dir,
        env: { NO_COLOR: "1", RECAPTURE_SANDBOX_PATH: shared },
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      try {
        while (!/Development API key/.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the sandbox exited: ${text}`);
          text += value;
        }
        assertEquals(/Data: (.*)/.exec(text)?.[1], expected);
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)![1];
        const page = await fetch(`${url}/v2/recapture/customers?region=au`, {
          headers: { ApiKey: SANDBOX_API_KEY },
        });
        const body = await page.json();
        assertEquals(
          body.customers.map((c: { rego: string; upload_id: string }) => [c.rego, c.upload_id]),
          expected === shared ? [["ENV1", up.id]] : [],
        );
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await reader.cancel().catch(() => {});
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openClient: OAuth credentials and RECAPTURE_REGION from the environment, over real HTTP", async () => {
  const sandbox = await createSandbox();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, sandbox.fetch);
  try {
    const opened = await openClient({
      env: {
        RECAPTURE_CLIENT_ID: SANDBOX_CLIENT_ID,
        RECAPTURE_CLIENT_SECRET: SANDBOX_CLIENT_SECRET,
        RECAPTURE_BASE_URL: `http://127.0.0.1:${server.addr.port}`,
        RECAPTURE_REGION: "NZ",
      },
    });
    assertEquals([opened.mode, opened.client.region], ["api", "nz"]);
    const upload = await opened.client.uploads.create({
      name: "oauth",
      customers: [{ rego: "K1" }],
    });
    assertEquals(upload.region, "nz");
    await opened.close();
  } finally {
    await server.shutdown();
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("openClient: conflicting or half-set credentials and a bad region are refused by name", async () => {
  await assertRejects(
    () => openClient({ env: { RECAPTURE_API_KEY: "k", RECAPTURE_CLIENT_ID: "id" } }),
    TypeError,
    "not both",
  );
  await assertRejects(
    () => openClient({ env: { RECAPTURE_CLIENT_ID: "id" } }),
    TypeError,
    "RECAPTURE_CLIENT_SECRET is not set",
  );
  const error = await assertRejects(
    () => openClient({ env: { RECAPTURE_REGION: "us" }, path: ":memory:" }),
    TypeError,
    'RECAPTURE_REGION must be one of au, nz, uk, my, got "us"',
  );
  assertEquals(String(error).includes("secret"), false);
});
