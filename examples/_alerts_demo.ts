/**
 * The last act of `deno task demo` (sandbox mode): the reason customers are uploaded. It serves
 * the edge adapter's alert relay on 127.0.0.1, registers its URL (with a random token) as a
 * webhook, simulates a listing of one uploaded customer's car in the sandbox, and prints the
 * alert as it arrives at the relay's destinations: a signed CRM webhook and a Slack message.
 *
 * @module
 */
import type { Customer, RecaptureClient } from "../mod.ts";
import { createAlertRelay, type EnrichedAlert } from "../src/edge/mod.ts";
import { type Sandbox, SANDBOX_API_KEY, simulateMarketEvent } from "../src/sandbox/mod.ts";
import { SIGNATURE_HEADER, verifySignature } from "../src/signature/mod.ts";

/** Runs the alert walkthrough against `sandbox`, for `customer`. */
export async function alertsDemo(
  client: RecaptureClient,
  sandbox: Sandbox,
  customer: Customer,
): Promise<void> {
  console.log("\nAlerts: when a tracked car is listed for sale");
  const token = crypto.randomUUID().replaceAll("-", "");
  const secret = `whsec_demo_${crypto.randomUUID()}`;
  const arrived = Promise.withResolvers<void>();
  const relay = createAlertRelay({
    tokens: [token],
    apiKey: SANDBOX_API_KEY,
    apiFetch: sandbox.fetch,
    baseUrl: "https://sandbox.recapture.local",
    destinations: [
      { kind: "webhook", url: "https://crm.example/hooks/recapture", secret },
      { kind: "slack", url: "https://hooks.slack.example/services/demo" },
    ],
    // The destinations are played by this process: print what they receive.
    fetch: async (request) => {
      const body = await request.text();
      if (request.url.includes("slack")) {
        console.log(`  Slack message:  ${(JSON.parse(body) as { text: string }).text}`);
      } else {
        await verifySignature(body, request.headers.get(SIGNATURE_HEADER), secret);
        const alert = JSON.parse(body) as EnrichedAlert;
        const listing = (alert.data as { listing: { marketplace: string; price: number } })
          .listing;
        console.log(
          `  CRM webhook:    ${alert.event} ${alert.id}, signature verified; customer ` +
            `${alert.customer?.client_name ?? alert.customer?.id}, ${listing.marketplace} ` +
            `$${
              listing.price.toLocaleString("en-AU")
            }, ${alert.customer?.sightings?.length} sighting(s)`,
        );
        arrived.resolve();
      }
      return new Response("ok");
    },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => relay.fetch(request),
  );
  const relayUrl = `http://127.0.0.1:${server.addr.port}`;
  try {
    const hook = await client.webhooks.create({
      name: "Demo edge relay",
      endpoint: `${relayUrl}/alerts/${token}`,
    });
    console.log(`  Registered webhook ${hook.id} → ${relayUrl}/alerts/<token>`);
    const car = customer.vin
      ? { vin: customer.vin }
      : { rego: customer.rego ?? "", state: customer.state ?? undefined };
    const result = await simulateMarketEvent(client, {
      ...car,
      marketplace: "carsales",
      price: 24_990,
    });
    console.log(
      `  Simulated: ${customer.rego ?? customer.vin} listed on carsales for $24,990 → ` +
        `${result.matched} tracked customer(s) matched`,
    );
    const timeout = setTimeout(() => arrived.reject(new Error("no alert within 10 s")), 10_000);
    try {
      await arrived.promise;
    } finally {
      clearTimeout(timeout);
    }
    await relay.idle();
  } finally {
    await server.shutdown();
  }
}
