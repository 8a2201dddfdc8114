/**
 * `@recapture/sdk`: a typed client for AutoGrab's Customer Recapture API, on `fetch`. Runs
 * unchanged on Deno, Deno Deploy, Cloudflare Workers, Node and Bun.
 *
 * @example
 * ```ts
 * import { RecaptureClient, NotFoundError } from "@recapture/sdk";
 * const client = new RecaptureClient({
 *   apiKey: "sec_example",
 *   fetch: () => Promise.resolve(Response.json({ error: true, message: "Invalid Customer ID" }, { status: 404 })),
 * });
 * try {
 *   await client.customers.retrieve("nope");
 * } catch (e) {
 *   if (e instanceof NotFoundError) console.log(e.code); // "invalid_customer_id"
 * }
 * ```
 * @module
 */

export * from "./src/sdk/mod.ts";
