/**
 * A client for the sandbox-only market simulation (`POST /sandbox/market/events`): "the car
 * with this VIN (or rego + state) was listed / re-priced / delisted on marketplace X at price Y".
 * The sandbox then appends a sighting to each matching tracked customer of the calling account
 * and pushes the alert to the account's subscribed webhooks. Used by the CLI's
 * `simulate-listing`, the MCP server's sandbox-only tool and the demo.
 *
 * @example
 * ```ts
 * import { openClient } from "../config/mod.ts";
 * import { simulateMarketEvent } from "./simulate.ts";
 *
 * const { client, close } = await openClient({ path: ":memory:", env: {} });
 * const result = await simulateMarketEvent(client, {
 *   event: "listed", rego: "ABC123", state: "NSW", marketplace: "carsales", price: 23500,
 * });
 * console.log(result.matched); // 0: no customer tracks that car yet
 * await close();
 * ```
 * @module
 */
import type { Region } from "../sdk/schemas.ts";
import { UnexpectedResponseError } from "../sdk/errors.ts";
import { apiError, errorMessage } from "../sdk/_response.ts";

/**
 * What can happen to a listing on the simulated market: the car is listed (the default), its
 * price changes, it is delisted. Each becomes its alert: `recapture_new`,
 * `recapture_price_change`, `recapture_delist`.
 *
 * @example
 * ```ts
 * import { MARKET_EVENTS } from "./simulate.ts";
 *
 * console.log(MARKET_EVENTS.join("|")); // "listed|price_change|delisted"
 * ```
 */
export const MARKET_EVENTS = ["listed", "price_change", "delisted"] as const;

/** One of {@linkcode MARKET_EVENTS}. */
export type MarketEvent = (typeof MARKET_EVENTS)[number];

/**
 * Whether `x` is one of {@linkcode MARKET_EVENTS}.
 *
 * @example
 * ```ts
 * import { isMarketEvent } from "./simulate.ts";
 *
 * console.log(isMarketEvent("delisted"), isMarketEvent("sold")); // true false
 * ```
 */
export function isMarketEvent(x: unknown): x is MarketEvent {
  return (MARKET_EVENTS as readonly unknown[]).includes(x);
}

/** What {@linkcode simulateMarketEvent} needs of a client (a `RecaptureClient` fits). */
export interface MarketClient {
  /** Sends one request with the client's auth and region (see `RecaptureClient.requestRaw`). */
  requestRaw(
    method: string,
    path: string,
    init?: {
      body?: string;
      headers?: HeadersInit;
      region?: Region;
      signal?: AbortSignal;
      idempotent?: boolean;
    },
  ): Promise<Response>;
}

/** What happened on the simulated market. */
export interface SimulateMarketParams {
  /** What happened (default `listed`). */
  event?: MarketEvent;
  /** The car's rego (matched with `state` when no customer has the VIN). */
  rego?: string;
  /** The rego's state (AU). */
  state?: string;
  /** The car's VIN (matched first). */
  vin?: string;
  /** Where it is listed, e.g. `carsales`. */
  marketplace: string;
  /** The asking price (required unless delisted). */
  price?: number;
  /** The listing URL (default: a made-up one, stable per marketplace and car). */
  url?: string;
  /** `private` (default) or `dealer`. */
  seller_type?: string;
  /** The listing title (default: the customer's vehicle title). */
  title?: string;
}

/** The sandbox's answer. */
export interface SimulateMarketResult {
  /** The alert event name (`recapture_new`, ...). */
  event: string;
  /** How many tracked customers matched (and are monitored today). */
  matched: number;
  /** One alert per matched customer: its event id and how many webhooks it is pushed to. */
  alerts: { id: string; customer_id: string; webhooks: number }[];
}

/**
 * Posts a market event to the sandbox with the client's credentials and region. Throws the
 * SDK's typed errors (e.g. `InvalidRequestError` naming the bad field; `NotFoundError` against
 * the real API, which has no such route).
 *
 * @example
 * ```ts ignore
 * await simulateMarketEvent(client, { event: "price_change", vin: "1HGCM82633A004352", marketplace: "carsales", price: 21000 });
 * ```
 */
export async function simulateMarketEvent(
  client: MarketClient,
  params: SimulateMarketParams,
  options?: { region?: Region; signal?: AbortSignal },
): Promise<SimulateMarketResult> {
  const body = JSON.stringify({ event: params.event ?? "listed", ...withoutEvent(params) });
  const response = await client.requestRaw("POST", "/sandbox/market/events", {
    body,
    headers: { "Content-Type": "application/json" },
    region: options?.region,
    signal: options?.signal,
    idempotent: false,
  });
  const text = await response.text();
  if (!response.ok) {
    throw apiError(response.status, response.headers, errorMessage(text), Date.now());
  }
  try {
    const json = JSON.parse(text) as SimulateMarketResult;
    if (typeof json.matched !== "number" || !Array.isArray(json.alerts)) throw new Error("shape");
    return { event: json.event, matched: json.matched, alerts: json.alerts };
  } catch {
    throw new UnexpectedResponseError(
      `Unexpected response to POST /sandbox/market/events (HTTP ${response.status})`,
      { status: response.status },
    );
  }
}

function withoutEvent(params: SimulateMarketParams): Omit<SimulateMarketParams, "event"> {
  const { event: _, ...rest } = params;
  return rest;
}
