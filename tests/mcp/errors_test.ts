// mcp/_errors.ts names the SDK's error classes again, to give each one its advice. Tied here to
// the one list (src/sdk/errors.ts, exported by mod.ts): every error class the SDK exports gets
// advice of its own, led by its code, unless it is one of the few answered generically.
import { assert, assertEquals } from "@std/assert";
import * as sdk from "../../mod.ts";
import { explainError } from "../../mcp/_errors.ts";

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
