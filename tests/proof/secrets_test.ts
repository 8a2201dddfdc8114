/**
 * Proof, secret hygiene: a recognisable API key, OAuth client secret, webhook secret and proxy
 * token are used on every path (SDK successes and failures including network failures and
 * timeouts, the SDK logger, console output, MCP tool results, proxy and sandbox responses, and
 * webhook ingestion). Everything produced is collected and scanned: no secret may appear.
 */
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient, RecaptureError } from "../../mod.ts";
import { signPayload } from "../../src/signature/mod.ts";
import { connect } from "../mcp/_fixture.ts";
import { ACCOUNTS, findSecrets, rows, SECRETS, serve, serveProxy } from "./_helpers.ts";

/** Everything an error shows: message, stack, cause chain, JSON and inspect forms. */
function errorTexts(e: unknown): string[] {
  const out = [String(e), Deno.inspect(e, { depth: 10, showHidden: true })];
  try {
    out.push(JSON.stringify(e));
  } catch { /* cyclic */ }
  let c: unknown = e;
  for (let i = 0; i < 5 && c instanceof Error; i++) {
    out.push(c.message, c.stack ?? "");
    c = c.cause;
  }
  return out;
}

async function responseTexts(r: Response): Promise<string[]> {
  return [await r.text(), JSON.stringify([...r.headers])];
}

Deno.test("proof: no secret in any error, log line, tool result or HTTP response", async () => {
  const seen: string[] = [];
  const log = (...args: unknown[]) => seen.push(Deno.inspect(args, { depth: 10 }));
  const logger = { debug: log, warn: log };
  const original = { log: console.log, error: console.error, warn: console.warn };
  console.log = console.error = console.warn = log;
  const served = await serve({ rateLimit: { limit: 40, windowMs: 60_000 } });
  const hang = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return new Response("late");
  });
  let paths = 0;
  const expectFailure = async (what: string, fn: () => Promise<unknown>) => {
    paths++;
    try {
      await fn();
      throw new Error(`${what} should have failed`);
    } catch (e) {
      assert(e instanceof RecaptureError, `${what}: ${String(e)}`);
      seen.push(...errorTexts(e));
    }
  };
  try {
    // SDK over HTTP: successes, API errors, OAuth, wrong secret, network failure, timeout.
    const ok = new RecaptureClient({ apiKey: SECRETS.apiKey, baseUrl: served.url, logger });
    const up = await ok.uploads.create({ name: "s", customers: rows(3, "K") });
    await served.sandbox.idle();
    seen.push(JSON.stringify(up), Deno.inspect(up, { showHidden: true }));
    const list = await ok.customers.list({ upload_id: up.id });
    seen.push(JSON.stringify(list), Deno.inspect(ok, { depth: 10, showHidden: true }));
    paths += 2;
    await expectFailure("404", () => ok.customers.retrieve("cus_missing"));
    await expectFailure("400 region", () => ok.uploads.retrieve(up.id, { region: "nz" }));
    await expectFailure("validation", () => ok.uploads.create({ name: "v", customers: [{}] }));
    await expectFailure(
      "empty",
      () => ok.uploads.create({ name: "e", customers: [] }, { validate: false }),
    );
    const wrongKey = new RecaptureClient({
      apiKey: SECRETS.apiKey.replace("PROOF", "WRONG"),
      baseUrl: served.url,
      logger,
      maxRetries: 0,
    });
    await expectFailure("401", () => wrongKey.customers.list());
    const oauth = new RecaptureClient({
      clientId: "proof_client",
      clientSecret: SECRETS.clientSecret,
      baseUrl: served.url,
      logger,
    });
    seen.push(JSON.stringify(await oauth.customers.list({ limit: 2 })));
    seen.push(Deno.inspect(oauth, { depth: 10, showHidden: true }));
    paths++;
    const badOauth = new RecaptureClient({
      clientId: "proof_client",
      clientSecret: SECRETS.webhookSecret, // a wrong secret that is itself recognisable
      baseUrl: served.url,
      logger,
      maxRetries: 0,
    });
    await expectFailure("oauth 401", () => badOauth.customers.list());
    const refused = new RecaptureClient({
      apiKey: SECRETS.apiKey,
      baseUrl: "http://127.0.0.1:1",
      logger,
      maxRetries: 1,
    });
    await expectFailure("connection refused", () => refused.customers.list());
    const slow = new RecaptureClient({
      apiKey: SECRETS.apiKey,
      baseUrl: `http://127.0.0.1:${hang.addr.port}`,
      logger,
      timeoutMs: 100,
      maxRetries: 1,
    });
    await expectFailure("timeout", () => slow.customers.list());
    const throwing = new RecaptureClient({
      apiKey: SECRETS.apiKey,
      fetch: (req) => Promise.reject(new TypeError(`failed: ${req.headers.get("apikey")}`)),
      logger,
      maxRetries: 0,
    });
    await expectFailure(
      "fetch throws with the key in its message",
      () => throwing.customers.list(),
    );
    const rl = new RecaptureClient({
      apiKey: SECRETS.apiKey,
      baseUrl: served.url,
      logger,
      maxRetries: 0,
    });
    let limited = false;
    for (let i = 0; i < 60 && !limited; i++) {
      try {
        await rl.customers.list({ limit: 1 });
      } catch (e) {
        limited = true;
        seen.push(...errorTexts(e));
      }
    }
    assert(limited, "the rate limit was reached");
    paths++;

    // Sandbox responses with and without keys.
    for (
      const headers of [{} as Record<string, string>, { ApiKey: "nope" }, {
        ApiKey: SECRETS.apiKey,
      }, {
        Authorization: `ApiKey ${SECRETS.apiKey}`,
      }]
    ) {
      paths++;
      seen.push(
        ...await responseTexts(
          await fetch(`${served.url}/v2/recapture/customers?region=au`, { headers }),
        ),
      );
    }
    const token = await fetch(`${served.url}/auth-broker/request-token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`proof_client:${SECRETS.clientSecret}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    });
    seen.push(...await responseTexts(token));
    paths++;

    // The proxy: forwarded answers, caller errors, unreachable upstream, webhook ingestion.
    const proxy = serveProxy(served.url);
    const deadProxy = serveProxy("http://127.0.0.1:1");
    try {
      const auth = { Authorization: `Bearer ${SECRETS.proxyToken}` };
      for (
        const [url, init] of [
          [`${proxy.url}/v2/recapture/customers?region=au&limit=2`, { headers: auth }],
          [`${proxy.url}/v2/recapture/customers/cus_x?region=au`, { headers: auth }],
          [`${proxy.url}/v2/recapture/customers?region=au`, {
            headers: { Authorization: "Bearer x" },
          }],
          [`${proxy.url}/v2/recapture/upload?region=au`, {
            method: "POST",
            headers: { ...auth, "Content-Type": "application/json" },
            body: "{",
          }],
          [`${deadProxy.url}/v2/recapture/customers?region=au`, { headers: auth }],
        ] as const
      ) {
        paths++;
        seen.push(...await responseTexts(await fetch(url, init)));
      }
      const body = JSON.stringify({ name: "hook", customers: rows(2, "W") });
      for (
        const signature of [
          await signPayload(body, SECRETS.webhookSecret),
          "t=1,v1=00",
          await signPayload(body, "whsec_wrong"),
        ]
      ) {
        paths++;
        seen.push(
          ...await responseTexts(
            await fetch(`${proxy.url}/webhooks/customers`, {
              method: "POST",
              headers: { "Content-Type": "application/json", "recapture-signature": signature },
              body,
            }),
          ),
        );
      }
      seen.push(...proxy.errors.flatMap(errorTexts), ...deadProxy.errors.flatMap(errorTexts));
    } finally {
      await proxy.close();
      await deadProxy.close();
    }
    await served.sandbox.idle();

    // MCP tool results, successes and failures, on a client holding the recognisable key.
    const h = await connect({ apiKey: SECRETS.apiKey, sandbox: { accounts: ACCOUNTS } });
    try {
      const calls: [string, Record<string, unknown>][] = [
        ["recapture_upload_customers", { name: "m", customers: rows(2, "MC") }],
        ["recapture_list_customers", {}],
        ["recapture_get_customer", { customer_id: "cus_nope" }],
        ["recapture_upload_status", { upload_id: "upl_nope" }],
        ["recapture_cancel_upload", { upload_id: "upl_nope" }],
        ["recapture_delete_customer", { customer_id: "cus_nope" }],
        ["recapture_update_customer", { customer_id: "cus_nope", client_name: "x" }],
        ["recapture_list_customers", { region: "zz" }],
      ];
      for (const [name, args] of calls) {
        paths++;
        seen.push(JSON.stringify(await h.call(name, args)));
      }
      const bad = await connect({ apiKey: SECRETS.otherApiKey });
      try {
        paths++;
        const r = await bad.call("recapture_list_customers", {});
        assertEquals(r.isError, true);
        seen.push(JSON.stringify(r));
      } finally {
        await bad.close();
      }
    } finally {
      await h.close();
    }
  } finally {
    console.log = original.log;
    console.error = original.error;
    console.warn = original.warn;
    await hang.shutdown();
    await served.close();
  }
  // The scanner finds each secret in its plain, URL-encoded and base64 forms.
  for (const secret of Object.values(SECRETS)) {
    assertEquals(findSecrets([`x ${secret} y`]).length > 0, true);
    assertEquals(findSecrets([btoa(secret)]).length > 0, true);
  }
  const leaks = findSecrets(seen);
  assertEquals(leaks, []);
  console.log(`proof secrets: ${paths} paths run, ${seen.length} texts scanned, 0 secrets found`);
});
