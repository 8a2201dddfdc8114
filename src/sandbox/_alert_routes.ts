/**
 * Routes of the Webhooks API (`/v2/webhooks`) and of the sandbox-only market simulation
 * (`POST /sandbox/market/events`), mounted on the sandbox app.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { SandboxEnv } from "./_app.ts";
import type { Auth } from "./_auth.ts";
import { checkQuery, HttpError, MESSAGES, readJson } from "./_http.ts";
import { type Market, parseMarketEvent } from "./_market.ts";
import type { RateLimiter } from "./_rate_limit.ts";
import { type Region, REGIONS } from "./_types.ts";
import { isRegion } from "../sdk/schemas.ts";
import { parseWebhook, viewOf, WEBHOOK_MESSAGES, type WebhookStore } from "./_webhooks.ts";

/** What the alert routes need. */
export interface AlertRouteDeps {
  auth: Auth;
  limiter: RateLimiter;
  webhooks: WebhookStore;
  market: Market;
  now: () => Date;
  maxBodyBytes: number;
}

type Ctx = Context<SandboxEnv>;

/** Mounts the Webhooks API and the market route on `app`. */
export function mountAlertRoutes(app: Hono<SandboxEnv>, deps: AlertRouteDeps): void {
  const { auth, limiter, webhooks, market } = deps;
  const maxBody = Math.min(deps.maxBodyBytes, 64 * 1024);

  /** Auth, rate limit and region (`Invalid Region` as the webhooks docs spell it). */
  const guard = (invalidRegion: string) => async (c: Ctx, next: () => Promise<void>) => {
    const caller = await auth.caller(c.req.raw.headers);
    for (const [name, value] of Object.entries(limiter.take(caller.limiterKey))) {
      c.header(name, value);
    }
    const regions = new URL(c.req.url).searchParams.getAll("region");
    const region = regions[0] as Region;
    if (regions.length === 0 || !isRegion(region)) {
      throw new HttpError(
        400,
        invalidRegion,
        {},
        regions.length === 0
          ? `the region query parameter is required (${REGIONS.join(", ")})`
          : `"${regions[0]}" is not one of ${REGIONS.join(", ")}`,
      );
    }
    if (!caller.regions.includes(region)) throw new HttpError(403, MESSAGES.notLicensed);
    c.set("caller", caller);
    c.set("region", region);
    await next();
  };
  // `/v2/webhooks/*` matches `/v2/webhooks` itself too: one guard, one count per request.
  app.use("/v2/webhooks/*", guard(WEBHOOK_MESSAGES.invalidRegion));
  app.use("/sandbox/market/*", guard(MESSAGES.invalidRegion));

  const who = (c: Ctx): [string, Region] => [c.get("caller").account, c.get("region")];
  const onlyRegion = (c: Ctx) => checkQuery(new URL(c.req.url), ["region"]);

  app.post("/v2/webhooks", async (c) => {
    onlyRegion(c);
    const [account, region] = who(c);
    const record = parseWebhook(await readJson(c.req.raw, maxBody), account, region, deps.now());
    return c.json({ success: true, webhook: await webhooks.create(record) }, 201);
  });
  app.get("/v2/webhooks", async (c) => {
    onlyRegion(c);
    const list = await webhooks.list(...who(c));
    return c.json({ success: true, webhooks: list.map(viewOf) });
  });
  allow(app, "/v2/webhooks", "GET, POST");

  app.get("/v2/webhooks/:id", async (c) => {
    onlyRegion(c);
    const entry = await webhooks.get(...who(c), c.req.param("id"));
    return c.json({ success: true, webhook: viewOf(entry.value) });
  });
  app.delete("/v2/webhooks/:id", async (c) => {
    onlyRegion(c);
    return c.json({ success: true, webhook: await webhooks.delete(...who(c), c.req.param("id")) });
  });
  allow(app, "/v2/webhooks/:id", "GET, DELETE");

  app.post("/v2/webhooks/:id/ping", async (c) => {
    onlyRegion(c);
    const entry = await webhooks.get(...who(c), c.req.param("id"));
    return c.json({ success: true, event: await market.ping(entry.value) }, 202);
  });
  allow(app, "/v2/webhooks/:id/ping", "POST");

  app.post("/sandbox/market/events", async (c) => {
    onlyRegion(c);
    const input = parseMarketEvent(await readJson(c.req.raw, maxBody));
    return c.json({ success: true, ...(await market.apply(...who(c), input)) });
  });
  allow(app, "/sandbox/market/events", "POST");
}

function allow(app: Hono<SandboxEnv>, path: string, methods: string): void {
  app.all(path, (c) => {
    c.header("Allow", methods);
    return c.json(
      {
        error: true,
        message: `Method ${c.req.method} is not allowed on ${c.req.path}; use ${methods}`,
      },
      405,
    );
  });
}
