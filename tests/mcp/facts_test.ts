/**
 * What the MCP tools write by hand about the API's fields, held to the SDK's schemas: the update
 * tool's fields and name bound, and the field list in the upload tool's help.
 */
import { assert, assertEquals } from "@std/assert";
import { ALL_TOOLS } from "../../mcp/_registry.ts";
import {
  CustomerInputSchema,
  CustomerUpdateParamsSchema,
  FIELD_RULES,
} from "../../src/sdk/schemas.ts";

/** The `properties` of a tool's input schema as `tools/list` shows it. */
function inputProperties(
  name: string,
): Record<string, { description?: string; maxLength?: number }> {
  const tool = ALL_TOOLS.find((t) => t.name === name);
  assert(tool !== undefined, name);
  return tool.listing().inputSchema.properties as Record<string, { maxLength?: number }>;
}

Deno.test("recapture_update_customer takes exactly the fields the SDK's update schema names", () => {
  const own = ["customer_id", "confirmation_token", "region"];
  assertEquals(
    Object.keys(inputProperties("recapture_update_customer")).filter((f) => !own.includes(f))
      .sort(),
    Object.keys(CustomerUpdateParamsSchema.entries).sort(),
  );
});

Deno.test("recapture_update_customer bounds client_name where the SDK's field rule does", () => {
  const max = inputProperties("recapture_update_customer").client_name.maxLength;
  assert(max !== undefined);
  assertEquals(FIELD_RULES.client_name("x".repeat(max)), null, "the tool's longest name passes");
  assert(FIELD_RULES.client_name("x".repeat(max + 1)) !== null, "one more is refused");
});

Deno.test("recapture_upload_customers' help names exactly the customer fields", () => {
  const help = inputProperties("recapture_upload_customers").customers.description ?? "";
  // The field names written in the help: lower-case words, the joining "or" aside.
  const named = [...help.matchAll(/\b[a-z]+(?:_[a-z]+)*\b/g)].map((m) => m[0])
    .filter((word) => word !== "or");
  assertEquals(named.sort(), Object.keys(CustomerInputSchema.entries).sort(), help);
});
