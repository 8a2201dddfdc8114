/**
 * The SDK's per-request cost, this tree against another commit's, in one process: both trees'
 * clients and raw `fetch` take turns (mirrored order, batches of 10) against one server (that of
 * `bench/client.ts`, `_server.ts`), so the machine's load falls on all three alike. Prints each
 * tree's added µs over raw fetch (median of the rounds) and the median of the rounds' paired
 * difference between the trees with its interquartile range: what a change gained or cost.
 *
 *   deno run -A bench/client_ab.ts <commit> [--delay-ms 0] [--rounds 300]
 *
 * The other commit's `mod.ts` and `src/` are taken with `git archive` into a temporary folder.
 * The A/A run (`<commit>` = HEAD, unchanged tree) shows the noise: 2026-12-07, 200 rounds, load
 * ~1.3: "saves -0.5 µs [IQR -9.3, +7.0]". Quiet machine, 21:58 UTC, 300 rounds: against b1b6309
 * (before the closure checks) +5.7 µs; against 38e6ad0 (before the review's fixes) +0.8 µs.
 * @module
 */
import type { RecaptureClient } from "../mod.ts";
import { customerJson } from "../tests/_samples.ts";
import { startServer } from "./_server.ts";

const args = [...Deno.args];
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args.splice(at, 2)[1]);
};
const delayMs = flag("--delay-ms", 0);
const rounds = flag("--rounds", 300);
const commit = args[0];
if (commit === undefined) {
  console.error("usage: deno run -A bench/client_ab.ts <commit> [--delay-ms 0] [--rounds 300]");
  Deno.exit(2);
}

const ROOT = new URL("..", import.meta.url).pathname;
const other = await Deno.makeTempDir({ prefix: "recapture_client_ab_" });
const archive = new Deno.Command("sh", {
  args: ["-c", `git -C "${ROOT}" archive "${commit}" mod.ts src | tar -x -C "${other}"`],
}).outputSync();
if (!archive.success) {
  console.error(new TextDecoder().decode(archive.stderr));
  Deno.exit(2);
}
type Client = typeof RecaptureClient;
const here: Client = (await import("../mod.ts")).RecaptureClient;
const there: Client = (await import(`file://${other}/mod.ts`)).RecaptureClient;

const KEY = "sec_bench_key";
const BODY = JSON.stringify({ success: true, customer: customerJson("cus_1") });
const server = await startServer(delayMs, BODY);
const base = `http://127.0.0.1:${server.port}`;
const a = new there({ apiKey: KEY, baseUrl: base });
const b = new here({ apiKey: KEY, baseUrl: base });
const id = "cus_1";
const sides: Record<"raw" | "other" | "this", () => Promise<unknown>> = {
  raw: async () => {
    const res = await fetch(`${base}/v2/recapture/customers/${encodeURIComponent(id)}?region=au`, {
      headers: { ApiKey: KEY, accept: "application/json" },
    });
    return JSON.parse(await res.text()).customer;
  },
  other: () => a.customers.retrieve(id),
  this: () => b.customers.retrieve(id),
};
const batch = async (f: () => Promise<unknown>, n: number): Promise<number> => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n * 1000;
};
for (const f of Object.values(sides)) await batch(f, 500);
const raw: number[] = [], addedOther: number[] = [], addedThis: number[] = [], gain: number[] = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0
    ? (["raw", "other", "this"] as const)
    : (["this", "other", "raw"] as const);
  const t = { raw: 0, other: 0, this: 0 };
  for (const side of order) t[side] = await batch(sides[side], 10);
  raw.push(t.raw);
  addedOther.push(t.other - t.raw);
  addedThis.push(t.this - t.raw);
  gain.push(t.other - t.this);
}
await server.stop();
await Deno.remove(other, { recursive: true });

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};
const us = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} µs`;
console.log(
  `server delay ${delayMs} ms, ${rounds} rounds; raw fetch ${quantile(raw, 0.5).toFixed(1)} µs`,
);
console.log(`${commit}: added ${us(quantile(addedOther, 0.5))}`);
console.log(`this tree: added ${us(quantile(addedThis, 0.5))}`);
console.log(
  `this tree saves ${us(quantile(gain, 0.5))} a request [IQR ${us(quantile(gain, 0.25))}, ${
    us(quantile(gain, 0.75))
  }]`,
);
