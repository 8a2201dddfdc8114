/**
 * Opt-in alert tools (`createRecaptureMcpServer(client, { alerts: true })`): register, list and
 * delete alert webhooks, ping one, and, in sandbox mode only, simulate a listing. They are off by
 * default so the default tool list stays within its token budget.
 *
 * Webhook endpoints carry a secret token (AutoGrab's only push authentication), so every
 * endpoint shown in a result is masked: query values and long path segments are cut.
 *
 * @module
 */
import * as z from "zod";
import type { Webhook } from "../../mod.ts";
import { RECAPTURE_ALERT_EVENTS } from "../../mod.ts";
import { MARKET_EVENTS, simulateMarketEvent } from "../../src/sandbox/simulate.ts";
import {
  confirmationToken,
  defineTool,
  DESTRUCTIVE_IDEMPOTENT,
  failure,
  guarded,
  json,
  onResource,
  READ_ONLY,
  region,
  regionOf,
  type RegisteredToolSpec,
  type ToolContext,
  WRITE_OPEN_WORLD,
} from "./_tool.ts";
import { maskRecord } from "../_mask.ts";
import { maskEndpoint } from "../../src/_internal/mask_endpoint.ts";

const EVENT_VALUES = RECAPTURE_ALERT_EVENTS as readonly [string, ...string[]];
const webhookId = z.string().min(1).max(200).describe("Webhook id.");
const webhookOut = z.object({ id: z.string() }).loose();

/**
 * A webhook as a result shows it: the endpoint's secret cut out (query values, long path
 * segments), the rest masked like any record. The alert tools and code mode both show it so.
 *
 * @example
 * ```ts ignore
 * const shown = webhookView(await ctx.client.webhooks.retrieve(id), ctx);
 * ```
 */
export function webhookView(
  w: Webhook,
  ctx: Pick<ToolContext, "scrub" | "mask">,
): z.infer<typeof webhookOut> {
  const shown = { ...w, endpoint: w.endpoint ? maskEndpoint(w.endpoint) : w.endpoint };
  ctx.scrub.collect({ name: w.name });
  return maskRecord(shown, ctx.mask);
}

const createWebhook = defineTool({
  name: "recapture_create_webhook",
  title: "Create alert webhook",
  description: "Register a URL that receives alerts when a tracked car is listed, re-priced or " +
    "delisted. Put a long random token in the URL: it is the only authentication. A person " +
    "confirms first.",
  access: "write",
  annotations: WRITE_OPEN_WORLD,
  input: {
    name: z.string().min(1).max(200),
    endpoint: z.string().url().max(2000).describe("https URL with a secret token."),
    events: z.array(z.enum(EVENT_VALUES)).min(1).optional().describe("Default: all three."),
    confirmation_token: confirmationToken,
    region,
  },
  output: { webhook: webhookOut },
  // Alerts carry customers' regos and VINs to the endpoint: sending data to a third party is an
  // effect a person confirms, naming the host that will receive it.
  plan(args, ctx) {
    const reg = regionOf(args, ctx);
    const events = args.events ?? RECAPTURE_ALERT_EVENTS;
    return Promise.resolve({
      ok: true as const,
      text: "",
      data: {
        region: reg,
        resourceId: "",
        effects: [{
          kind: "send" as const,
          what: `a webhook in region ${reg} is registered that sends alerts (${
            events.join(", ")
          }) with tracked customers' regos, VINs and listings to ${
            new URL(args.endpoint).host
          }, until it is deleted`,
        }],
      },
    });
  },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(ctx, { resource: "webhook", region: reg }, async () => {
      const webhook = webhookView(
        await ctx.client.webhooks.create({
          name: args.name,
          endpoint: args.endpoint,
          events: args.events as typeof RECAPTURE_ALERT_EVENTS[number][] | undefined,
        }, { region: reg }),
        ctx,
      );
      return { ok: true, data: { webhook }, text: `Created.\n${json(webhook)}` };
    });
  },
});

const listWebhooks = defineTool({
  name: "recapture_list_webhooks",
  title: "List alert webhooks",
  description: "List the alert webhooks (endpoints masked).",
  access: "read",
  annotations: READ_ONLY,
  input: { region },
  output: { webhooks: z.array(webhookOut) },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(ctx, { region: reg }, async () => {
      const webhooks = (await ctx.client.webhooks.list({ region: reg })).webhooks.map((w) =>
        webhookView(w, ctx)
      );
      return {
        ok: true,
        data: { webhooks },
        text: `${webhooks.length} webhook(s).\n${json(webhooks)}`,
      };
    });
  },
});

const deleteWebhook = defineTool({
  name: "recapture_delete_webhook",
  title: "Delete alert webhook",
  description: "Delete a webhook; its alerts stop. A person confirms first.",
  access: "write",
  annotations: DESTRUCTIVE_IDEMPOTENT,
  input: { webhook_id: webhookId, confirmation_token: confirmationToken, region },
  output: { action: z.enum(["deleted"]), webhook: webhookOut },
  async plan(args, ctx) {
    return await onResource(ctx, args, "webhook", args.webhook_id, async (reg) => {
      const webhook = webhookView(
        await ctx.client.webhooks.retrieve(args.webhook_id, { region: reg }),
        ctx,
      );
      const events = Array.isArray(webhook.events) ? ` (${webhook.events.join(", ")})` : "";
      return {
        ok: true,
        data: {
          region: reg,
          resourceId: args.webhook_id,
          effects: [{
            kind: "delete",
            what: `webhook ${webhook.id} in region ${reg}, pushing to ${webhook.endpoint}, is ` +
              `deleted; its alerts${events} stop`,
          }],
        },
        text: "",
      };
    });
  },
  async run(args, ctx) {
    return await onResource(ctx, args, "webhook", args.webhook_id, async (reg) => {
      const webhook = webhookView(
        await ctx.client.webhooks.delete(args.webhook_id, { region: reg }),
        ctx,
      );
      return {
        ok: true,
        data: { action: "deleted" as const, webhook },
        text: `Deleted webhook ${webhook.id}.`,
      };
    });
  },
});

const pingWebhook = defineTool({
  name: "recapture_ping_webhook",
  title: "Ping alert webhook",
  description: "Send a test ping event to a webhook's endpoint.",
  access: "write",
  annotations: WRITE_OPEN_WORLD,
  input: { webhook_id: webhookId, region },
  output: { event_id: z.string().nullable() },
  async run(args, ctx) {
    return await onResource(ctx, args, "webhook", args.webhook_id, async (reg) => {
      const { event } = await ctx.client.webhooks.ping(args.webhook_id, { region: reg });
      const id = event?.id ?? null;
      return {
        ok: true,
        data: { event_id: id },
        text: id ? `Ping ${id} queued.` : "Ping queued.",
      };
    });
  },
});

const simulateListing = defineTool({
  name: "recapture_simulate_listing",
  title: "Simulate listing (sandbox)",
  description: "Sandbox only: pretend a car (VIN, or rego+state) was listed, re-priced or " +
    "delisted, to test alerts.",
  access: "write",
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: false,
  },
  input: {
    event: z.enum(MARKET_EVENTS).optional(),
    vin: z.string().max(17).optional(),
    rego: z.string().max(20).optional(),
    state: z.string().max(3).optional(),
    marketplace: z.string().min(1).max(100),
    price: z.number().min(0).optional(),
    region,
  },
  output: {
    event: z.string(),
    matched: z.number(),
    alert_ids: z.array(z.string()),
  },
  async run(args, ctx) {
    const reg = regionOf(args, ctx);
    return await guarded(ctx, { region: reg }, async () => {
      if (!args.vin && !args.rego) failure("invalid_arguments", "give vin, or rego and state.");
      const { region: _r, ...params } = args;
      const r = await simulateMarketEvent(ctx.client, params, { region: reg });
      const data = { event: r.event, matched: r.matched, alert_ids: r.alerts.map((a) => a.id) };
      return {
        ok: true,
        data,
        text: `${r.matched} tracked customer(s) matched; ${r.event} pushed to their webhooks.`,
      };
    });
  },
});

/** The alert tools, in listing order (the simulate tool is served in sandbox mode only). */
export const ALERT_TOOLS: readonly RegisteredToolSpec[] = [
  createWebhook,
  listWebhooks,
  deleteWebhook,
  pingWebhook,
  simulateListing,
];

/** The name of the sandbox-only tool. */
export const SANDBOX_ONLY_TOOL = "recapture_simulate_listing";
