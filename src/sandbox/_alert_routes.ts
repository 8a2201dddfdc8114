/**
 * Routes of the Webhooks API (`/v2/webhooks`) and of the sandbox-only market simulation
 * (`POST /sandbox/market/events`), mounted on the sandbox app.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Auth } from "./_auth.ts";
import { checkQuery, MESSAGES, readJson } from "./_http.ts";
import { type Market, parseMarketEvent } from "./_market.ts";
import type { RateLimiter } from "./_rate_limit.ts";
import { allowOnly, apiGuard, type SandboxContext, type SandboxEnv, who } from "./_routing.ts";
import {
  type AlertSubscriptionStore,
  parseAlertSubscription,
  SUBSCRIPTION_MESSAGES,
  viewOf,
} from "./_alert_subscriptions.ts";

/** What the alert routes need. */
export interface AlertRouteDeps {
  auth: Auth;
  limiter: RateLimiter;
  subscriptions: AlertSubscriptionStore;
  market: Market;
  now: () => Date;
  maxBodyBytes: number;
}

type Ctx = SandboxContext;

/** Mounts the Webhooks API and the market route on `app`. */
export function mountAlertRoutes(app: Hono<SandboxEnv>, deps: AlertRouteDeps): void {
  const { auth, limiter, subscriptions, market } = deps;
  const maxBody = Math.min(deps.maxBodyBytes, 64 * 1024);

  // `/v2/webhooks/*` matches `/v2/webhooks` itself too: one guard, one count per request.
  app.use("/v2/webhooks/*", apiGuard(auth, limiter, SUBSCRIPTION_MESSAGES.invalidRegion));
  app.use("/sandbox/market/*", apiGuard(auth, limiter, MESSAGES.invalidRegion));

  const onlyRegion = (c: Ctx) => checkQuery(new URL(c.req.url), ["region"]);

  app.post("/v2/webhooks", async (c) => {
    onlyRegion(c);
    const [account, region] = who(c);
    const record = parseAlertSubscription(
      await readJson(c.req.raw, maxBody),
      account,
      region,
      deps.now(),
    );
    return c.json({ success: true, webhook: await subscriptions.create(record) }, 201);
  });
  app.get("/v2/webhooks", async (c) => {
    onlyRegion(c);
    const list = await subscriptions.list(...who(c));
    return c.json({ success: true, webhooks: list.map(viewOf) });
  });
  allowOnly(app, "/v2/webhooks", "GET, POST");

  app.get("/v2/webhooks/:id", async (c) => {
    onlyRegion(c);
    const entry = await subscriptions.get(...who(c), c.req.param("id"));
    return c.json({ success: true, webhook: viewOf(entry.value) });
  });
  app.delete("/v2/webhooks/:id", async (c) => {
    onlyRegion(c);
    return c.json({
      success: true,
      webhook: await subscriptions.delete(...who(c), c.req.param("id")),
    });
  });
  allowOnly(app, "/v2/webhooks/:id", "GET, DELETE");

  app.post("/v2/webhooks/:id/ping", async (c) => {
    onlyRegion(c);
    const entry = await subscriptions.get(...who(c), c.req.param("id"));
    return c.json({ success: true, event: await market.ping(entry.value) }, 202);
  });
  allowOnly(app, "/v2/webhooks/:id/ping", "POST");

  app.post("/sandbox/market/events", async (c) => {
    onlyRegion(c);
    const input = parseMarketEvent(await readJson(c.req.raw, maxBody));
    return c.json({ success: true, ...(await market.apply(...who(c), input)) });
  });
  allowOnly(app, "/sandbox/market/events", "POST");
}
