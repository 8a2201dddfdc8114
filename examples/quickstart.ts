/**
 * Quick start: upload two customers, wait for processing, list them, update one, and clean up.
 *
 * ```sh
 * deno run -A examples/quickstart.ts                              # in-process sandbox
 * RECAPTURE_API_KEY=sec_... deno run -A examples/quickstart.ts    # the real API (region au)
 * ```
 *
 * Without `RECAPTURE_API_KEY` the client talks to a sandbox in the same process (the sandbox's
 * `fetch` is handed to the client: no port, no network, Deno KV in memory). With it, the same
 * code talks to `https://api.autograb.com.au`; the customers it creates are deleted at the end.
 *
 * @module
 */
import { type Customer, RecaptureClient, RecaptureError } from "@recapture/sdk";
import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";

const apiKey = Deno.env.get("RECAPTURE_API_KEY");
const sandbox = apiKey ? undefined : await createSandbox();
const client = new RecaptureClient(
  sandbox ? { apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch } : { apiKey, region: "au" },
);
console.log(`talking to ${sandbox ? "the in-process sandbox" : "the Recapture API"}`);

try {
  // 1. Queue an upload. Rows are validated first: a bad row throws a ValidationError naming it.
  const upload = await client.uploads.create({
    name: "Quick start",
    customers: [
      { rego: "abc 123", state: "NSW", client_name: "Olivia Smith", mobile_number: "0400000001" },
      { vin: "1HGCM82633A004352", client_name: "Jack Nguyen", sale_date: "2024-03-01" },
    ],
  });
  console.log(`upload ${upload.id}: ${upload.total_uploaded_customers} customers queued`);

  // 2. Wait until the API has processed every customer, with progress.
  const done = await client.uploads.wait(upload.id, {
    intervalMs: sandbox ? 50 : 2000,
    onProgress: (u) =>
      console.log(`  processed ${u.total_processed_customers}/${u.total_uploaded_customers}`),
  });
  console.log(`upload ${done.id}: ${done.status ?? "done"}, ${done.total_errors} errors`);

  // 3. List the upload's customers (page by page with `customers.iterate`).
  const customers: Customer[] = [];
  for await (const c of client.customers.iterate({ upload_id: upload.id })) customers.push(c);
  for (const c of customers) console.log(`  ${c.id}  ${c.rego ?? c.vin}  ${c.client_name}`);

  // 4. Update one customer: only the fields given change; "" clears a field.
  const updated = await client.customers.update(customers[0].id, {
    client_name: "Olivia Smith-Jones",
    mobile_number: "",
  });
  console.log(`updated ${updated.id}: ${updated.client_name}, mobile ${updated.mobile_number}`);

  // 5. Clean up.
  for (const c of customers) await client.customers.delete(c.id);
  console.log(`deleted ${customers.length} customers`);
} catch (e) {
  // Every SDK error is a RecaptureError with a stable `code` (and never the API key).
  if (e instanceof RecaptureError) console.error(`failed: ${e.code}: ${e.message}`);
  throw e;
} finally {
  await sandbox?.idle();
  await sandbox?.close();
}
