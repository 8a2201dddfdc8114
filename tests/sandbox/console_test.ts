/**
 * The sandbox console's access rules over raw TCP (a browser would not let a test forge `Host`,
 * `Origin` or `Sec-Fetch-Site`): the Host allowlist against DNS rebinding (on the API too),
 * cross-site form posts,
 * the admin token beyond loopback (through an injected address check: the server still binds
 * 127.0.0.1), no secret in any page, and the console off unless asked for.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { type ServedSandbox, serveSandbox } from "../../src/sandbox/serve.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { hostAllowlist } from "../../src/sandbox/_host_check.ts";

interface Raw {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** One HTTP/1.1 request over a fresh socket, with exactly the headers given. */
async function raw(
  served: ServedSandbox,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<Raw> {
  const port = Number(new URL(served.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const all: Record<string, string> = { Host: `127.0.0.1:${port}`, ...headers };
  const bytes = new TextEncoder().encode(body);
  let head = `${method} ${path} HTTP/1.1\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(all)) head += `${k}: ${v}\r\n`;
  if (method === "POST") head += `Content-Length: ${bytes.length}\r\n`;
  await conn.write(new TextEncoder().encode(`${head}\r\n`));
  if (bytes.length > 0) await conn.write(bytes);
  let text = "";
  for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) text += chunk;
  const [top, ...rest] = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
  const map = new Map<string, string>();
  for (const line of rest) {
    const i = line.indexOf(":");
    map.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return {
    status: Number(top.split(" ")[1]),
    headers: map,
    body: text.slice(text.indexOf("\r\n\r\n") + 4),
  };
}

function originOf(served: ServedSandbox): string {
  return served.url;
}

function csrfOf(html: string): string {
  const m = html.match(/name="csrf" value="([0-9a-f]+)"/);
  assert(m, "the page has a form token");
  return m[1];
}

const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

async function api(served: ServedSandbox, method: string, path: string, body?: unknown) {
  const response = await fetch(`${served.url}${path}`, {
    method,
    headers: { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await response.json();
}

Deno.test("console: a foreign Host is refused, loopback names and operator additions are served", async () => {
  const served = await serveSandbox({
    port: 0,
    path: ":memory:",
    quiet: true,
    console: { allowedHosts: ["sandbox.lan"] },
  });
  const port = new URL(served.url).port;
  try {
    for (
      const host of [
        "evil.example",
        "127.0.0.1.evil.example",
        "localhost.evil",
        "0.0.0.0",
        "",
        // Not a host at all: userinfo, and a path, query or fragment (Deno puts a Host's bytes
        // into Request.url, so `localhost/x` would move the path).
        "evil.example@localhost",
        "localhost/console",
        "localhost?x",
        "localhost#x",
        "localhost\\x",
      ]
    ) {
      const answer = await raw(served, "GET", "/console/uploads", { Host: host });
      assertEquals(answer.status, 403, `Host "${host}"`);
      assert(!answer.body.includes("<table"), "nothing of the console is shown");
    }
    // Every console path, the script and the live stream included.
    for (const path of ["/console", "/console/app.js", "/console/events/uploads"]) {
      assertEquals((await raw(served, "GET", path, { Host: `evil.example:${port}` })).status, 403);
    }
    for (
      const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        `[::1]:${port}`,
        "LOCALHOST",
        "sandbox.lan:80",
      ]
    ) {
      assertEquals(
        (await raw(served, "GET", "/console/uploads", { Host: host })).status,
        200,
        host,
      );
    }
  } finally {
    await served.shutdown();
  }
});

Deno.test("served sandbox: a foreign Host is refused on the API too (DNS rebinding), console on or off", async () => {
  for (const console of [true, false]) {
    const served = await serveSandbox({
      port: 0,
      path: ":memory:",
      quiet: true,
      console,
      allowedHosts: ["sandbox.lan"],
    });
    const port = new URL(served.url).port;
    const key = { ApiKey: SANDBOX_API_KEY };
    try {
      await api(served, "POST", "/v2/recapture/upload?region=au", {
        name: "one",
        customers: [{ rego: "ABC123", state: "NSW", client_name: "Jo" }],
      });
      await served.sandbox.idle();
      const requests: [string, string, Record<string, string>][] = [
        ["GET", "/v2/recapture/customers?region=au", key],
        ["GET", "/v2/webhooks?region=au", key],
        ["POST", "/auth-broker/request-token", {}],
        ["GET", "/no/such/path", key],
      ];
      for (const [method, path, headers] of requests) {
        for (
          const host of [`evil.example:${port}`, "127.0.0.1.evil.example", "0.0.0.0", "", "a b"]
        ) {
          const answer = await raw(served, method, path, { ...headers, Host: host });
          assertEquals(answer.status, 403, `${method} ${path} with Host "${host}"`);
          assertMatch(answer.body, /This Host is not allowed for the sandbox/);
          assert(!answer.body.includes("ABC123"), "nothing of the data is shown");
        }
      }
      for (
        const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "SANDBOX.LAN"]
      ) {
        const answer = await raw(served, "GET", "/v2/recapture/customers?region=au", {
          ...key,
          Host: host,
        });
        assertEquals(answer.status, 200, host);
        assertMatch(answer.body, /ABC123/);
      }
    } finally {
      await served.shutdown();
    }
  }
});

Deno.test("console: cross-site form posts are refused before any effect", async () => {
  const served = await serveSandbox({ port: 0, path: ":memory:", quiet: true, console: true });
  try {
    const page = await raw(served, "GET", "/console/uploads");
    const csrf = csrfOf(
      (await raw(served, "GET", "/console/alerts")).body,
    );
    assertEquals(page.status, 200);
    const { upload } = await api(served, "POST", "/v2/recapture/upload?region=au", {
      name: "held",
      customers: [{ rego: "ABC123", state: "NSW" }],
    });
    const path = `/console/uploads/${upload.id}/cancel`;
    const own = originOf(served);
    const refused: [string, Record<string, string>, string][] = [
      ["no Origin", {}, `csrf=${csrf}`],
      ["a foreign Origin", { Origin: "https://evil.example" }, `csrf=${csrf}`],
      ["Origin null", { Origin: "null" }, `csrf=${csrf}`],
      ["a cross-site fetch", { Origin: own, "Sec-Fetch-Site": "cross-site" }, `csrf=${csrf}`],
      ["a same-site fetch", { Origin: own, "Sec-Fetch-Site": "same-site" }, `csrf=${csrf}`],
      ["no form token", { Origin: own }, ""],
      ["a wrong form token", { Origin: own }, `csrf=${"0".repeat(32)}`],
    ];
    for (const [what, headers, body] of refused) {
      const answer = await raw(served, "POST", path, { ...FORM, ...headers }, body);
      assertEquals(answer.status, 403, what);
    }
    const simulated = await raw(
      served,
      "POST",
      "/console/alerts/simulate",
      { ...FORM, Origin: "https://evil.example" },
      `csrf=${csrf}&event=listed&rego=ABC123&state=NSW&marketplace=x&price=1`,
    );
    assertEquals(simulated.status, 403);
    await served.sandbox.idle();
    const after = await api(served, "GET", `/v2/recapture/upload/${upload.id}?region=au`);
    assertEquals(after.upload.status, "completed", "no refused post cancelled it");
    const customers = await api(served, "GET", "/v2/recapture/customers?region=au");
    assertEquals(customers.customers[0].sightings, [], "no refused post simulated a listing");

    // Bad form values come back in the API's words, on the page, with nothing done.
    const own2 = { ...FORM, Origin: own };
    for (
      const [body, message] of [
        ["event=listed&region=au&marketplace=carsales&price=5", "rego or vin is required"],
        ["event=listed&region=au&rego=ABC123&marketplace=x&price=abc", "price must be a number"],
        ["event=sold&region=au&rego=ABC123&marketplace=x&price=1", "event must be one of"],
        ["event=listed&region=xx&rego=ABC123&marketplace=x&price=1", "Invalid region"],
      ]
    ) {
      const answer = await raw(
        served,
        "POST",
        "/console/alerts/simulate",
        own2,
        `csrf=${csrf}&${body}`,
      );
      assertEquals(answer.status, 400, body);
      assert(answer.body.includes(`Not simulated: ${message}`), `${body}: ${message}`);
    }
    const huge = await raw(served, "POST", path, own2, `csrf=${csrf}&x=${"a".repeat(20_000)}`);
    assertEquals(huge.status, 413);
    assertEquals((await raw(served, "PUT", path, own2)).status, 405);
    assertEquals(
      (await api(served, "GET", `/v2/recapture/upload/${upload.id}?region=au`)).upload.status,
      "completed",
    );

    // The same post from the console itself is served.
    const ok = await raw(
      served,
      "POST",
      "/console/alerts/simulate",
      { ...FORM, Origin: own, "Sec-Fetch-Site": "same-origin" },
      `csrf=${csrf}&event=listed&region=au&rego=ABC123&state=NSW&marketplace=carsales&price=1000`,
    );
    assertEquals(ok.status, 303);
    assertEquals(
      ok.headers.get("location"),
      "/console/alerts?simulated=recapture_new&matched=1&pushes=0",
    );
  } finally {
    await served.shutdown();
  }
});

Deno.test("console: beyond loopback it asks for the admin token, kept in a 0600 file", async () => {
  const dir = await Deno.makeTempDir();
  const tokenFile = `${dir}/console-token`;
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  let served: ServedSandbox;
  try {
    served = await serveSandbox({
      port: 0,
      path: ":memory:",
      console: { tokenFile, isLoopback: () => false },
    });
  } finally {
    console.log = log;
  }
  try {
    const token = (await Deno.readTextFile(tokenFile)).trim();
    assertMatch(token, /^[0-9a-f]{48}$/);
    assertEquals((await Deno.stat(tokenFile)).mode! & 0o777, 0o600);
    const printed = lines.join("\n");
    assert(printed.includes(tokenFile), "the token file's path is printed");
    assert(!printed.includes(token), "the token itself is never printed");

    for (const path of ["/console/uploads", "/console/customers", "/console/events/uploads"]) {
      const answer = await raw(served, "GET", path);
      assertEquals(answer.status, 401, path);
      assert(answer.body.includes("Admin token"), "the sign-in form is shown");
    }
    const csrf = csrfOf((await raw(served, "GET", "/console/login")).body);
    const own = originOf(served);
    const wrong = await raw(
      served,
      "POST",
      "/console/login",
      { ...FORM, Origin: own },
      `csrf=${csrf}&token=nope`,
    );
    assertEquals(wrong.status, 401);
    assertEquals(wrong.headers.get("set-cookie"), undefined);
    const signIn = await raw(
      served,
      "POST",
      "/console/login",
      { ...FORM, Origin: own },
      `csrf=${csrf}&token=${token}%0A`, // pasted with the file's newline
    );
    assertEquals(signIn.status, 303);
    for (const asset of ["/console/app.css", "/console/app.js"]) {
      assertEquals((await raw(served, "GET", asset)).status, 200, `${asset} before signing in`);
    }
    const cookie = signIn.headers.get("set-cookie") ?? "";
    assertMatch(cookie, /HttpOnly/);
    assertMatch(cookie, /SameSite=Strict/);
    const page = await raw(served, "GET", "/console/uploads", { Cookie: cookie.split(";")[0] });
    assertEquals(page.status, 200);
    assert(!page.body.includes(token), "the token is not in the page");
    assertEquals(
      (await raw(served, "GET", "/console/uploads", {
        Cookie: "recapture_console=" + "0".repeat(48),
      }))
        .status,
      401,
    );
  } finally {
    await served.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
  // A loopback client of a loopback server needs no token, and no token file is written.
  const local = await serveSandbox({ port: 0, path: ":memory:", quiet: true, console: true });
  try {
    assertEquals(local.tokenFile, undefined);
    assertEquals((await raw(local, "GET", "/console/uploads")).status, 200);
  } finally {
    await local.shutdown();
  }
});

Deno.test("console: no page shows the API key, a webhook token or the admin token", async () => {
  const dir = await Deno.makeTempDir();
  const hook = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("ok"),
  );
  const served = await serveSandbox({
    port: 0,
    path: ":memory:",
    quiet: true,
    console: { tokenFile: `${dir}/t`, isLoopback: () => false },
  });
  try {
    const token = (await Deno.readTextFile(`${dir}/t`)).trim();
    const own = originOf(served);
    const csrf = csrfOf((await raw(served, "GET", "/console/login")).body);
    const cookie = (await raw(
      served,
      "POST",
      "/console/login",
      { ...FORM, Origin: own },
      `csrf=${csrf}&token=${token}`,
    ))
      .headers.get("set-cookie")!.split(";")[0];
    const secret = "whsec_0123456789abcdef0123456789";
    const endpoint = `http://127.0.0.1:${hook.addr.port}/alerts/${secret}?token=${secret}`;
    await api(served, "POST", "/v2/webhooks?region=au", {
      name: "crm",
      endpoint,
      events: ["recapture_new"],
    });
    await api(served, "POST", "/v2/recapture/upload?region=au", {
      name: "one",
      customers: [{ rego: "XYZ789", state: "VIC", client_name: "Kim" }],
    });
    await served.sandbox.idle();
    await api(served, "POST", "/sandbox/market/events?region=au", {
      event: "listed",
      rego: "XYZ789",
      state: "VIC",
      marketplace: "carsales",
      price: 1,
    });
    await served.sandbox.pushesIdle();
    const customer = (await api(served, "GET", "/v2/recapture/customers?region=au")).customers[0];
    const pages = [
      "/console/uploads",
      "/console/customers",
      "/console/customers?q=kim",
      `/console/customers/acct_sandbox/au/${customer.id}`,
      "/console/alerts",
      "/console/requests",
      "/console/throughput",
      "/console/login",
    ];
    for (const path of pages) {
      const { status, body } = await raw(served, "GET", path, { Cookie: cookie });
      assertEquals(status, 200, path);
      for (const s of [SANDBOX_API_KEY, secret, token]) {
        assert(!body.includes(s), `${path} holds a secret`);
      }
    }
    const alerts = (await raw(served, "GET", "/console/alerts", { Cookie: cookie })).body;
    assert(alerts.includes("delivered (HTTP 200)"), "the push is listed");
    const requests = (await raw(served, "GET", "/console/requests", { Cookie: cookie })).body;
    assert(requests.includes(`…${SANDBOX_API_KEY.slice(-4)}`), "keys show their last 4 characters");
  } finally {
    await served.shutdown();
    await hook.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("console: off unless asked for, and never part of the embedded sandbox", async () => {
  const served = await serveSandbox({ port: 0, path: ":memory:", quiet: true });
  try {
    assertEquals(served.consoleUrl, undefined);
    const answer = await raw(served, "GET", "/console/uploads");
    assertEquals(answer.status, 404);
    assertMatch(answer.body, /No such endpoint/);
  } finally {
    await served.shutdown();
  }
  // The edge adapter's module graph holds nothing of the console.
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../../src/edge/mod.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert(info.success, "deno info ran");
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  assert(graph.modules.length > 5, "the graph was read");
  const consoleModules = graph.modules.filter((m) => /sandbox\/(_console|serve)/.test(m.specifier));
  assertEquals(consoleModules, []);
  const sandbox = await createSandbox();
  try {
    const response = await sandbox.fetch(new Request("http://sandbox/console/uploads"));
    assertEquals(response.status, 404);
    await response.body?.cancel();
  } finally {
    await sandbox.close();
  }
});

Deno.test("console: data from API callers is shown as text, never as markup or a script link", async () => {
  const served = await serveSandbox({ port: 0, path: ":memory:", quiet: true, console: true });
  const evil = `<img src=x onerror="alert(1)">`;
  try {
    await api(served, "POST", "/v2/recapture/upload?region=au", {
      name: evil,
      customers: [{ rego: "EVL1", state: "NSW", client_name: evil }],
    });
    await served.sandbox.idle();
    const event = { event: "listed", rego: "EVL1", state: "NSW", marketplace: evil, price: 1 };
    // A script URL never gets in (refused at the API); markup inside an http URL does.
    const script = await api(served, "POST", "/sandbox/market/events?region=au", {
      ...event,
      url: "javascript:alert(1)",
    });
    assertMatch(script.message, /^url must be an http\(s\) URL/);
    const simulated = await api(served, "POST", "/sandbox/market/events?region=au", {
      ...event,
      url: `https://cars.example/${evil}`,
      title: evil,
    });
    assertEquals(simulated.matched, 1);
    const id = (await api(served, "GET", "/v2/recapture/customers?region=au")).customers[0].id;
    for (
      const path of [
        "/console/uploads",
        "/console/customers?q=%3Cimg",
        `/console/customers/acct_sandbox/au/${id}`,
        `/console/customers?q=${encodeURIComponent(evil)}`,
      ]
    ) {
      const { status, body } = await raw(served, "GET", path);
      assertEquals(status, 200, path);
      assert(!body.includes("<img"), `${path} renders caller data as markup`);
      assert(!body.includes('href="javascript:'), `${path} links a script URL`);
    }
    const detail = (await raw(served, "GET", `/console/customers/acct_sandbox/au/${id}`)).body;
    assert(detail.includes("&lt;img src=x"), "the name is shown, escaped");
  } finally {
    await served.shutdown();
  }
});

Deno.test("served sandbox: the Host allowlist by bound address (IPv6 too); a malformed Host is never allowed", () => {
  const cases: [string, string, boolean][] = [
    ["127.0.0.1", "127.0.0.1:8787", true],
    ["127.0.0.1", "evil.example", false],
    ["192.168.1.5", "192.168.1.5:8787", true],
    ["::1", "[::1]:8787", true],
    ["[::1]", "[::1]", true],
    ["fd00::5", "[fd00::5]:8787", true],
    ["0.0.0.0", "0.0.0.0:8787", false],
    ["::", "[::]:8787", false],
  ];
  for (const bound of ["127.0.0.1", "::1", "fd00::5", "0.0.0.0", "::", "[::]", "not a host"]) {
    for (const malformed of ["", "a b", "[", "::1", "http://x"]) {
      cases.push([bound, malformed, false]);
    }
  }
  for (const [bound, host, expected] of cases) {
    assertEquals(hostAllowlist(bound, [])(host), expected, `bound ${bound}, Host "${host}"`);
  }
});
