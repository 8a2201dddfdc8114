/**
 * The sandbox console: a web page at `/console` to watch and drive a served sandbox (uploads,
 * customers, alerts, requests, throughput), mounted by `serve.ts` only, never by the embedded
 * sandbox or the edge adapter.
 *
 * Access rules, in order, on every console request:
 * 1. the `Host` header must name loopback or a host the operator allowed, so a hostile page
 *    cannot read the console through DNS rebinding: `serve.ts` checks it for every request
 *    (`_host_check.ts`), the API's included, before the console sees one;
 * 2. beyond loopback (the server bound to another address, or a client that is not loopback),
 *    the admin token is required (a cookie set by the sign-in form);
 * 3. a POST must come from the console's own origin (`Origin`, and `Sec-Fetch-Site` when sent)
 *    and carry the console's form token.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import { timingSafeEqual } from "../_internal/timing_safe_equal.ts";
import { randomHex } from "../_internal/hex.ts";
import { keys, num } from "./_keys.ts";
import { SANDBOX_API_KEY } from "./_auth.ts";
import { MAX_CHUNK_SIZE, Store } from "./_store.ts";
import type { CustomerRecord, Region, UploadMeta, UploadView } from "./_types.ts";
import { type AlertSubscriptionRecord, subscriptionKeys } from "./_alert_subscriptions.ts";
import { CONSOLE_CSS, CONSOLE_JS } from "./_console_assets.ts";
import { type PushAttempt, type RequestEntry, type Ring, Throughput } from "./_console_log.ts";
import {
  alertsPage,
  alertsTables,
  customerPage,
  customersPage,
  type Html,
  layout,
  liveRegion,
  loginPage,
  PAGES,
  requestsTable,
  throughputChart,
  uploadsTable,
} from "./_console_views.ts";

/** Whether an address or host name is loopback. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  return a === "localhost" || a === "::1" || /^127\.\d+\.\d+\.\d+$/.test(a) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
}

/** What the console needs from the served sandbox. */
export interface ConsoleDeps {
  kv: Deno.Kv;
  /** The sandbox's `fetch` (simulations go through the API, with its checks). */
  fetch(request: Request): Promise<Response>;
  requests: Ring<RequestEntry>;
  pushes: Ring<PushAttempt>;
  /** The address the server is bound to. */
  hostname: string;
  /** The admin token (asked for beyond loopback). */
  adminToken: string;
  /** Decides whether an address is loopback (injected by tests; default `isLoopbackAddress`). */
  isLoopback?: (address: string) => boolean;
}

/** The console app and its lifetime. */
export interface Console {
  /** Serves `/console` and below; `env.remoteAddr` is the client's address. */
  fetch(request: Request, env: { remoteAddr: string }): Response | Promise<Response>;
  /** Ends live streams and sampling; resolves when nothing of the console touches the KV. */
  close(): Promise<void>;
}

type Env = { Bindings: { remoteAddr: string } };
type Ctx = Context<Env>;

const COOKIE = "recapture_console";
const LIVE_MS = 500;
const HEARTBEAT_MS = 15_000;
const MAX_FORM_BYTES = 16 * 1024;
const PAGE_SIZE = 20;
const THROUGHPUT_SECONDS = 300;

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Builds the console.
 *
 * @example
 * ```ts ignore
 * const c = createConsole({ kv, fetch, requests, pushes, hostname: "127.0.0.1", adminToken });
 * Deno.serve((req, info) => c.fetch(req, { remoteAddr: info.remoteAddr.hostname }));
 * ```
 */
export function createConsole(deps: ConsoleDeps): Console {
  const isLoopback = deps.isLoopback ?? isLoopbackAddress;
  const store = new Store(deps.kv, () => new Date(), MAX_CHUNK_SIZE);
  const csrf = randomHex(16);
  const closing = new AbortController();
  const streams = new Set<Promise<void>>();
  const settled = new Map<string, number>();
  const throughput = new Throughput(() => totalProcessed(deps.kv, settled), THROUGHPUT_SECONDS);
  throughput.start();

  const app = new Hono<Env>();
  app.use("*", async (c, next) => {
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    // "no-referrer" would make the browser send `Origin: null` with the console's own forms.
    c.header("Referrer-Policy", "same-origin");
    c.header("Content-Security-Policy", CSP);
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "POST") {
      c.header("Allow", "GET, HEAD, POST");
      return c.text(`Method ${c.req.method} is not allowed on the console\n`, 405);
    }
    if (c.req.method === "POST") {
      // Browsers send forms with a length: a body without one, or a large one, is not read.
      const length = Number(c.req.header("Content-Length") ?? NaN);
      if (!(length <= MAX_FORM_BYTES)) {
        return c.text(
          `A console form is sent with a length of at most ${MAX_FORM_BYTES} bytes\n`,
          413,
        );
      }
    }
    if (c.req.method === "POST" && !sameOrigin(c)) {
      return c.text(
        "Cross-site request refused: the console accepts forms only from itself.\n",
        403,
      );
    }
    const beyondLoopback = !isLoopback(deps.hostname) || !isLoopback(c.env.remoteAddr);
    const signedIn = timingSafeEqual(getCookie(c, COOKIE) ?? "", deps.adminToken);
    const path = c.req.path;
    const open = path === "/console/login" || path === "/console/app.css" ||
      path === "/console/app.js"; // the sign-in page and its assets hold nothing of the sandbox
    if (beyondLoopback && !signedIn && !open) {
      return c.html(loginPage(csrf, false), 401);
    }
    if (c.req.method === "POST") {
      const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
      if (typeof form.csrf !== "string" || !timingSafeEqual(form.csrf, csrf)) {
        return c.text("Form token missing or wrong: reload the page and try again.\n", 403);
      }
    }
    await next();
    return undefined;
  });

  app.get("/console/app.css", (c) => c.body(CONSOLE_CSS, 200, { "Content-Type": "text/css" }));
  app.get(
    "/console/app.js",
    (c) => c.body(CONSOLE_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" }),
  );
  app.get("/console", (c) => c.redirect("/console/uploads", 303));
  app.get("/console/login", (c) => c.html(loginPage(csrf, false)));
  app.post("/console/login", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    if (!timingSafeEqual(token, deps.adminToken)) return c.html(loginPage(csrf, true), 401);
    setCookie(c, COOKIE, deps.adminToken, {
      path: "/console",
      httpOnly: true,
      sameSite: "Strict",
    });
    return c.redirect("/console/uploads", 303);
  });

  const live: Record<string, () => Promise<Html>> = {
    uploads: async () => uploadsTable(await uploadViews(deps.kv, store), csrf),
    alerts: async () => alertsTables(await alertSubscriptions(deps.kv), deps.pushes.list()),
    requests: () => Promise.resolve(requestsTable(deps.requests.list())),
    throughput: () => Promise.resolve(throughputChart(throughput.points(), THROUGHPUT_SECONDS)),
  };
  for (const page of ["uploads", "requests", "throughput"] as const) {
    app.get(
      `/console/${page}`,
      async (c) => c.html(layout(page, titleOf(page), liveRegion(page, await live[page]()))),
    );
  }
  app.get("/console/alerts", async (c) => {
    const event = c.req.query("simulated");
    // Only the names this console redirects with are shown: a crafted link shows no text of its own.
    const outcome = event === undefined || !/^recapture_[a-z_]{1,40}$/.test(event)
      ? null
      : `${event}: ${Number(c.req.query("matched") ?? 0)} customer(s) matched, ${
        Number(c.req.query("pushes") ?? 0)
      } push(es) queued.`;
    const body = await live.alerts();
    return c.html(
      layout(
        "alerts",
        "Alerts",
        alertsPage(csrf, outcome, body),
      ),
    );
  });

  app.get("/console/events/:page", (c) => {
    const render = live[c.req.param("page")];
    if (!render) return c.notFound();
    return streamSSE(c, (stream) => {
      const done = (async () => {
        let last = "";
        let quiet = 0;
        const stop = () => stream.aborted || closing.signal.aborted;
        while (!stop()) {
          const text = String(await render());
          if (text !== last && !stop()) {
            await stream.writeSSE({ event: "update", data: text });
            last = text;
            quiet = 0;
          } else if (++quiet * LIVE_MS >= HEARTBEAT_MS) {
            await stream.write(": still here\n\n"); // finds clients that went away
            quiet = 0;
          }
          await pause(LIVE_MS, closing.signal);
        }
      })();
      streams.add(done);
      return done.finally(() => streams.delete(done));
    });
  });

  app.post("/console/uploads/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const meta = (await deps.kv.get<UploadMeta>(keys.upload(id))).value;
    if (meta === null) return c.text(`No upload ${id}\n`, 404);
    await store.cancelUpload(meta.account_id, meta.region, id);
    return c.redirect("/console/uploads", 303);
  });

  app.get("/console/customers", async (c) => {
    const q = (c.req.query("q") ?? "").trim();
    const offset = Math.max(0, Math.floor(Number(c.req.query("offset") ?? 0)) || 0);
    const page = await searchCustomers(deps.kv, q, offset, PAGE_SIZE);
    return c.html(
      layout("customers", "Customers", customersPage(q, page, offset, PAGE_SIZE)),
    );
  });
  app.get("/console/customers/:account/:region/:id", async (c) => {
    const { account, region, id } = c.req.param();
    const key = keys.customer(account, region as Region, id);
    const customer = (await deps.kv.get<CustomerRecord>(key)).value;
    if (customer === null) {
      return c.html(
        layout(
          "customers",
          "No such customer",
          customersPage(
            "",
            {
              customers: [],
              total: 0,
            },
            0,
            PAGE_SIZE,
          ),
        ),
        404,
      );
    }
    return c.html(
      layout(
        "customers",
        `Customer ${customer.rego ?? customer.vin ?? id}`,
        customerPage(customer),
      ),
    );
  });

  app.post("/console/alerts/simulate", async (c) => {
    const form = await c.req.parseBody();
    const field = (name: string) => {
      const v = form[name];
      return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
    };
    const price = field("price");
    const body = {
      event: field("event"),
      rego: field("rego"),
      state: field("state"),
      vin: field("vin"),
      marketplace: field("marketplace"),
      // A price that is not a number goes as given: the API names the problem.
      price: price === undefined || !Number.isFinite(Number(price)) ? price : Number(price),
    };
    const region = encodeURIComponent(field("region") ?? "au");
    const response = await deps.fetch(
      new Request(`http://sandbox/sandbox/market/events?region=${region}`, {
        method: "POST",
        headers: { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    const answer = await response.json() as {
      message?: string;
      event?: string;
      matched?: number;
      alerts?: { webhooks: number }[];
    };
    if (!response.ok) {
      const outcome = `Not simulated: ${answer.message ?? `HTTP ${response.status}`}`;
      const tables = await live.alerts();
      return c.html(
        layout("alerts", "Alerts", alertsPage(csrf, outcome, tables)),
        400,
      );
    }
    const pushes = (answer.alerts ?? []).reduce((n, a) => n + a.webhooks, 0);
    return c.redirect(
      `/console/alerts?simulated=${answer.event}&matched=${answer.matched}&pushes=${pushes}`,
      303,
    );
  });

  return {
    fetch: (request, env) => app.fetch(request, env),
    async close() {
      closing.abort();
      await throughput.stop();
      await Promise.allSettled([...streams]);
    },
  };
}

/** A page's title, as the navigation names it. */
function titleOf(page: string): string {
  return PAGES.find(([name]) => name === page)?.[1] ?? page;
}

/** A POST from the console's own pages: `Origin` is its origin, `Sec-Fetch-Site` agrees. */
function sameOrigin(c: Ctx): boolean {
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin") return false;
  const origin = c.req.header("Origin");
  if (origin === undefined) return false;
  return origin === `${new URL(c.req.url).protocol}//${c.req.header("Host")}`;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Every upload, newest first (at most 100). */
async function uploadViews(kv: Deno.Kv, store: Store): Promise<UploadView[]> {
  const out: UploadView[] = [];
  const iter = kv.list<UploadMeta>({ prefix: keys.uploadPrefix() }, { reverse: true, limit: 100 });
  for await (const entry of iter) out.push(await store.uploadView(entry.value));
  return out.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
}

/** Customers processed so far, over every upload (`settled` remembers the finished ones). */
async function totalProcessed(kv: Deno.Kv, settled: Map<string, number>): Promise<number> {
  const open: UploadMeta[] = [];
  let total = 0;
  for await (const e of kv.list<UploadMeta>({ prefix: keys.uploadPrefix() })) {
    const done = settled.get(e.value.id);
    if (done === undefined) open.push(e.value);
    else total += done;
  }
  for (let i = 0; i < open.length; i += 10) {
    const metas = open.slice(i, i + 10);
    const counters = await kv.getMany(metas.map((m) => keys.counter(m.id, "processed")));
    for (const [k, meta] of metas.entries()) {
      const processed = num(counters[k].value);
      total += processed;
      // Every customer processed: the count stays as it is, so it is not read again.
      if (processed >= meta.total_uploaded_customers) settled.set(meta.id, processed);
    }
  }
  return total;
}

/** Every webhook of every account. */
async function alertSubscriptions(kv: Deno.Kv): Promise<AlertSubscriptionRecord[]> {
  const out: AlertSubscriptionRecord[] = [];
  for await (
    const e of kv.list<AlertSubscriptionRecord>({ prefix: subscriptionKeys.hookPrefix() })
  ) {
    out.push(e.value);
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at));
}

/** Customers whose rego, VIN or name contains `q` (case-insensitive), in creation order. */
async function searchCustomers(
  kv: Deno.Kv,
  q: string,
  offset: number,
  limit: number,
): Promise<{ customers: { account: string; customer: CustomerRecord }[]; total: number }> {
  const needle = q.toLowerCase();
  const compact = needle.replace(/\s+/g, "");
  const customers: { account: string; customer: CustomerRecord }[] = [];
  let total = 0;
  for await (
    const e of kv.list<CustomerRecord>({ prefix: keys.customerRoot() }, { batchSize: 500 })
  ) {
    const c = e.value;
    const hit = needle === "" ||
      (c.rego ?? "").toLowerCase().includes(compact) ||
      (c.vin ?? "").toLowerCase().includes(compact) ||
      (c.client_name ?? "").toLowerCase().includes(needle);
    if (!hit) continue;
    if (total >= offset && customers.length < limit) {
      customers.push({ account: e.key[2] as string, customer: c });
    }
    total++;
  }
  return { customers, total };
}
