/**
 * What the sandbox's route modules share: the Hono environment, the guard of the API's routes
 * (auth, rate limit, region, licence) and the 405 answer with `Allow`.
 *
 * @module
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Auth, Caller } from "./_auth.ts";
import { HttpError, MESSAGES } from "./_http.ts";
import type { RateLimiter } from "./_rate_limit.ts";
import type { Region } from "./_types.ts";
import { isRegion, REGIONS } from "../sdk/schemas.ts";

/** The Hono environment of the sandbox app. */
export interface SandboxEnv {
  /** Values set by {@linkcode apiGuard}. */
  Variables: { caller: Caller; region: Region };
}

/** A request context of the sandbox app. */
export type SandboxContext = Context<SandboxEnv>;

/**
 * Middleware of the API's routes: authenticates the caller, takes one request from its rate
 * limit (headers on the answer), checks `?region=` (a 400 with `invalidRegion`, the message as
 * the route's docs spell it) and the caller's licence for it (403), then sets `caller` and
 * `region`.
 *
 * @example
 * ```ts ignore
 * app.use("/v2/recapture/*", apiGuard(auth, limiter, MESSAGES.invalidRegion));
 * ```
 */
export function apiGuard(
  auth: Auth,
  limiter: RateLimiter,
  invalidRegion: string,
): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const caller = await auth.caller(c.req.raw.headers);
    for (const [name, value] of Object.entries(limiter.take(caller.limiterKey))) {
      c.header(name, value);
    }
    const regions = new URL(c.req.url).searchParams.getAll("region");
    const region = regions[0];
    if (region === undefined || !isRegion(region)) {
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
}

/** The caller's account and the request's region, as set by {@linkcode apiGuard}. */
export function who(c: SandboxContext): [string, Region] {
  return [c.get("caller").account, c.get("region")];
}

/**
 * Answers 405 with `Allow` for the methods of `path` not routed before this call.
 *
 * @example
 * ```ts ignore
 * app.post("/v2/recapture/upload", handler);
 * allowOnly(app, "/v2/recapture/upload", "POST");
 * ```
 */
export function allowOnly(app: Hono<SandboxEnv>, path: string, methods: string): void {
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
