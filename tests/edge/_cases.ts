/**
 * The proxy's behaviour as cases that run against any deployment of it: in process on Deno
 * (`edge_proxy_test.ts`) and in real workerd under Miniflare (`edge_workerd_test.ts`).
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";
import { constructEvent, signPayload } from "../../src/signature/mod.ts";
import type { Receiver, Recorded, Upstream } from "./_helpers.ts";
import { sleep } from "./_helpers.ts";

/** What a case needs to know about the deployment under test. */
export interface CaseContext {
  /** Sends a request to the proxy (path relative to its origin). */
  send(path: string, init?: RequestInit): Promise<Response>;
  /** Requests that reached the upstream. */
  requests: Recorded[];
  /** Calls the upstream directly (with the API key), to compare. */
  direct(path: string, init?: RequestInit): Promise<Response>;
  apiKey: string;
  token: string;
  readOnlyToken: string;
  /** [current, previous] inbound webhook secrets. */
  webhookSecrets: [string, string];
  callbackSecret: string;
  receiver: Receiver;
  /** Longest wait for a callback (ms). */
  callbackTimeoutMs: number;
  /** Waits for the upstream's queued processing to finish. */
  idle(): Promise<void>;
}

/** The secrets a run of the cases gives the proxy (test values, one set per runtime). */
export type CaseSecrets = Pick<
  CaseContext,
  "token" | "readOnlyToken" | "webhookSecrets" | "callbackSecret"
>;

/** The env the proxy under test reads: the sandbox upstream and the run's secrets. */
export function caseEnv(secrets: CaseSecrets, upstreamUrl: string): Record<string, string> {
  return {
    RECAPTURE_API_KEY: SANDBOX_API_KEY,
    RECAPTURE_BASE_URL: upstreamUrl,
    RECAPTURE_PROXY_TOKENS: secrets.token,
    RECAPTURE_PROXY_READONLY_TOKENS: secrets.readOnlyToken,
    RECAPTURE_WEBHOOK_SECRETS: secrets.webhookSecrets.join(","),
    RECAPTURE_CALLBACK_SECRET: secrets.callbackSecret,
    // The upstream and the receiver are on 127.0.0.1: the development opt-in.
    RECAPTURE_DEV_ALLOW_LOOPBACK: "1",
  };
}

/** The context for a proxy reached through `send`, configured with {@linkcode caseEnv}. */
export function caseContext(
  secrets: CaseSecrets,
  upstream: Upstream,
  receiver: Receiver,
  send: CaseContext["send"],
  callbackTimeoutMs: number,
): CaseContext {
  return {
    ...secrets,
    send,
    direct: (path, init) =>
      fetch(`${upstream.url}${path}`, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), apikey: SANDBOX_API_KEY },
      }),
    requests: upstream.requests,
    apiKey: SANDBOX_API_KEY,
    receiver,
    callbackTimeoutMs,
    idle: () => upstream.sandbox.idle(),
  };
}

/** One case. */
export interface EdgeCase {
  name: string;
  fn: (ctx: CaseContext) => Promise<void>;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { "content-type": "application/json" };
const VIN = "1HGCM82633A004352";

async function upstreamCount(ctx: CaseContext, action: () => Promise<void>): Promise<number> {
  const before = ctx.requests.length;
  await action();
  return ctx.requests.length - before;
}

async function expectError(
  res: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  const body = await res.json();
  assertEquals(res.status, status, JSON.stringify(body));
  assertEquals(body.error, true);
  assertEquals(body.code, code);
  assertExists(res.headers.get("x-request-id"), "every response has a request id");
  return body;
}

async function signedPost(
  ctx: CaseContext,
  body: string,
  secret: string,
  options: { timestamp?: number; header?: string } = {},
): Promise<Response> {
  const header = options.header ?? await signPayload(body, secret, options);
  return await ctx.send("/webhooks/customers", {
    method: "POST",
    headers: { ...json, "recapture-signature": header },
    body,
  });
}

async function createUpload(ctx: CaseContext, customers: unknown[]): Promise<string> {
  const res = await ctx.send("/v2/recapture/upload?region=au", {
    method: "POST",
    headers: { ...bearer(ctx.token), ...json },
    body: JSON.stringify({ name: "edge test", enable_rego_lookups: false, customers }),
  });
  const body = await res.json();
  assertEquals(res.status, 201, JSON.stringify(body));
  return body.upload.id;
}

/** Every case, in the order they run. */
export const EDGE_CASES: EdgeCase[] = [
  {
    name: "auth: no token is 401 with WWW-Authenticate, nothing forwarded",
    fn: async (ctx) => {
      const n = await upstreamCount(ctx, async () => {
        const res = await ctx.send("/v2/recapture/customers");
        await expectError(res, 401, "missing_token");
        assertMatch(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "auth: malformed and wrong tokens are 401, the upstream key is no token",
    fn: async (ctx) => {
      const n = await upstreamCount(ctx, async () => {
        await expectError(
          await ctx.send("/v2/recapture/customers", { headers: { authorization: "Basic abc" } }),
          401,
          "invalid_authorization",
        );
        await expectError(
          await ctx.send("/v2/recapture/customers", { headers: bearer("not-the-token") }),
          401,
          "invalid_token",
        );
        await expectError(
          await ctx.send("/v2/recapture/customers", { headers: bearer(ctx.token + "x") }),
          401,
          "invalid_token",
        );
        await expectError(
          await ctx.send("/v2/recapture/customers", { headers: bearer(ctx.apiKey) }),
          401,
          "invalid_token",
        );
        await expectError(
          await ctx.send("/v2/recapture/customers", { headers: { apikey: ctx.apiKey } }),
          401,
          "missing_token",
        );
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "auth: a read-only token reads, and every write is 403 and never forwarded",
    fn: async (ctx) => {
      const ok = await ctx.send("/v2/recapture/customers?limit=1", {
        headers: bearer(ctx.readOnlyToken),
      });
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
      const n = await upstreamCount(ctx, async () => {
        for (
          const [method, path] of [
            ["POST", "/v2/recapture/upload"],
            ["PATCH", "/v2/recapture/customers/cus_x"],
            ["DELETE", "/v2/recapture/customers/cus_x"],
            ["DELETE", "/v2/recapture/upload/upl_x"],
            ["PUT", "/v2/recapture/customers/cus_x"],
          ]
        ) {
          const body = await expectError(
            await ctx.send(path, {
              method,
              headers: { ...bearer(ctx.readOnlyToken), ...json },
              body: "{}",
            }),
            403,
            "read_only_token",
          );
          assertStringIncludes(String(body.message), method);
        }
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "forwarding: status, body and rate-limit headers as the API answers; key injected",
    fn: async (ctx) => {
      const id = await createUpload(ctx, [{ vin: VIN, client_name: "Fidelity" }]);
      await ctx.idle();
      const viaProxy = await ctx.send(`/v2/recapture/customers?upload_id=${id}&region=au`, {
        headers: {
          ...bearer(ctx.token),
          cookie: "session=caller-cookie",
          "proxy-authorization": "Basic cHJveHk=",
          "x-hop-secret": "drop-me",
          connection: "x-hop-secret",
          "x-forwarded-for": "10.1.2.3",
          "x-caller-note": "not-forwarded",
          "accept-language": "en-AU",
        },
      });
      const last = ctx.requests[ctx.requests.length - 1];
      const direct = await ctx.direct(`/v2/recapture/customers?upload_id=${id}&region=au`);
      assertEquals(viaProxy.status, 200);
      const [a, b] = [await viaProxy.json(), await direct.json()];
      assertEquals(a, b);
      assertEquals(a.customers.length, 1);
      assertEquals(a.customers[0].client_name, "Fidelity");
      for (const h of ["rate-limit-remaining", "rate-limit-total", "rate-limit-reset"]) {
        assertExists(viaProxy.headers.get(h), `${h} passed through`);
      }
      assertEquals(
        viaProxy.headers.get("rate-limit-total"),
        direct.headers.get("rate-limit-total"),
      );
      assertEquals(viaProxy.headers.get("content-type"), direct.headers.get("content-type"));
      // What the upstream saw: our key, not the caller's credentials or hop-by-hop headers.
      assertEquals(last.path, "/v2/recapture/customers");
      assertEquals(last.headers["apikey"], ctx.apiKey);
      assert(!("authorization" in last.headers), "caller's bearer token not forwarded");
      assert(!("cookie" in last.headers), "cookie not forwarded");
      assert(!("proxy-authorization" in last.headers));
      assert(!("x-hop-secret" in last.headers), "Connection-listed header dropped");
      assert(!("x-forwarded-for" in last.headers));
      assert(!("x-caller-note" in last.headers), "only allowlisted headers are forwarded");
      assertEquals(last.headers["accept-language"], "en-AU");
      assertStringIncludes(last.search, `upload_id=${id}`);
      // Nothing of the key in the answer.
      assertEquals(viaProxy.headers.get("apikey"), null);
      assert(![...viaProxy.headers.values()].some((v) => v.includes(ctx.apiKey)));
      assert(!JSON.stringify(a).includes(ctx.apiKey));
    },
  },
  {
    name: "forwarding: writes and API errors pass through unchanged",
    fn: async (ctx) => {
      const id = await createUpload(ctx, [{ vin: VIN, client_name: "Before" }]);
      await ctx.idle();
      const list = await (await ctx.send(`/v2/recapture/customers?upload_id=${id}`, {
        headers: bearer(ctx.token),
      })).json();
      const customerId = list.customers[0].id;
      const patched = await ctx.send(`/v2/recapture/customers/${customerId}`, {
        method: "PATCH",
        headers: { ...bearer(ctx.token), ...json },
        body: JSON.stringify({ client_name: "After" }),
      });
      assertEquals(patched.status, 200);
      assertEquals((await patched.json()).customer.client_name, "After");
      const missing = await ctx.send("/v2/recapture/customers/cus_does_not_exist", {
        headers: bearer(ctx.token),
      });
      const direct = await ctx.direct("/v2/recapture/customers/cus_does_not_exist?region=au");
      assertEquals(missing.status, direct.status);
      assertEquals(await missing.json(), await direct.json());
      const badRegion = await ctx.send(`/v2/recapture/customers/${customerId}?region=nz`, {
        headers: bearer(ctx.token),
      });
      const badRegionDirect = await ctx.direct(`/v2/recapture/customers/${customerId}?region=nz`);
      assertEquals(badRegion.status, badRegionDirect.status);
      assert(badRegion.status >= 400 && badRegion.status < 500);
      assertEquals(await badRegion.json(), await badRegionDirect.json());
      const noRegion = await ctx.send(`/v2/recapture/customers/${customerId}?region=xx`, {
        headers: bearer(ctx.token),
      });
      assertEquals(noRegion.status, 400);
      assertMatch((await noRegion.json()).message, /^Invalid region/);
      const deleted = await ctx.send(`/v2/recapture/customers/${customerId}`, {
        method: "DELETE",
        headers: bearer(ctx.token),
      });
      assertEquals(deleted.status, 200);
      assertEquals((await deleted.json()).customer.id, customerId);
      const empty = await ctx.send("/v2/recapture/upload", {
        method: "POST",
        headers: { ...bearer(ctx.token), ...json },
        body: JSON.stringify({ name: "empty", customers: [] }),
      });
      assertEquals(empty.status, 400);
      assertEquals((await empty.json()).message, "You must upload at least one customer record");
    },
  },
  {
    name: "request id: echoed when given, generated otherwise, on every response",
    fn: async (ctx) => {
      const res = await ctx.send("/v2/recapture/customers?limit=1", {
        headers: { ...bearer(ctx.token), "x-request-id": "trace-abc.123" },
      });
      await res.body?.cancel();
      assertEquals(res.headers.get("x-request-id"), "trace-abc.123");
      assertEquals(ctx.requests[ctx.requests.length - 1].headers["x-request-id"], "trace-abc.123");
      const generated = await ctx.send("/v2/recapture/customers?limit=1", {
        headers: { ...bearer(ctx.token), "x-request-id": "bad id with spaces" },
      });
      await generated.body?.cancel();
      assertMatch(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      const unknown = await ctx.send("/nowhere");
      await expectError(unknown, 400, "invalid_path");
      const health = await ctx.send("/healthz");
      assertEquals(health.status, 200);
      await health.body?.cancel();
      assertExists(health.headers.get("x-request-id"));
    },
  },
  {
    name: "forwarding: a body over the limit is 413 and never forwarded",
    fn: async (ctx) => {
      const big = JSON.stringify({
        name: "big",
        customers: [{ vin: VIN, x: "y".repeat(1_100_000) }],
      });
      const n = await upstreamCount(ctx, async () => {
        await expectError(
          await ctx.send("/v2/recapture/upload", {
            method: "POST",
            headers: { ...bearer(ctx.token), ...json },
            body: big,
          }),
          413,
          "payload_too_large",
        );
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "webhook: a signed single customer becomes an upload (202 with its id)",
    fn: async (ctx) => {
      const body = JSON.stringify({ rego: "abc 123", state: "nsw", client_name: "Single" });
      const res = await signedPost(ctx, body, ctx.webhookSecrets[0]);
      const answer = await res.json();
      assertEquals(res.status, 202, JSON.stringify(answer));
      assertEquals(answer.success, true);
      assertMatch(answer.upload_id, /\S/);
      assertExists(res.headers.get("x-request-id"));
      assertEquals(answer.upload.total_uploaded_customers, 1);
      const sent = ctx.requests[ctx.requests.length - 1];
      assertEquals(sent.method, "POST");
      assertEquals(sent.path, "/v2/recapture/upload");
      assertEquals(sent.headers["apikey"], ctx.apiKey);
      assertEquals(JSON.parse(sent.body).customers, [
        { rego: "ABC123", state: "NSW", client_name: "Single" },
      ]);
      await ctx.idle();
      const got = await ctx.send(`/v2/recapture/upload/${answer.upload_id}`, {
        headers: bearer(ctx.readOnlyToken),
      });
      assertEquals((await got.json()).upload.total_processed_customers, 1);
    },
  },
  {
    name: "webhook: a batch envelope with options becomes one upload",
    fn: async (ctx) => {
      const body = JSON.stringify({
        name: "dms nightly",
        customers: [
          { vin: VIN, client_name: "A" },
          { rego: "XYZ789", state: "VIC", client_name: "B" },
          { rego: "QQQ111", state: "QLD", client_name: "C" },
        ],
      });
      const res = await signedPost(ctx, body, ctx.webhookSecrets[0]);
      const answer = await res.json();
      assertEquals(res.status, 202, JSON.stringify(answer));
      assertEquals(answer.upload.name, "dms nightly");
      assertEquals(answer.upload.total_uploaded_customers, 3);
      const arr = JSON.stringify([{ vin: VIN }, { vin: VIN.replace("1", "2") }]);
      const res2 = await signedPost(ctx, arr, ctx.webhookSecrets[0]);
      assertEquals(res2.status, 202);
      assertEquals((await res2.json()).upload.total_uploaded_customers, 2);
    },
  },
  {
    name: "webhook: bad rows are 422 naming each row and field, nothing uploaded",
    fn: async (ctx) => {
      const body = JSON.stringify({
        customers: [
          { vin: VIN },
          { vin: "SHORT" },
          { client_name: "no vehicle" },
          { rego: "ABC1", state: "XX" },
          { vin: VIN, favourite_colour: "red" },
        ],
      });
      let answer: Record<string, unknown> = {};
      const n = await upstreamCount(ctx, async () => {
        answer = await expectError(
          await signedPost(ctx, body, ctx.webhookSecrets[0]),
          422,
          "validation_failed",
        );
      });
      assertEquals(n, 0);
      const issues = answer.issues as { index: number; field: string; reason: string }[];
      const pairs = issues.map((i) => `${i.index}:${i.field}`);
      for (const expected of ["1:vin", "3:state", "4:favourite_colour"]) {
        assert(pairs.includes(expected), `${expected} in ${pairs}`);
      }
      assert(pairs.some((p) => p.startsWith("2:")), `row 2 named in ${pairs}`);
      assert(!pairs.some((p) => p.startsWith("0:")), "row 0 is fine");
      assertStringIncludes(String(answer.message), "row 1, vin");
      const envelope = await expectError(
        await signedPost(
          ctx,
          JSON.stringify({ customers: [], region: "fr", colour: 1 }),
          ctx.webhookSecrets[0],
        ),
        422,
        "validation_failed",
      );
      const fields = (envelope.issues as { field: string }[]).map((i) => i.field).sort();
      assertEquals(fields, ["colour"]);
      const region = await expectError(
        await signedPost(
          ctx,
          JSON.stringify({ customers: [], region: "fr" }),
          ctx.webhookSecrets[0],
        ),
        422,
        "validation_failed",
      );
      assertEquals((region.issues as { field: string }[]).map((i) => i.field), [
        "region",
        "customers",
      ]);
      assertEquals((region.issues as { reason: string }[])[0].reason, "must be au, nz, uk or my");
      await expectError(
        await signedPost(ctx, "{not json", ctx.webhookSecrets[0]),
        400,
        "invalid_json",
      );
    },
  },
  {
    name: "webhook: every verification failure is 401 and nothing reaches the API",
    fn: async (ctx) => {
      const body = JSON.stringify({ vin: VIN, client_name: "Unverified" });
      const now = Math.floor(Date.now() / 1000);
      const [current] = ctx.webhookSecrets;
      const n = await upstreamCount(ctx, async () => {
        const cases: [string, Promise<Response>][] = [
          ["missing_header", signedPost(ctx, body, current, { header: "" })],
          ["malformed_header", signedPost(ctx, body, current, { header: "garbage" })],
          [
            "no_matching_signature",
            signedPost(ctx, body, current, { header: `t=${now},v1=${"ab".repeat(32)}` }),
          ],
          ["no_matching_signature", signedPost(ctx, body, "whsec_wrong_secret")],
          [
            "no_matching_signature",
            ctx.send("/webhooks/customers", {
              method: "POST",
              headers: { ...json, "recapture-signature": await signPayload(body, current) },
              body: body.replace("Unverified", "Tampered"),
            }),
          ],
          [
            "timestamp_outside_tolerance",
            signedPost(ctx, body, current, { timestamp: now - 3600 }),
          ],
          [
            "timestamp_outside_tolerance",
            signedPost(ctx, body, current, { timestamp: now + 3600 }),
          ],
        ];
        for (const [reason, pending] of cases) {
          const answer = await expectError(await pending, 401, "webhook_verification_failed");
          assertEquals(answer.reason, reason);
          assert(!String(answer.message).includes(current), "no secret in the error");
        }
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "webhook: the previous secret still verifies during a rotation",
    fn: async (ctx) => {
      const body = JSON.stringify({ vin: VIN, client_name: "Rotated" });
      const res = await signedPost(ctx, body, ctx.webhookSecrets[1]);
      assertEquals(res.status, 202);
      await res.body?.cancel();
      const both = JSON.stringify({ vin: VIN, client_name: "Both" });
      const res2 = await ctx.send("/webhooks/customers", {
        method: "POST",
        headers: {
          ...json,
          "recapture-signature": await signPayload(both, ["whsec_unknown", ctx.webhookSecrets[0]]),
        },
        body: both,
      });
      assertEquals(res2.status, 202);
      await res2.body?.cancel();
    },
  },
  {
    name:
      "webhook: a replayed delivery gets the first upload back (no second), 401 after the window",
    fn: async (ctx) => {
      const body = JSON.stringify({ vin: VIN, client_name: "Once" });
      const header = await signPayload(body, ctx.webhookSecrets[0]);
      const first = await signedPost(ctx, body, "", { header });
      assertEquals(first.status, 202);
      const firstId = (await first.json()).upload_id;
      const n = await upstreamCount(ctx, async () => {
        const again = await signedPost(ctx, body, "", { header });
        assertEquals(again.status, 200);
        const firstAgain = await again.json();
        assertEquals([firstAgain.upload_id, firstAgain.duplicate], [firstId, true]);
        // A delivery captured long ago: its signed timestamp is outside the window.
        const old = Math.floor(Date.now() / 1000) - 1200;
        const oldHeader = await signPayload(body, ctx.webhookSecrets[0], { timestamp: old });
        const answer = await expectError(
          await signedPost(ctx, body, "", { header: oldHeader }),
          401,
          "webhook_verification_failed",
        );
        assertEquals(answer.reason, "timestamp_outside_tolerance");
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "webhook: an oversized body is 413 before verification",
    fn: async (ctx) => {
      const body = JSON.stringify({ customers: [{ vin: VIN, junk: "z".repeat(1_100_000) }] });
      const n = await upstreamCount(ctx, async () => {
        const answer = await expectError(
          await signedPost(ctx, body, ctx.webhookSecrets[0]),
          413,
          "payload_too_large",
        );
        assertStringIncludes(String(answer.message), "bytes");
      });
      assertEquals(n, 0);
    },
  },
  {
    name: "callback: delivered once, signed, with the upload's totals",
    fn: async (ctx) => {
      const path = "/hook/once";
      const body = JSON.stringify({
        callback_url: ctx.receiver.url + path,
        customers: [{ vin: VIN }, { rego: "ONE111", state: "NSW" }, {
          rego: "TWO222",
          state: "SA",
        }],
      });
      const res = await signedPost(ctx, body, ctx.webhookSecrets[0]);
      const answer = await res.json();
      assertEquals(res.status, 202, JSON.stringify(answer));
      assertMatch(answer.callback_event_id, /^evt_/);
      const [delivery] = await ctx.receiver.waitFor(path, 1, ctx.callbackTimeoutMs);
      const event = await constructEvent(
        delivery.body,
        delivery.headers["recapture-signature"],
        ctx.callbackSecret,
      );
      assertEquals(event.id, answer.callback_event_id);
      assertEquals(event.type, "upload.completed");
      assertEquals(delivery.headers["recapture-event-id"], event.id);
      const upload =
        (await (await ctx.direct(`/v2/recapture/upload/${answer.upload_id}?region=au`)).json())
          .upload;
      assertEquals(event.data, {
        upload_id: answer.upload_id,
        region: "au",
        status: upload.status,
        total_uploaded_customers: upload.total_uploaded_customers,
        total_processed_customers: upload.total_processed_customers,
        total_errors: upload.total_errors,
      });
      assertEquals(event.data.total_uploaded_customers, 3);
      assertEquals(event.data.total_processed_customers, 3);
      // Signed with the callback secret only: the inbound webhook secret does not verify it.
      let wrongSecretVerified = true;
      await constructEvent(
        delivery.body,
        delivery.headers["recapture-signature"],
        ctx.webhookSecrets[0],
      ).catch(() => wrongSecretVerified = false);
      assertEquals(wrongSecretVerified, false);
      await sleep(Math.min(3000, ctx.callbackTimeoutMs / 4));
      assertEquals(ctx.receiver.deliveries.filter((d) => d.path === path).length, 1);
    },
  },
  {
    name: "callback: retried after a receiver failure, same event id",
    fn: async (ctx) => {
      const path = "/hook/retry";
      ctx.receiver.script(path, [503]);
      const body = JSON.stringify({
        callback_url: ctx.receiver.url + path,
        customers: [{ vin: VIN }],
      });
      const res = await signedPost(ctx, body, ctx.webhookSecrets[0]);
      assertEquals(res.status, 202);
      const answer = await res.json();
      const [failed, ok] = await ctx.receiver.waitFor(path, 2, ctx.callbackTimeoutMs);
      assertEquals(failed.answered, 503);
      assertEquals(ok.answered, 200);
      const a = await constructEvent(failed.body, failed.headers["recapture-signature"], [
        ctx.callbackSecret,
      ]);
      const b = await constructEvent(
        ok.body,
        ok.headers["recapture-signature"],
        ctx.callbackSecret,
      );
      assertEquals(a.id, answer.callback_event_id);
      assertEquals(b.id, a.id);
      assertEquals(b.data, a.data);
      assertEquals(failed.headers["recapture-delivery-attempt"], "1");
      assertEquals(ok.headers["recapture-delivery-attempt"], "2");
      await sleep(Math.min(3000, ctx.callbackTimeoutMs / 4));
      assertEquals(ctx.receiver.deliveries.filter((d) => d.path === path).length, 2);
    },
  },
  {
    name: "callback: a forwarded upload may name callback_url (not sent upstream)",
    fn: async (ctx) => {
      const path = "/hook/forwarded";
      const res = await ctx.send("/v2/recapture/upload", {
        method: "POST",
        headers: { ...bearer(ctx.token), ...json },
        body: JSON.stringify({
          name: "with callback",
          callback_url: ctx.receiver.url + path,
          customers: [{ vin: VIN }],
        }),
      });
      const answer = await res.json();
      assertEquals(res.status, 201, JSON.stringify(answer));
      const sent = ctx.requests[ctx.requests.length - 1];
      assertEquals(sent.path, "/v2/recapture/upload");
      assert(!sent.body.includes("callback_url"), "callback_url is the proxy's, not the API's");
      const eventId = res.headers.get("recapture-callback-event-id");
      assertMatch(eventId ?? "", /^evt_/);
      const [delivery] = await ctx.receiver.waitFor(path, 1, ctx.callbackTimeoutMs);
      const event = await constructEvent(
        delivery.body,
        delivery.headers["recapture-signature"],
        ctx.callbackSecret,
      );
      assertEquals(event.id, eventId);
      assertEquals(event.data.upload_id, answer.upload.id);
    },
  },
  {
    name: "callback: a plain-http URL to a host not allowlisted is 422",
    fn: async (ctx) => {
      const n = await upstreamCount(ctx, async () => {
        for (const url of ["http://example.com/hook", "ftp://127.0.0.1/x", "not a url"]) {
          const answer = await expectError(
            await signedPost(
              ctx,
              JSON.stringify({ callback_url: url, customers: [{ vin: VIN }] }),
              ctx.webhookSecrets[0],
            ),
            422,
            "validation_failed",
          );
          assertEquals((answer.issues as { field: string }[])[0].field, "callback_url");
        }
        const forwarded = await ctx.send("/v2/recapture/upload", {
          method: "POST",
          headers: { ...bearer(ctx.token), ...json },
          body: JSON.stringify({ callback_url: "http://example.com/", customers: [{ vin: VIN }] }),
        });
        await expectError(forwarded, 422, "validation_failed");
      });
      assertEquals(n, 0);
      assertNotEquals(ctx.receiver.url.startsWith("https:"), true);
    },
  },
];
