/**
 * The console's pages, rendered on the server with Hono's `html` template (every value is
 * escaped unless it is itself a rendered template). A live page has one `[data-live]` region,
 * re-rendered by the same function for its SSE updates: rows carry `data-row`, cells that change
 * carry `data-cell` and a stable id (see the script in `_console_assets.ts`).
 *
 * @module
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { CustomerRecord, UploadView } from "./_types.ts";
import type { AlertSubscriptionRecord } from "./_alert_subscriptions.ts";
import type { PushAttempt, RequestEntry, ThroughputPoint } from "./_console_log.ts";
import { maskEndpoint } from "../_internal/mask_endpoint.ts";
import { REGIONS } from "./_types.ts";

/** Rendered HTML. */
export type Html = HtmlEscapedString;

/** `html`, typed as synchronous (no value given to it here is a promise). */
function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return html(strings, ...values) as Html;
}

/** The console's pages, in navigation order. */
export const PAGES = [
  ["uploads", "Uploads"],
  ["customers", "Customers"],
  ["alerts", "Alerts"],
  ["requests", "Requests"],
  ["throughput", "Throughput"],
] as const;

/** A page's name. */
export type PageName = typeof PAGES[number][0];

/** The whole document around a page's content. */
export function layout(page: PageName | null, title: string, body: Html): Html {
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Recapture sandbox console</title>
<link rel="stylesheet" href="/console/app.css">
<script src="/console/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand">Recapture sandbox</p>
<nav aria-label="Console pages"><ul>${
    PAGES.map(([name, label]) =>
      h`<li><a href="/console/${name}"${
        name === page ? h` aria-current="page"` : ""
      }>${label}</a></li>`
    )
  }</ul></nav>
</header>
<p id="announce" class="visually-hidden" role="status" aria-live="polite"></p>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A region refreshed over SSE from `/console/events/<page>`. */
export function liveRegion(page: PageName, content: Html): Html {
  return h`<div id="live" data-live="/console/events/${page}">${content}</div>`;
}

const time = (iso: string): Html => h`<time datetime="${iso}">${iso.slice(11, 19)}</time>`;
const dateTime = (iso: string): Html =>
  h`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)}</time>`;

/** A hidden field with the console's form token. */
const csrfField = (csrf: string): Html => h`<input type="hidden" name="csrf" value="${csrf}">`;

/** The uploads table (the live region of the uploads page). */
export function uploadsTable(uploads: UploadView[], csrf: string): Html {
  if (uploads.length === 0) {
    return h`<p>No uploads yet. Send one with the SDK, the CLI or
<code>POST /v2/recapture/upload</code>; it appears here as it is processed.</p>`;
  }
  return h`<div class="scroll"><table class="stack">
<caption>Uploads, newest first (${uploads.length})</caption>
<thead><tr><th scope="col">Upload</th><th scope="col">Region</th><th scope="col">Progress</th>
<th scope="col">Status</th><th scope="col" class="num">Errors</th><th scope="col">Created</th>
<th scope="col">Action</th></tr></thead>
<tbody>${uploads.map((u) => uploadRow(u, csrf))}</tbody>
</table></div>`;
}

function uploadRow(u: UploadView, csrf: string): Html {
  const total = u.total_uploaded_customers;
  const done = u.total_processed_customers;
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  const live = u.status === "queued" || u.status === "processing";
  return h`<tr id="up-${u.id}" data-row>
<th scope="row">${u.name}<br><code class="muted">${u.id}</code></th>
<td data-label="Region">${u.region}</td>
<td id="up-${u.id}-progress" data-cell data-label="Progress">
<progress id="up-${u.id}-bar" max="${total}" value="${done}"
 aria-label="Processed customers of ${u.name}">${pct}%</progress>
<span id="up-${u.id}-pct">${pct}%</span>
<span class="muted">${done} of ${total}</span></td>
<td id="up-${u.id}-status" data-cell data-label="Status"
 data-announce="Upload ${u.name}: ${u.status}" class="${
    u.status === "cancelled" ? "bad" : u.status === "completed" ? "good" : ""
  }">${u.status}</td>
<td id="up-${u.id}-errors" data-cell data-label="Errors" class="num">${
    u.total_errors === 0
      ? "0"
      : h`<details><summary>${u.total_errors}</summary><ul>${
        u.errors.map((e) => h`<li>row ${e.index}: ${e.field}: ${e.reason}</li>`)
      }</ul></details>`
  }</td>
<td data-label="Created">${dateTime(u.created_at)}</td>
<td id="up-${u.id}-action" data-cell data-label="Action">${
    live
      ? h`<form class="inline" method="post" action="/console/uploads/${u.id}/cancel"
 data-confirm="Cancel upload &quot;${u.name}&quot;? Customers not yet created will not be.">
${csrfField(csrf)}<button type="submit" class="danger"
 aria-label="Cancel upload ${u.name}">Cancel</button></form>`
      : h`<span class="muted">—</span>`
  }</td>
</tr>`;
}

/** The customers search page. */
export function customersPage(
  q: string,
  page: { customers: { account: string; customer: CustomerRecord }[]; total: number },
  offset: number,
  limit: number,
): Html {
  const from = page.total === 0 ? 0 : offset + 1;
  const to = offset + page.customers.length;
  const link = (o: number) => `/console/customers?q=${encodeURIComponent(q)}&offset=${o}`;
  return h`<form class="search" role="search" method="get" action="/console/customers">
<div><label for="q">Search by rego, VIN or name</label>
<input id="q" name="q" type="search" value="${q}" autocomplete="off"></div>
<button type="submit">Search</button></form>
<div class="scroll"><table class="stack">
<caption>Customers${q === "" ? "" : h` matching “${q}”`}: ${from}–${to} of ${page.total}</caption>
<thead><tr><th scope="col">Rego</th><th scope="col">State</th><th scope="col">VIN</th>
<th scope="col">Name</th><th scope="col">Region</th><th scope="col" class="num">Sightings</th>
</tr></thead>
<tbody>${
    page.customers.map(({ account, customer: c }) =>
      h`<tr><th scope="row"><a href="/console/customers/${
        encodeURIComponent(account)
      }/${c.region}/${c.id}">${c.rego ?? c.vin ?? c.id}</a></th>
<td data-label="State">${c.state ?? "—"}</td><td data-label="VIN"><code>${c.vin ?? "—"}</code></td>
<td data-label="Name">${c.client_name ?? "—"}</td><td data-label="Region">${c.region}</td>
<td data-label="Sightings" class="num">${c.sightings.length}</td></tr>`
    )
  }</tbody></table></div>
<nav class="pager" aria-label="Pages of customers">${
    offset > 0 ? h`<a href="${link(Math.max(0, offset - limit))}">Previous page</a>` : ""
  }${to < page.total ? h`<a href="${link(offset + limit)}">Next page</a>` : ""}</nav>`;
}

interface Sighting {
  at?: string;
  event?: string;
  marketplace?: string;
  listing_price?: number | null;
  listing_url?: string;
  listing_title?: string | null;
  seller_type?: string;
}

/** Only http(s) addresses become links (a listing URL is caller data). */
function safeLink(url: string | undefined, text: string): Html | string {
  if (!url) return "";
  try {
    const u = new URL(url);
    if (u.protocol === "https:" || u.protocol === "http:") {
      return h`<a href="${u.href}" rel="noopener noreferrer">${text}</a>`;
    }
  } catch { /* not a URL */ }
  return url;
}

/** One customer with its sightings, newest first. */
export function customerPage(c: CustomerRecord): Html {
  const fields: [string, unknown][] = [
    ["Id", c.id],
    ["Upload", c.upload_id],
    ["Region", c.region],
    ["Rego", c.rego],
    ["State", c.state],
    ["VIN", c.vin],
    ["VIN source", c.vin_source],
    ["Vehicle", c.vehicle_title],
    ["Name", c.client_name],
    ["Mobile", c.mobile_number],
    ["Sale date", c.sale_date],
    ["Expiry date", c.expiry_date],
    ["Monitored", `${c.monitor_start_date ?? "—"} to ${c.monitor_end_date ?? "—"}`],
    ["Created", c.created_at],
    ["Last updated", c.last_updated],
  ];
  const sightings = [...(c.sightings as Sighting[])].reverse();
  return h`<p><a href="/console/customers">← All customers</a></p>
<dl>${fields.map(([k, v]) => h`<dt>${k}</dt><dd>${v === null ? "—" : String(v)}</dd>`)}</dl>
<h2 id="sightings">Sightings timeline (${sightings.length})</h2>
${
    sightings.length === 0
      ? h`<p>Not seen on the market yet. Simulate a listing on the
<a href="/console/alerts">alerts page</a>.</p>`
      : h`<ol class="timeline" aria-labelledby="sightings">${
        sightings.map((s) =>
          h`<li>${s.at ? dateTime(s.at) : ""} <strong>${s.event ?? ""}</strong> on ${
            s.marketplace ?? "?"
          }${
            s.listing_price === null || s.listing_price === undefined
              ? ""
              : h`, $${s.listing_price}`
          } (${s.seller_type ?? ""}) ${safeLink(s.listing_url, s.listing_title ?? "listing")}</li>`
        )
      }</ol>`
  }`;
}

/** The alerts page: the simulation form above the live tables. */
export function alertsPage(csrf: string, outcome: string | null, tables: Html): Html {
  return h`${simulateForm(csrf, outcome)}${liveRegion("alerts", tables)}`;
}

/** The "simulate a listing" form and the outcome of the last simulation. */
export function simulateForm(csrf: string, outcome: string | null): Html {
  const select = (name: string, label: string, options: readonly string[]) =>
    h`<div><label for="${name}">${label}</label><select id="${name}" name="${name}">${
      options.map((o) => h`<option>${o}</option>`)
    }</select></div>`;
  const input = (name: string, label: string, extra: Html | string = "") =>
    h`<div><label for="${name}">${label}</label><input id="${name}" name="${name}"${extra}></div>`;
  return h`${outcome === null ? "" : h`<p class="notice" role="status">${outcome}</p>`}
<h2>Simulate a listing</h2>
<form class="grid" method="post" action="/console/alerts/simulate">${csrfField(csrf)}
${select("event", "Event", ["listed", "price_change", "delisted"])}
${select("region", "Region", REGIONS)}
${input("rego", "Rego", h` autocomplete="off"`)}
${input("state", "State (AU)", h` autocomplete="off"`)}
${input("vin", "VIN", h` autocomplete="off" maxlength="17"`)}
${input("marketplace", "Marketplace", h` value="carsales" required`)}
${input("price", "Price", h` type="number" min="0" step="1" inputmode="numeric"`)}
<div><button type="submit">Simulate listing</button></div>
</form>`;
}

function hashId(text: string): string {
  let n = 5381;
  for (let i = 0; i < text.length; i++) n = ((n * 33) ^ text.charCodeAt(i)) >>> 0;
  return n.toString(36);
}

/** Webhooks and the pushes made (the live region of the alerts page). */
export function alertsTables(
  webhooks: AlertSubscriptionRecord[],
  attempts: readonly PushAttempt[],
): Html {
  const pushes = new Map<string, PushAttempt[]>();
  for (const a of [...attempts].reverse()) {
    const key = `${a.eventId} ${a.endpoint}`;
    pushes.set(key, [...(pushes.get(key) ?? []), a]);
  }
  const rows = [...pushes.values()].reverse();
  return h`<h2>Webhooks (${webhooks.length})</h2>
${
    webhooks.length === 0
      ? h`<p>No webhook registered: <code>POST /v2/webhooks</code> with an endpoint.</p>`
      : h`<div class="scroll"><table class="stack"><caption class="muted">Endpoints are shown without their
tokens</caption><thead><tr><th scope="col">Name</th><th scope="col">Endpoint</th>
<th scope="col">Events</th><th scope="col">Region</th><th scope="col">Account</th></tr></thead>
<tbody>${
        webhooks.map((w) =>
          h`<tr id="wh-${w.id}" data-row><th scope="row">${w.name}<br><code class="muted">${w.id}</code></th>
<td data-label="Endpoint"><code>${maskEndpoint(w.endpoint)}</code></td>
<td data-label="Events">${w.events.join(", ")}</td><td data-label="Region">${w.region}</td>
<td data-label="Account">${w.account_id}</td></tr>`
        )
      }</tbody></table></div>`
  }
<h2>Pushes (${rows.length})</h2>
${
    rows.length === 0
      ? h`<p>No push yet: simulate a listing of a tracked customer's car.</p>`
      : h`<div class="scroll"><table class="stack"><thead><tr><th scope="col">Event</th>
<th scope="col">Endpoint</th><th scope="col">Attempts</th><th scope="col">Status</th>
<th scope="col">Payload</th></tr></thead><tbody>${rows.map(pushRow)}</tbody></table></div>`
  }`;
}

function pushRow(attempts: PushAttempt[]): Html {
  const last = attempts[attempts.length - 1];
  const id = `push-${hashId(`${last.eventId} ${last.endpoint}`)}`;
  const ok = last.status >= 200 && last.status < 300;
  return h`<tr id="${id}" data-row><th scope="row">${last.event}<br><code class="muted">${last.eventId}</code></th>
<td data-label="Endpoint"><code>${last.endpoint}</code></td>
<td id="${id}-attempts" data-cell data-label="Attempts"><ol>${
    attempts.map((a) =>
      h`<li>${time(a.at)}: ${
        a.status === 0 ? a.error ?? "no answer" : `HTTP ${a.status}`
      } in ${a.ms} ms</li>`
    )
  }</ol></td>
<td id="${id}-status" data-cell data-label="Status"
 data-announce="Push of ${last.event}: HTTP ${last.status}" class="${ok ? "good" : "bad"}">${
    ok ? "delivered" : "not delivered (retried with backoff)"
  } (HTTP ${last.status})</td>
<td data-label="Payload"><details><summary>Payload</summary><pre>${
    pretty(last.payload)
  }</pre></details></td></tr>`;
}

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

/** The last requests (the live region of the requests page). */
export function requestsTable(entries: readonly RequestEntry[]): Html {
  if (entries.length === 0) return h`<p>No API request yet since the sandbox started.</p>`;
  return h`<div class="scroll"><table class="stack">
<caption>The last ${entries.length} API requests, newest first (keys shown by their last 4
characters)</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Method</th><th scope="col">Path</th>
<th scope="col" class="num">Status</th><th scope="col" class="num">Latency</th>
<th scope="col">Rate limit</th><th scope="col">Key</th></tr></thead>
<tbody>${
    entries.map((e, i) =>
      h`<tr id="rq-${entries.length - i}-${e.at}" data-row>
<td data-label="Time">${time(e.at)}</td><td data-label="Method">${e.method}</td>
<td data-label="Path"><code>${e.path}</code></td>
<td data-label="Status" class="num ${e.status >= 400 ? "bad" : ""}">${e.status}</td>
<td data-label="Latency" class="num">${e.ms.toFixed(1)} ms</td><td data-label="Rate limit">${
        e.rateLimit === null
          ? "—"
          : h`${e.rateLimit.remaining} of ${e.rateLimit.total} left, resets ${
            new Date(Number(e.rateLimit.reset) * 1000).toISOString().slice(11, 19)
          }`
      }</td><td data-label="Key"><code>${e.key ?? "none"}</code></td></tr>`
    )
  }</tbody></table></div>`;
}

/** Customers processed per second as an inline SVG line chart (the throughput live region). */
export function throughputChart(points: readonly ThroughputPoint[], seconds: number): Html {
  const W = 600, H = 220, L = 48, B = 24, T = 10, R = 10;
  const peak = Math.max(1, ...points.map((p) => p.perSecond));
  const top = niceCeil(peak);
  const now = points.at(-1)?.t ?? Date.now();
  const x = (t: number) => L + (W - L - R) * (1 - (now - t) / (seconds * 1000));
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.perSecond).toFixed(1)}`).join(" ");
  const latest = points.at(-1)?.perSecond ?? 0;
  const observed = Math.max(0, ...points.map((p) => p.perSecond));
  const summary = `Customers processed per second over the last ${
    Math.round(seconds / 60)
  } minutes: now ${Math.round(latest)}, peak ${Math.round(observed)}`;
  return h`<p id="tp-summary" data-cell>${summary}.</p>
<svg class="chart" id="tp-chart" data-cell viewBox="0 0 ${W} ${H}" role="img"
 aria-labelledby="tp-title" xmlns="http://www.w3.org/2000/svg">
<title id="tp-title">${summary}</title>
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#4a5260"/>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#4a5260"/>
<line x1="${L}" y1="${y(top / 2)}" x2="${W - R}" y2="${y(top / 2)}" stroke="#c9ced6"
 stroke-dasharray="4 4"/>
<text x="${L - 6}" y="${T + 10}" text-anchor="end" font-size="12" fill="#1b1f24">${top}</text>
<text x="${L - 6}" y="${y(top / 2) + 4}" text-anchor="end" font-size="12"
 fill="#1b1f24">${top / 2}</text>
<text x="${L - 6}" y="${H - B}" text-anchor="end" font-size="12" fill="#1b1f24">0</text>
<text x="${L}" y="${H - 6}" font-size="12" fill="#1b1f24">${Math.round(seconds / 60)} min ago</text>
<text x="${W - R}" y="${H - 6}" text-anchor="end" font-size="12" fill="#1b1f24">now</text>
${
    points.length > 1
      ? h`<polyline fill="none" stroke="#0b57d0" stroke-width="2" points="${line}"/>`
      : h`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="14"
 fill="#4a5260">Collecting samples (one a second)…</text>`
  }
</svg>`;
}

/** The smallest of 1, 2, 5 × 10^n at or above `v`. */
function niceCeil(v: number): number {
  const base = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * base >= v) return m * base;
  return 10 * base;
}

/** The admin-token form shown when the console is served beyond loopback. */
export function loginPage(csrf: string, failed: boolean): Html {
  return layout(
    null,
    "Sign in",
    h`<p>This console is served beyond loopback, so it asks for the admin token. The sandbox
wrote it to a file readable only by its user; the path was printed at start.</p>
${failed ? h`<p class="bad" role="alert">That token is not the console's token.</p>` : ""}
<form method="post" action="/console/login" class="search">${csrfField(csrf)}
<div><label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="off" required></div>
<button type="submit">Sign in</button></form>`,
  );
}
