/**
 * The Slack message the alert relay sends for an event: customer name, rego, listing link and
 * price, in Slack's `mrkdwn` (`&`, `<`, `>` escaped; the listing link only for an http(s) URL).
 *
 * @module
 */
import {
  type AlertEvent,
  isRecaptureAlert,
  type PriceChangeEvent,
} from "../../sdk/alert_events.ts";
import type { Customer } from "../../sdk/schemas.ts";

function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A listing URL fit for a Slack link: http(s) only (Slack reads `<!channel|…>`, `<@U…>` and
 * `<#C…>` as mentions and channel links), `<`, `>` and `|` percent-encoded; else null.
 */
function listingUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  return url.href.replace(/[<>|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function money(price: unknown): string {
  return typeof price === "number"
    ? `$${price.toLocaleString("en-AU", { maximumFractionDigits: 0 })}`
    : "an unknown price";
}

/**
 * The Slack message for an event: customer name, rego, listing link and price.
 *
 * @example
 * ```ts
 * import { parseAlertEvent } from "@recapture/sdk";
 * import { slackText } from "@recapture/sdk/edge";
 * const event = parseAlertEvent({
 *   id: "evt_1", event: "recapture_new", region: "au",
 *   data: { customer_id: "cus_1", rego: "ABC123", state: "NSW",
 *     listing: { url: "https://example.com/l/1", marketplace: "carsales", price: 23500 } },
 * });
 * console.log(slackText(event, { id: "cus_1", client_name: "Jo Citizen" }));
 * ```
 */
export function slackText(event: AlertEvent, customer: Customer | null): string {
  if (!isRecaptureAlert(event)) {
    return event.event === "ping"
      ? `Recapture alerts: ping ${escapeSlack(event.id)} received`
      : `Recapture alerts: ${escapeSlack(event.event)} event ${escapeSlack(event.id)}`;
  }
  const d = event.data;
  const who = escapeSlack(customer?.client_name ?? `Customer ${d.customer_id}`);
  const car = escapeSlack(
    [d.rego ?? customer?.rego, d.state ?? customer?.state].filter(Boolean).join(" ") ||
      (d.vin ?? customer?.vin ?? "unknown car"),
  );
  const where = escapeSlack(d.listing.marketplace ?? "a marketplace");
  const url = listingUrl(d.listing.url);
  const link = url ? ` <${url}|View listing>` : "";
  switch (event.event) {
    case "recapture_new":
      return `:rotating_light: ${who}'s car ${car} is listed on ${where} for ${
        money(d.listing.price)
      }.${link}`;
    case "recapture_price_change":
      return `:chart_with_downwards_trend: ${who}'s car ${car} on ${where}: ${
        money((event as PriceChangeEvent).data.previous_price)
      } → ${money(d.listing.price)}.${link}`;
    default:
      return `:no_entry_sign: ${who}'s car ${car} was delisted from ${where} (last price ${
        money(d.listing.price)
      }).${link}`;
  }
}
