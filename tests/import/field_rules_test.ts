// One set of field rules (src/sdk/schemas.ts FIELD_RULES): a row the SDK's validation accepts is
// never refused while the sandbox processes it. Rows mix valid and invalid regos, mobiles and
// names at and around each rule's edges (length, characters, digit counts, spaces, dashes); the
// rows validateCustomers keeps are sent as one upload to an in-process sandbox, and the upload
// must finish with no error. The rows it refuses must each name the field whose rule failed.

import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient } from "../../src/sdk/client.ts";
import { validateCustomers } from "../../src/sdk/validate.ts";
import { FIELD_RULES } from "../../src/sdk/schemas.ts";
import { createSandbox, SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

const regoArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{1,12}$/),
  fc.stringMatching(/^[A-Z0-9 -]{1,14}$/),
  fc.constantFrom("ABC-123", "ab 12 cd", "ABCDEFGHIJ", "ABCDEFGHIJK", "AB.12", "ÄB12", "-"),
);
const mobileArb = fc.oneof(
  fc.stringMatching(/^\+?[0-9 ()-]{1,20}$/),
  fc.constantFrom(
    "0412 345 678",
    "+61 (4) 1234-5678",
    "12345",
    "123456",
    "1234567890123456",
    "04x",
  ),
);
const nameArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("x".repeat(200), "x".repeat(201), " ".repeat(3) + "x".repeat(200)),
);
const rowArb = fc.record({ rego: regoArb, mobile_number: mobileArb, client_name: nameArb });

Deno.test("field rules: a row the SDK accepts is processed without error by the sandbox", async () => {
  const rows =
    fc.sample(fc.array(rowArb, { minLength: 400, maxLength: 400 }), { numRuns: 1, seed: 15 })[0];
  const { valid, issues } = validateCustomers(rows.map((r) => ({ ...r, state: "NSW" })));
  // Both sides of every rule are exercised.
  for (const field of ["rego", "mobile_number", "client_name"]) {
    assert(issues.some((i) => i.field === field), `no row broke the ${field} rule`);
  }
  assert(valid.length > 50, `only ${valid.length} valid rows`);
  for (const issue of issues) {
    const value = String((rows[issue.index] as Record<string, string>)[issue.field] ?? "").trim();
    const rule = FIELD_RULES[issue.field as keyof typeof FIELD_RULES];
    if (rule !== undefined) assertEquals(issue.reason, rule(value), `row ${issue.index}`);
  }
  const sandbox = await createSandbox();
  try {
    const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
    const upload = await client.uploads.create({ name: "rules", customers: valid });
    await sandbox.idle();
    const done = await client.uploads.retrieve(upload.id);
    assertEquals(done.total_uploaded_customers, valid.length);
    assertEquals(done.errors ?? [], []);
    assertEquals(done.total_errors, 0);
  } finally {
    await sandbox.close();
  }
});
