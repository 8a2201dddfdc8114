/**
 * Code mode's escapes: every way out of a script's process is shut, each attempt ends with a
 * clear error, and the server (this process) keeps working. Probes that do not end a run share
 * one script, so the file starts few processes.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { RecaptureClient } from "../../mod.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { createBridge } from "../../mcp/code/_bridge.ts";
import type { BridgePolicy } from "../../mcp/code/_bridge.ts";
import { runScript } from "../../mcp/code/_runner.ts";
import type { ScriptLimits } from "../../mcp/code/_runner.ts";

Deno.test("code mode: escapes are contained", async (t) => {
  const sandbox = await createSandbox({ rateLimit: false });
  const client = new RecaptureClient({
    apiKey: SANDBOX_API_KEY,
    maxRetries: 0,
    fetch: (req: Request) => sandbox.fetch(req),
  });
  const confirmed: string[] = [];
  const policy: BridgePolicy = {
    write: false,
    region: "au",
    confirm: (_plan, method) => {
      confirmed.push(method);
      return Promise.resolve({ go: false, text: "not_confirmed: the user declined" });
    },
  };
  const run = (script: string, limits: Partial<ScriptLimits> = {}, p = policy) =>
    runScript(script, createBridge(client, p), limits);
  /** The server is unharmed: a plain script still runs and its client still works. */
  const healthy = async () => {
    const out = await run("return (await client.customers.list({ limit: 1 })).total;");
    assert(out.ok, out.ok ? "" : out.message);
    assertEquals(typeof out.result, "number");
    assertEquals(({} as Record<string, unknown>).polluted, undefined);
  };
  try {
    await t.step(
      "files, env, Deno.*, KV, fetch, imports, spawning, FFI: each refused",
      async () => {
        const out = await run(`
        // Made at run time: the word itself is refused in a script source.
        // The checkout's folder, as character codes: its path may hold a refused word.
        const cwd = String.fromCharCode(${[...Deno.cwd()].map((c) => c.charCodeAt(0)).join(",")});
        const load = (spec, type) =>
          (0, eval)("imp" + "ort(spec" + (type ? ", { with: { type } })" : ")"));
        // A module made at run time (data: or blob: URL) that reads a file as its dependency.
        const reader = ["imp", "ort t from 'file:///etc/hostname' with { type: 'text' }; exp",
          "ort default t;"].join("");
        const probes = {
          importViaDataModule: () => load("data:text/javascript," + encodeURIComponent(reader)),
          importViaBlobModule: () =>
            load(URL.createObjectURL(new Blob([reader], { type: "text/javascript" }))),
          readFile: () => Deno.readTextFile("/etc/hostname"),
          importFileText: () => load("file:///etc/hostname", "text"),
          importFileJson: () => load("file://" + cwd + "/deno.json", "json"),
          importFileTs: () => load("file://" + cwd + "/mod.ts"),
          importUrl: () => load("https://esm.sh/jose"),
          importNpm: () => load("npm:jose"),
          importJsr: () => load("jsr:@std/path"),
          importNode: () => load("node:fs").then((m) => m.readFileSync("/etc/hostname", "utf8")),
          workerImport: () => new Worker("data:text/javascript,1", { type: "module" }),
          env: () => Deno.env.get("PATH") ?? Deno.env.toObject(),
          sys: () => Deno.hostname(),
          cwdList: () => Array.from(Deno.readDirSync(".")),
          write: () => Deno.writeTextFile("x.txt", "x"),
          openKv: () => (Deno as unknown as { openKv(): Promise<unknown> }).openKv(),
          fetchLoopback: () => fetch("http://127.0.0.1:8080/"),
          fetchRemote: () => fetch("https://example.com/"),
          listen: () => Deno.listen({ port: 0 }),
          spawn: () => new Deno.Command("/bin/sh", { args: ["-c", "id"] }).output(),
          ffi: () => Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } }),
        };
        const out: Record<string, string> = {};
        for (const [name, probe] of Object.entries(probes)) {
          try { await probe(); out[name] = "ESCAPED"; } catch (e) { out[name] = String(e).slice(0, 160); }
        }
        return out;
      `);
        assert(out.ok, out.ok ? "" : out.message);
        const results = out.result as Record<string, string>;
        assertEquals(Object.keys(results).length, 21);
        for (const [probe, result] of Object.entries(results)) {
          assert(result !== "ESCAPED", `${probe} escaped`);
          assertMatch(
            result,
            /NotCapable|Requires|not a function|--no-npm|--no-remote|remote specifier|not defined|not a constructor|Cannot|undefined/,
            `${probe}: ${result}`,
          );
        }
        await healthy();
      },
    );

    await t.step("literal imports, exports and pragmas are refused before the run", async () => {
      for (
        const script of [
          'const t = await import("file:///etc/hostname", { with: { type: "text" } }); return t;',
          'import data from "file:///etc/hostname" with { type: "text" };\nreturn data;',
          '})(client); export * from "file:///etc/hostname"; (async () => {',
          '/// <reference types="file:///etc/hostname" />\nreturn 1;',
          "return import.meta.url;",
        ]
      ) {
        const out = await run(script);
        assert(!out.ok);
        assertEquals(out.code, "forbidden_syntax", script);
        assertMatch(out.message, /scripts cannot import or export anything/);
        assertEquals(out.calls, 0);
      }
    });

    await t.step("localStorage and caches do not persist between runs", async () => {
      const first = await run(`
        localStorage.setItem("k", "secret");
        await (await caches.open("c")).put("https://x.example/", new Response("cached"));
        return localStorage.getItem("k");
      `);
      assert(first.ok && first.result === "secret", "storage works within one run");
      const second = await run(`
        const hit = await (await caches.open("c")).match("https://x.example/");
        return { ls: localStorage.getItem("k"), cache: hit ? await hit.text() : null };
      `);
      assert(second.ok, second.ok ? "" : second.message);
      assertEquals(second.result, { ls: null, cache: null });
    });

    await t.step("an infinite loop is stopped by the wall clock", async () => {
      const out = await run("for (;;) {}", { timeMs: 1500 });
      assert(!out.ok);
      assertEquals(out.code, "time_limit");
      assertMatch(out.message, /ran longer than 1.5 s/);
      await healthy();
    });

    await t.step("a third script at once is refused while two run", async () => {
      const loops = [run("for (;;) {}", { timeMs: 1500 }), run("for (;;) {}", { timeMs: 1500 })];
      const third = await run("return 1;");
      assert(!third.ok);
      assertEquals(third.code, "busy");
      assertMatch(third.message, /2 scripts are already running/);
      for (const loop of await Promise.all(loops)) {
        assertEquals(loop.ok ? "" : loop.code, "time_limit");
      }
      await healthy();
    });

    await t.step("an ArrayBuffer memory bomb hits the OS limit", async () => {
      const out = await run(`
        const keep = [];
        for (let i = 0; i < 8192; i++) { const b = new ArrayBuffer(1 << 20); new Uint8Array(b).fill(1); keep.push(b); }
        return keep.length;
      `);
      assert(!out.ok);
      assertEquals(out.code, "memory_limit", out.message);
      await healthy();
    });

    await t.step("10 MB of output is cut off", async () => {
      const out = await run(
        `const s = "x".repeat(1 << 20); for (let i = 0; i < 10; i++) console.log(s); return 1;`,
      );
      assert(!out.ok);
      assertEquals(out.code, "output_limit");
      await healthy();
    });

    await t.step("a result over the size limit is refused", async () => {
      const out = await run(`return "y".repeat(60000);`);
      assert(!out.ok);
      assertEquals(out.code, "result_limit");
      assertMatch(out.message, /60002 characters; return at most 50000/);
    });

    await t.step("10,000 client calls: stopped at the call limit", async () => {
      const out = await run(
        `
        for (let i = 0; i < 10000; i++) await client.customers.list({ limit: 1 });
        return "all made";
      `,
        { calls: 200 },
      );
      assert(!out.ok);
      assertEquals(out.code, "call_limit");
      assertEquals(out.calls, 201);
      await healthy();
    });

    await t.step("forbidden options and unknown methods are refused per call", async () => {
      const out = await run(`
        const tries = {
          baseUrl: () => client.customers.list({ limit: 1 }, { baseUrl: "http://evil.example" }),
          fetch: () => client.customers.list({ limit: 1 }, { fetch: "x" }),
          headers: () => client.customers.retrieve("cus_1", { headers: { authorization: "x" } }),
          extraParam: () => client.customers.list({ limit: 1, apiKey: "x" }),
          extraArg: () => client.customers.retrieve("cus_1", {}, {}),
          unknown: () => client.uploads.wait("upl_1"),
          forged: () => client.customers.list({ limit: 1e9 }),
        };
        const out = {};
        for (const [k, f] of Object.entries(tries)) {
          try { await f(); out[k] = "WENT THROUGH"; } catch (e) { out[k] = e.name + ": " + e.message; }
        }
        return out;
      `);
      assert(out.ok, out.ok ? "" : out.message);
      const r = out.result as Record<string, string>;
      assertMatch(
        r.baseUrl,
        /^invalid_call: client\.customers\.list argument 2: baseUrl is not allowed/,
      );
      assertMatch(r.fetch, /fetch is not allowed/);
      assertMatch(r.headers, /headers is not allowed/);
      assertMatch(r.extraParam, /apiKey is not allowed/);
      assertMatch(r.extraArg, /^invalid_call/);
      assertMatch(r.unknown, /client.uploads.wait is not a function|unknown_method/);
      assertMatch(r.forged, /^invalid_call: client\.customers\.list argument 1\.limit/);
    });

    await t.step("a prototype-polluting result is dropped", async () => {
      const out = await run(`return JSON.parse('{"a":1,"__proto__":{"polluted":true}}');`);
      assert(out.ok);
      assertEquals(out.result, { a: 1 });
      assertEquals(Object.getPrototypeOf(out.result), Object.prototype);
      await healthy();
    });

    await t.step(
      "writes under the read-only policy, and unconfirmed deletes, are refused",
      async () => {
        const readOnly = await run(`
        try { await client.customers.delete("cus_1"); return "deleted"; } catch (e) { return e.name + ": " + e.message; }
      `);
        assert(readOnly.ok);
        assertMatch(String(readOnly.result), /^read_only: client\.customers\.delete changes data/);
        assertEquals(confirmed, [], "a refused write never reaches the gate");
        const writer = await run(
          `
        try { await client.customers.delete("cus_1"); return "deleted"; } catch (e) { return e.name + ": " + e.message; }
      `,
          {},
          { ...policy, write: true },
        );
        assert(writer.ok);
        assertMatch(String(writer.result), /^not_confirmed: the user declined/);
        assert(
          Array.isArray((await client.customers.list({ limit: 1 })).customers),
          "the client still works",
        );
        assertEquals(confirmed, ["customers.delete"]);
      },
    );

    await t.step("a syntax error names the script's own line", async () => {
      const out = await run("const a = 1;\nconst b = ;\nreturn a;");
      assert(!out.ok);
      assertEquals(out.code, "script_error");
      assertMatch(out.message, /SyntaxError: Expression expected/);
      assertMatch(out.message, /^2 \| const b = ;$/m);
      assert(!out.message.includes("recapture_code_"), "no temp path in the message");
    });
  } finally {
    await sandbox.idle();
    await sandbox.close();
  }
});

Deno.test("code mode: an expiry update of today or earlier runs once the gate confirms, and only then", async () => {
  const sandbox = await createSandbox();
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const upload = await client.uploads.create({
      name: "expiry",
      customers: [{ rego: "EXP1", state: "NSW" }],
    });
    await client.uploads.wait(upload.id);
    const id = (await client.customers.list()).customers[0].id;
    const asked: string[] = [];
    const bridge = (go: boolean) =>
      createBridge(client, {
        write: true,
        region: "au",
        confirm: (_plan, method) => {
          asked.push(method);
          return Promise.resolve(go ? { go, text: "" } : { go, text: "not_confirmed: no" });
        },
      });
    const update = [id, { expiry_date: "2020-01-01" }];
    await assertRejects(() => bridge(false)("customers.update", update));
    assertEquals((await client.customers.list()).total, 1, "declined: the customer stays");
    // Padded, the date is the same date to the API (found in review: it ran unasked).
    for (const padded of [" 2020-01-01", "2020-01-01 ", "\t2020-01-01\n"]) {
      await assertRejects(() => bridge(false)("customers.update", [id, { expiry_date: padded }]));
    }
    assertEquals(asked.length, 4);
    assertEquals((await client.customers.list()).total, 1, "declined: the customer stays");
    asked.length = 0;
    // Confirmed: the SDK's own refusal of a past expiry does not stand in the person's way.
    await bridge(true)("customers.update", update);
    assertEquals(asked, ["customers.update"]);
    assertEquals((await client.customers.list()).total, 0, "deleted on its expiry, as confirmed");
  } finally {
    await sandbox.close();
  }
});
