import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { Hono } from "hono";
import {
  computeSignature,
  constructEvent,
  parseSignatureHeader,
  signPayload,
  verifySignature,
  verifySignatureDetailed,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "../../src/signature/mod.ts";

const SECRET = "whsec_current_0123456789";
const OLD_SECRET = "whsec_previous_9876543210";
const BODY = JSON.stringify({ rego: "ABC123", state: "NSW", client_name: "Jo" });
const T = 1_760_000_000;
const at = (seconds: number) => () => new Date(seconds * 1000);

async function rejectsWith(p: Promise<unknown>, reason: WebhookVerificationReason): Promise<void> {
  const e = await assertRejects(() => p, WebhookVerificationError);
  assertEquals(e.reason, reason);
  assertEquals(e.code, "webhook_verification_failed");
}

// Independent reference: HMAC-SHA256 over "<t>.<body>" computed here with Web Crypto directly.
async function referenceHex(body: string, secret: string, t: number): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${body}`));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("signPayload produces t=...,v1=<HMAC-SHA256 of t.body>", async () => {
  const header = await signPayload(BODY, SECRET, { timestamp: T });
  assertEquals(header, `t=${T},v1=${await referenceHex(BODY, SECRET, T)}`);
  assertEquals(await computeSignature(BODY, SECRET, T), await referenceHex(BODY, SECRET, T));
  const bytes = new TextEncoder().encode(BODY);
  assertEquals(await signPayload(bytes, SECRET, { timestamp: T }), header);
});

Deno.test("signPayload with two secrets emits one v1 per secret", async () => {
  const header = await signPayload(BODY, [OLD_SECRET, SECRET], { timestamp: T });
  const parsed = parseSignatureHeader(header);
  assertEquals(parsed.timestamp, T);
  assertEquals(parsed.signatures, [
    await referenceHex(BODY, OLD_SECRET, T),
    await referenceHex(BODY, SECRET, T),
  ]);
});

Deno.test("verifySignature accepts a fresh, correct signature", async () => {
  const header = await signPayload(BODY, SECRET, { timestamp: T });
  await verifySignature(BODY, header, SECRET, { now: at(T + 10) });
  const detail = await verifySignatureDetailed(BODY, header, SECRET, { now: at(T) });
  assertEquals(detail.timestamp, T);
  assertEquals(detail.signature, await referenceHex(BODY, SECRET, T));
});

Deno.test("bad signature: a well-formed but wrong v1 is rejected", async () => {
  const wrong = `t=${T},v1=${"0".repeat(64)}`;
  await rejectsWith(verifySignature(BODY, wrong, SECRET, { now: at(T) }), "no_matching_signature");
  const notHex = `t=${T},v1=${"zz".repeat(32)}`;
  await rejectsWith(verifySignature(BODY, notHex, SECRET, { now: at(T) }), "no_matching_signature");
  const short = `t=${T},v1=abcd`;
  await rejectsWith(verifySignature(BODY, short, SECRET, { now: at(T) }), "no_matching_signature");
});

Deno.test("wrong secret is rejected, and the error never shows a secret", async () => {
  const header = await signPayload(BODY, "whsec_attacker_guess", { timestamp: T });
  const e = await assertRejects(
    () => verifySignature(BODY, header, SECRET, { now: at(T) }),
    WebhookVerificationError,
  );
  assertEquals(e.reason, "no_matching_signature");
  assert(!e.message.includes(SECRET) && !e.message.includes("whsec_attacker_guess"));
  assert(!(e.stack ?? "").includes(SECRET));
});

Deno.test("rotation: old and new secrets both verify while both are configured", async () => {
  const byOld = await signPayload(BODY, OLD_SECRET, { timestamp: T });
  const byNew = await signPayload(BODY, SECRET, { timestamp: T });
  await verifySignature(BODY, byOld, [SECRET, OLD_SECRET], { now: at(T) });
  await verifySignature(BODY, byNew, [SECRET, OLD_SECRET], { now: at(T) });
  // After the old secret is retired, deliveries signed only with it fail.
  await rejectsWith(
    verifySignature(BODY, byOld, [SECRET], { now: at(T) }),
    "no_matching_signature",
  );
  // A sender mid-rotation signs with both; a receiver on either one accepts.
  const both = await signPayload(BODY, [OLD_SECRET, SECRET], { timestamp: T });
  await verifySignature(BODY, both, OLD_SECRET, { now: at(T) });
  await verifySignature(BODY, both, SECRET, { now: at(T) });
});

Deno.test("expired timestamp (and replay of an old delivery) is rejected", async () => {
  const header = await signPayload(BODY, SECRET, { timestamp: T });
  await verifySignature(BODY, header, SECRET, { now: at(T + 300) }); // edge of the window
  const e = await assertRejects(
    () => verifySignature(BODY, header, SECRET, { now: at(T + 301) }),
    WebhookVerificationError,
  );
  assertEquals(e.reason, "timestamp_outside_tolerance");
  assertMatch(e.message, /301s old/);
  // The same captured delivery replayed an hour later.
  await rejectsWith(
    verifySignature(BODY, header, SECRET, { now: at(T + 3600) }),
    "timestamp_outside_tolerance",
  );
  // A custom tolerance narrows the window.
  await rejectsWith(
    verifySignature(BODY, header, SECRET, { now: at(T + 31), toleranceSeconds: 30 }),
    "timestamp_outside_tolerance",
  );
});

Deno.test("future timestamp beyond tolerance is rejected", async () => {
  const header = await signPayload(BODY, SECRET, { timestamp: T + 301 });
  const e = await assertRejects(
    () => verifySignature(BODY, header, SECRET, { now: at(T) }),
    WebhookVerificationError,
  );
  assertEquals(e.reason, "timestamp_outside_tolerance");
  assertMatch(e.message, /in the future/);
  await verifySignature(BODY, await signPayload(BODY, SECRET, { timestamp: T + 299 }), SECRET, {
    now: at(T),
  });
});

Deno.test("body altered after signing is rejected", async () => {
  const header = await signPayload(BODY, SECRET, { timestamp: T });
  const altered = BODY.replace("ABC123", "ABC124");
  await rejectsWith(
    verifySignature(altered, header, SECRET, { now: at(T) }),
    "no_matching_signature",
  );
  // Re-serialised JSON (whitespace) is a different body too.
  const reformatted = JSON.stringify(JSON.parse(BODY), null, 2);
  await rejectsWith(
    verifySignature(reformatted, header, SECRET, { now: at(T) }),
    "no_matching_signature",
  );
  // Moving the timestamp breaks the signature as well.
  const sig = parseSignatureHeader(header).signatures[0];
  await rejectsWith(
    verifySignature(BODY, `t=${T + 1},v1=${sig}`, SECRET, { now: at(T) }),
    "no_matching_signature",
  );
});

Deno.test("missing and malformed headers say what is wrong", async () => {
  await rejectsWith(verifySignature(BODY, null, SECRET), "missing_header");
  await rejectsWith(verifySignature(BODY, "  ", SECRET), "missing_header");
  await rejectsWith(verifySignature(BODY, `v1=${"a".repeat(64)}`, SECRET), "malformed_header");
  await rejectsWith(verifySignature(BODY, `t=${T}`, SECRET), "malformed_header");
  await rejectsWith(
    verifySignature(BODY, `t=soon,v1=${"a".repeat(64)}`, SECRET),
    "malformed_header",
  );
  await rejectsWith(verifySignature(BODY, `t=${T},v1=x`, []), "no_secret");
  await rejectsWith(verifySignature(BODY, `t=${T},v1=x`, [""]), "no_secret");
  assertThrows(() => parseSignatureHeader("nonsense"), WebhookVerificationError);
  // Unknown schemes are ignored; the v1 still verifies.
  const header = await signPayload(BODY, SECRET, { timestamp: T });
  await verifySignature(BODY, `${header},v2=whatever`, SECRET, { now: at(T) });
});

Deno.test("signPayload refuses an empty secret and a bad timestamp", async () => {
  await assertRejects(() => signPayload(BODY, ""), WebhookVerificationError);
  await assertRejects(() => signPayload(BODY, []), WebhookVerificationError);
  await assertRejects(() => signPayload(BODY, SECRET, { timestamp: -1 }), TypeError);
  await assertRejects(() => signPayload(BODY, SECRET, { timestamp: 1.5 }), TypeError);
});

function receiver(options: Parameters<typeof verifyWebhook>[0]): Hono {
  const app = new Hono();
  app.post("/hook", verifyWebhook(options), async (c) => {
    const event = await c.req.json();
    return c.json({ ok: true, seen: event.rego });
  });
  return app;
}

async function post(app: Hono, body: string, header?: string, env?: unknown): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (header) headers["Recapture-Signature"] = header;
  return await app.request("/hook", { method: "POST", body, headers }, env);
}

Deno.test("verifyWebhook middleware: valid passes through with a readable body", async () => {
  const app = receiver({ secret: SECRET });
  const res = await post(app, BODY, await signPayload(BODY, SECRET));
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { ok: true, seen: "ABC123" });
});

Deno.test("verifyWebhook middleware: failures are 401 and the handler never runs", async () => {
  let ran = 0;
  const app = new Hono();
  app.post("/hook", verifyWebhook({ secrets: [SECRET, OLD_SECRET] }), (c) => {
    ran++;
    return c.text("handled");
  });
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string | undefined, WebhookVerificationReason][] = [
    [BODY, undefined, "missing_header"],
    [BODY, await signPayload(BODY, "whsec_wrong"), "no_matching_signature"],
    [BODY + " ", await signPayload(BODY, SECRET), "no_matching_signature"],
    [
      BODY,
      await signPayload(BODY, SECRET, { timestamp: now - 3600 }),
      "timestamp_outside_tolerance",
    ],
    [
      BODY,
      await signPayload(BODY, SECRET, { timestamp: now + 3600 }),
      "timestamp_outside_tolerance",
    ],
  ];
  for (const [body, header, reason] of cases) {
    const res = await post(app as unknown as Hono, body, header);
    assertEquals(res.status, 401, reason);
    const json = await res.json();
    assertEquals(json.reason, reason);
    assertEquals(json.code, "webhook_verification_failed");
    assertEquals(json.error, true);
  }
  assertEquals(ran, 0);
  const rotated = await post(app as unknown as Hono, BODY, await signPayload(BODY, OLD_SECRET));
  assertEquals(rotated.status, 200);
  assertEquals(ran, 1);
});

Deno.test("verifyWebhook middleware: oversized body is 413 before any crypto", async () => {
  const app = receiver({ secret: SECRET, maxBodyBytes: 64 });
  const big = JSON.stringify({ rego: "X".repeat(100) });
  const res = await post(app, big, await signPayload(big, SECRET));
  assertEquals(res.status, 413);
  assertEquals((await res.json()).reason, "body_too_large");
  // Streamed without Content-Length: caught while reading.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(20)));
      controller.close();
    },
  });
  const res2 = await app.request("/hook", {
    method: "POST",
    body: stream,
    headers: { "Recapture-Signature": `t=1,v1=${"0".repeat(64)}` },
  });
  assertEquals(res2.status, 413);
  await res2.body?.cancel();
});

Deno.test("verifyWebhook middleware: secrets read from the platform env per request", async () => {
  const app = receiver({ secrets: (env) => String(env.HOOK_SECRETS ?? "").split(",") });
  const signed = await signPayload(BODY, "whsec_env_two");
  const ok = await post(app, BODY, signed, { HOOK_SECRETS: "whsec_env_one,whsec_env_two" });
  assertEquals(ok.status, 200);
  const rotatedOut = await post(app, BODY, signed, { HOOK_SECRETS: "whsec_env_one" });
  assertEquals(rotatedOut.status, 401);
  await rotatedOut.body?.cancel();
  const none = await post(app, BODY, signed, {});
  assertEquals(none.status, 500);
  assertEquals((await none.json()).reason, "no_secret");
});

Deno.test("constructEvent verifies and parses an upload.completed event", async () => {
  const event = {
    id: "evt_1",
    type: "upload.completed",
    created_at: new Date().toISOString(),
    data: {
      upload_id: "upl_1",
      region: "au",
      status: "completed",
      total_uploaded_customers: 3,
      total_processed_customers: 3,
      total_errors: 1,
    },
  };
  const body = JSON.stringify(event);
  const parsed = await constructEvent(body, await signPayload(body, SECRET), SECRET);
  assertEquals(parsed, event);
  const other = JSON.stringify({ id: "x", type: "other" });
  await assertRejects(
    async () => await constructEvent(other, await signPayload(other, SECRET), SECRET),
    TypeError,
  );
  // A signed body that is not JSON: the same TypeError (a receiver maps it to 400), not a
  // SyntaxError from JSON.parse that would escape as a 500.
  for (const junk of ["", "{", "not json", '{"id":']) {
    const e = await assertRejects(
      async () => await constructEvent(junk, await signPayload(junk, SECRET), SECRET),
      TypeError,
    );
    assertEquals(e.constructor, TypeError);
    assertEquals(e.message, "Webhook body is not JSON");
  }
});

Deno.test("verifyWebhook middleware: a TRACE request is answered, never a 500", async () => {
  // `new Request(url, { method: "TRACE" })` throws, so this is driven over a real socket.
  let ran = "";
  const app = new Hono();
  app.all("/hook", verifyWebhook({ secret: SECRET }), async (c) => {
    ran = `${c.req.method} ${await c.req.text()}`;
    return c.json({ ok: true });
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const send = async (method: string, body: string, signature?: string): Promise<string> => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const sig = signature ? `Recapture-Signature: ${signature}\r\n` : "";
    const head = `${method} /hook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${sig}`;
    await conn.write(
      new TextEncoder().encode(`${head}Content-Length: ${body.length}\r\n\r\n${body}`),
    );
    let text = "";
    for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) text += chunk;
    return text.split("\r\n")[0];
  };
  try {
    assertEquals(await send("TRACE", BODY), "HTTP/1.1 401 Unauthorized");
    assertEquals(ran, "");
    assertEquals(await send("TRACE", BODY, await signPayload(BODY, SECRET)), "HTTP/1.1 200 OK");
    assertEquals(ran, `TRACE ${BODY}`); // the handler reads the verified bytes
    assertEquals(await send("POST", BODY, await signPayload(BODY, SECRET)), "HTTP/1.1 200 OK");
    assertEquals(ran, `POST ${BODY}`);
  } finally {
    await server.shutdown();
  }
});
