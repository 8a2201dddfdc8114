/**
 * Proof, load (small bounded counts for CI; `deno task load` runs the larger version): the
 * sandbox and the proxy on 127.0.0.1 under concurrent clients mixing uploads, status polls and
 * customer reads lose and duplicate nothing and their counters add up; past the rate limit every
 * refusal is a 429 with correct headers.
 */
import { assert, assertEquals } from "@std/assert";
import { formatFigures, loadTarget, rateLimitPhase } from "../../bench/load.ts";
import { SCALE } from "./_helpers.ts";

for (const target of ["sandbox", "proxy"] as const) {
  Deno.test(`proof load (${target}): concurrent mixed clients, nothing lost or duplicated`, async () => {
    const f = await loadTarget(target, { clients: 8, seconds: 8, requests: 600 * SCALE });
    console.log(`proof load ${formatFigures(f)}`);
    assertEquals(f.failures, 0);
    assertEquals([f.lost, f.duplicated], [0, 0]);
    assertEquals(f.customersStored, f.customersAccepted);
    assert(f.countersOk, "the counters add up");
    assert(f.uploadsAccepted > 0 && f.byKind.get > 0 && f.byKind.status > 0);
  });

  Deno.test(`proof load (${target}): past the rate limit, 429s with correct headers`, async () => {
    const l = await rateLimitPhase(target, 25);
    console.log(`proof rate limit (${target}): ${l.sent} sent, ${l.ok} ok, ${l.limited} x 429`);
    assertEquals([l.ok, l.limited, l.failures], [25, 25, 0]);
    assert(l.headersOk, "Rate-Limit-* and Retry-After headers are correct");
  });
}
