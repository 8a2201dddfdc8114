// mcp/_errors.ts names the SDK's error classes again, to give each one its advice. Tied here to
// the one list (src/sdk/errors.ts, exported by mod.ts): every error class the SDK exports gets
// advice of its own, led by its code, unless it is one of the few answered generically.
import { assert, assertEquals } from "@std/assert";
import * as sdk from "../../mod.ts";
import { explainError } from "../../mcp/_errors.ts";
import { connect, rows, textOf } from "./_fixture.ts";

/** The classes answered with their own code and message, nothing more. */
const GENERIC = new Set([
  "RecaptureError",
  "RecaptureApiError",
  "AbortError",
  "UnexpectedResponseError",
  "AlertEventError",
]);

type ErrorClass = new (...args: never[]) => sdk.RecaptureError;

function errorClasses(): [string, ErrorClass][] {
  const found: [string, ErrorClass][] = [];
  for (const [name, value] of Object.entries(sdk as Record<string, unknown>)) {
    if (typeof value !== "function") continue;
    if (value === sdk.RecaptureError || value.prototype instanceof sdk.RecaptureError) {
      found.push([name, value as ErrorClass]);
    }
  }
  return found;
}

/** An instance of each class, made as its callers make it. */
function instance(name: string, of: ErrorClass): sdk.RecaptureError {
  const make = of as unknown as new (...args: unknown[]) => sdk.RecaptureError;
  if (name === "ValidationError") return new make([{ index: 0, field: "vin", reason: "bad" }]);
  if (name === "RecaptureError") return new make("something failed", "some_code");
  if (name === "AlertEventError") return new make("Invalid event", "data");
  return new make("Invalid Customer ID");
}

Deno.test("every error class the SDK exports gets MCP advice of its own, or is one of the generic few", () => {
  const found = errorClasses();
  const names = found.map(([name]) => name);
  // The list above must not go stale either.
  for (const name of GENERIC) assert(names.includes(name), `${name} is no longer exported`);
  assert(found.length > GENERIC.size + 10, `only ${found.length} error classes found`);
  for (const [name, of] of found) {
    const error = instance(name, of);
    const advice = explainError(error, { region: "au", resource: "customer" });
    assert(advice.startsWith(`${error.code}: `), `${name}: ${advice}`);
    const generic = advice === `${error.code}: ${error.message}`;
    assertEquals(generic, GENERIC.has(name), `${name}: ${advice}`);
  }
});

Deno.test("a retried delete's 404 is explained as a delete that may have happened, not a bad id", () => {
  const error = new sdk.NotFoundError("Invalid Customer ID", {
    earlierAttemptMayHaveDeleted: true,
  });
  const advice = explainError(error, { region: "au", resource: "customer" });
  assertEquals(
    advice,
    "invalid_customer_id: the customer is gone; an earlier attempt of this delete may have " +
      "deleted it, and its answer was lost. Do not retry.",
  );
});

Deno.test("a create whose answer is lost is explained as one that may have happened: the agent is told not to send it again yet", async () => {
  // The sandbox takes each create; its answer is then lost behind a 502 (a gateway that gave up).
  const h = await connect({
    server: { alerts: true },
    // A person accepts the webhook's question (it sends customer data to a third party).
    elicit: () => Promise.resolve({ action: "accept", content: { confirm: true } }),
    fetch: (sandboxFetch) => async (req) => {
      const answer = await sandboxFetch(req);
      return req.method === "POST"
        ? new Response("<html>Bad Gateway</html>", { status: 502 })
        : answer;
    },
  });
  try {
    const upload = await h.call("recapture_upload_customers", { name: "lost", customers: rows(2) });
    assert(upload.isError);
    assertEquals(
      textOf(upload),
      "server_error: the call failed, but the upload may have been created anyway (its answer " +
        "was lost). Do not call this tool again yet: wait a minute, then look for its customers " +
        "at the end of recapture_list_customers (an upload shows none until it is processed), " +
        "and send it again only if it is not there.",
    );
    const webhook = await h.call("recapture_create_webhook", {
      name: "crm",
      endpoint: "https://crm.example.com/hooks?token=t0k3n",
    });
    assert(webhook.isError);
    assert(textOf(webhook).includes("the webhook may have been created anyway"), textOf(webhook));
    assert(textOf(webhook).includes("call recapture_list_webhooks"), textOf(webhook));
    // They were: the advice is right to hold the agent back.
    assertEquals((await h.sdk.webhooks.list()).webhooks.length, 1);
    await h.sandbox.idle();
    assertEquals((await h.sdk.customers.list()).total, 2);
  } finally {
    await h.close();
  }
});
