/**
 * The HTTP surface of the sandbox: the Customer Recapture API routes on Hono, the OAuth token
 * endpoint, auth, region and licence checks, rate limits, and the API's error envelope.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { Auth, Caller } from "./_auth.ts";
import { checkQuery, HttpError, intParam, MESSAGES, readJson } from "./_http.ts";
import { randomHex } from "../_internal/hex.ts";
import { parsePatch, parseUpload } from "./_input.ts";
import type { RateLimiter } from "./_rate_limit.ts";
import { type AlertRouteDeps, mountAlertRoutes } from "./_alert_routes.ts";
import type { Store } from "./_store.ts";
import { type Region, REGIONS } from "./_types.ts";
import { isRegion } from "../sdk/schemas.ts";

/** The Hono environment of the sandbox app. */
export interface SandboxEnv {
  /** Values set by the auth middleware. */
  Variables: { caller: Caller; region: Region };
}

/** What the routes need. */
export interface AppDeps {
  store: Store;
  auth: Auth;
  limiter: RateLimiter;
  maxBodyBytes: number;
  /** The Webhooks API and the market simulation (mounted when given). */
  alerts?: Omit<AlertRouteDeps, "auth" | "limiter" | "maxBodyBytes">;
  /** Whether the sandbox is closing or closed: requests then get a quiet 503. */
  isClosed?: () => boolean;
  /** Told when a request starts and ends (processing gives way to requests). */
  activity?: { serving(): void; served(): void };
}

type Ctx = Context<SandboxEnv>;

/** Builds the sandbox's Hono app. */
export function buildApp(deps: AppDeps): Hono<SandboxEnv> {
  const { store, auth, limiter, maxBodyBytes } = deps;
  const isClosed = deps.isClosed ?? (() => false);
  const app = new Hono<SandboxEnv>();
  const closing = () => new HttpError(503, "The sandbox is closing", { "Retry-After": "1" });

  app.onError((err, c) => {
    // A request caught by close() fails on the closed KV: that is the 503, not an internal error.
    if (!(err instanceof HttpError) && isClosed()) err = closing();
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
      const detail = err.detail !== undefined ? { detail: err.detail } : {};
      return c.json({ error: true, message: err.message, ...detail }, err.status as 400);
    }
    console.error("recapture sandbox: internal error:", err);
    return c.json({ error: true, message: "Internal server error" }, 500);
  });
  app.notFound((c) =>
    c.json({ error: true, message: `No such endpoint: ${c.req.method} ${c.req.path}` }, 404)
  );

  app.use("*", async (c, next) => {
    c.header("X-Request-Id", `req_${randomHex(8)}`);
    if (isClosed()) throw closing();
    deps.activity?.serving();
    try {
      await next();
    } finally {
      deps.activity?.served();
    }
  });

  const token = async (c: Ctx) => {
    c.header("Cache-Control", "no-store");
    return c.json(await auth.issueToken(c.req.raw), 200);
  };
  app.post("/auth-broker/request-token", token);
  app.post("/request-token", token);
  allow(app, "/auth-broker/request-token", "POST");
  allow(app, "/request-token", "POST");

  app.use("/v2/recapture/*", async (c, next) => {
    const caller = await auth.caller(c.req.raw.headers);
    const headers = limiter.take(caller.limiterKey);
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    const regions = new URL(c.req.url).searchParams.getAll("region");
    if (regions.length === 0) {
      throw new HttpError(
        400,
        MESSAGES.invalidRegion,
        {},
        `the region query parameter is required (${REGIONS.join(", ")})`,
      );
    }
    const region = regions[0] as Region;
    if (!isRegion(region)) {
      throw new HttpError(
        400,
        MESSAGES.invalidRegion,
        {},
        `"${regions[0]}" is not one of ${REGIONS.join(", ")}`,
      );
    }
    if (!caller.regions.includes(region)) throw new HttpError(403, MESSAGES.notLicensed);
    c.set("caller", caller);
    c.set("region", region);
    await next();
  });

  const who = (c: Ctx): [string, Region] => [c.get("caller").account, c.get("region")];
  const query = (c: Ctx, allowed: readonly string[]) => checkQuery(new URL(c.req.url), allowed);

  app.post("/v2/recapture/upload", async (c) => {
    query(c, ["region"]);
    const input = parseUpload(await readJson(c.req.raw, maxBodyBytes));
    const upload = await store.acceptUpload(...who(c), input);
    return c.json({ success: true, upload }, 201);
  });
  allow(app, "/v2/recapture/upload", "POST");

  app.get("/v2/recapture/upload/:id", async (c) => {
    query(c, ["region"]);
    const entry = await store.uploadFor(...who(c), c.req.param("id"));
    return c.json({ success: true, upload: await store.uploadView(entry.value) });
  });
  app.delete("/v2/recapture/upload/:id", async (c) => {
    query(c, ["region"]);
    const upload = await store.cancelUpload(...who(c), c.req.param("id"));
    return c.json({ success: true, upload });
  });
  allow(app, "/v2/recapture/upload/:id", "GET, DELETE");

  app.get("/v2/recapture/customers", async (c) => {
    const q = query(c, ["region", "offset", "limit", "upload_id"]);
    const offset = intParam(q, "offset", 0, 0, 1_000_000_000);
    const limit = intParam(q, "limit", 50, 1, 1000);
    const uploadId = q.get("upload_id");
    if (uploadId === "") throw new HttpError(400, `Query parameter "upload_id" is empty`);
    const page = await store.listCustomers(...who(c), { offset, limit, uploadId });
    return c.json({ success: true, customers: page.customers, total: page.total, offset, limit });
  });
  allow(app, "/v2/recapture/customers", "GET");

  app.get("/v2/recapture/customers/:id", async (c) => {
    query(c, ["region"]);
    const entry = await store.customerFor(...who(c), c.req.param("id"));
    return c.json({ success: true, customer: entry.value });
  });
  app.patch("/v2/recapture/customers/:id", async (c) => {
    query(c, ["region"]);
    const [account, region] = who(c);
    const id = c.req.param("id");
    await store.customerFor(account, region, id); // 404/403/400 before reading the body
    const patch = parsePatch(await readJson(c.req.raw, maxBodyBytes));
    const customer = await store.updateCustomer(account, region, id, patch);
    return c.json({ success: true, customer });
  });
  app.delete("/v2/recapture/customers/:id", async (c) => {
    query(c, ["region"]);
    const customer = await store.deleteCustomer(...who(c), c.req.param("id"));
    return c.json({ success: true, customer });
  });
  allow(app, "/v2/recapture/customers/:id", "GET, PATCH, DELETE");

  if (deps.alerts) mountAlertRoutes(app, { ...deps.alerts, auth, limiter, maxBodyBytes });

  return app;
}

/** Answers 405 with `Allow` for the other methods of a path. */
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
