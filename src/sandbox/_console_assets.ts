/**
 * The console's stylesheet and script, served from the sandbox itself (no build step, nothing
 * downloaded at run time; the page's Content-Security-Policy allows only these).
 *
 * @module
 */

/** The stylesheet: readable contrast, visible focus, one column on a phone. */
export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #4a5260; --line: #c9ced6; --bg: #fff;
  --accent: #0b57d0; --bad: #a50e0e; --good: #146c2e; font-family: system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip, .visually-hidden { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 2; }
header { display: flex; flex-wrap: wrap; gap: .5rem 2rem; align-items: center;
  padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
.brand { margin: 0; font-weight: 700; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a { display: inline-block; padding: .35rem .15rem; text-decoration: none; }
nav a[aria-current="page"] { font-weight: 700; border-bottom: 3px solid var(--accent); }
main { padding: 1rem; max-width: 1280px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
progress { width: 10rem; max-width: 100%; height: 1rem; vertical-align: middle; }
.muted { color: var(--muted); }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); font-weight: 600; }
form.inline { display: inline; }
form.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr));
  gap: .75rem 1rem; align-items: end; max-width: 60rem; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
input, select, button { font: inherit; padding: .45rem .5rem; border: 1px solid #6b7380;
  border-radius: 4px; min-height: 2.5rem; width: 100%; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer;
  width: auto; }
button.danger { background: var(--bad); border-color: var(--bad); }
.search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; max-width: 40rem; }
.search div { flex: 1 1 16rem; }
.notice { padding: .6rem .8rem; border-left: 4px solid var(--accent); background: #eef3fd; }
.pager { display: flex; gap: 1rem; align-items: center; margin-top: .75rem; }
pre { white-space: pre-wrap; word-break: break-all; background: #f4f5f7; padding: .5rem;
  max-height: 20rem; overflow: auto; font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; color: var(--muted); }
dd { margin: 0; word-break: break-all; }
ol.timeline { list-style: none; padding-left: 1rem; border-left: 3px solid var(--line); }
ol.timeline li { margin: 0 0 .75rem; }
svg.chart { width: 100%; max-width: 56rem; height: auto; border: 1px solid var(--line); }
@media (max-width: 640px) {
  main { padding: .75rem; }
  th, td { padding: .35rem .3rem; }
  dl { grid-template-columns: 1fr; }
  table.stack thead { position: absolute; left: -9999px; }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.stack th[scope="row"], table.stack td { display: block; border: 0; text-align: left;
    padding: .15rem .25rem; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600;
    color: var(--muted); }
}
`;

/**
 * The script: live updates over SSE (a page's `[data-live]` region is refreshed cell by cell, so
 * focus stays on a button that did not change) and a confirmation before `[data-confirm]` forms.
 */
export const CONSOLE_JS = `"use strict";
const live = document.querySelector("[data-live]");
function apply(region, text) {
  const next = document.createElement("template");
  next.innerHTML = text;
  const ids = (root) => [...root.querySelectorAll("[data-row]")].map((e) => e.id).join(",");
  if (ids(region) !== ids(next.content)) {
    region.replaceChildren(next.content);
    return;
  }
  for (const cell of next.content.querySelectorAll("[data-cell]")) {
    const current = document.getElementById(cell.id);
    if (current && current.outerHTML !== cell.outerHTML) {
      current.replaceWith(cell);
      // A status that changed is read out by screen readers (the region itself is not live).
      if (cell.dataset.announce) document.getElementById("announce").textContent = cell.dataset.announce;
    }
  }
}
if (live && "EventSource" in window) {
  const events = new EventSource(live.dataset.live);
  events.addEventListener("update", (e) => apply(live, e.data));
  live.dataset.connected = "true";
  // Browsers hold few connections per host: a page left must not keep its stream open.
  window.addEventListener("pagehide", () => events.close());
}
document.addEventListener("submit", (e) => {
  const message = e.target.dataset ? e.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) e.preventDefault();
});
`;
