/**
 * The edge proxy and alert relay (the Worker example, `examples/cloudflare_worker.ts`, bundled as
 * it ships) served by other runtimes' servers: `Bun.serve` on Bun, and `@hono/node-server` on Node
 * 20 and Node 22 (`_serve.mjs`). Each must give every red-team case (`tests/edge/redteam.ts`, the
 * same table `Deno.serve` and workerd answer in `tests/edge/redteam_test.ts`) its expected outcome,
 * written raw on a socket; nothing outside `/v2/recapture/` reaches the upstream, and an alert
 * with an odd id is delivered.
 *
 * Needs the tools `deno task setup` installs (bun, node22, hono_node_server).
 */
import { assertEquals } from "@std/assert";
import { bundleWorker, startHarness, withHarness } from "../_miniflare.ts";
import { toolDir } from "../_tools/mod.ts";
import { startReceiver, startUpstream } from "../edge/_helpers.ts";
import {
  assertOddIdDelivered,
  assertOnlyRecapturePaths,
  EXPECTED,
  redTeamBindings,
  runBattery,
} from "../edge/redteam.ts";
import { BUN, NODE_20, NODE_22, type Runtime } from "./_runtimes.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * A case the server itself refuses with a bare 400 before the proxy sees the request: the same
 * status, nothing reaches the upstream, but no JSON error code (the proxy never answered).
 * `@hono/node-server` refuses a raw backslash in the request path ("Backslash in request path").
 */
const NODE_SERVER_REFUSES = ["path: raw backslash"];

const SERVERS: { server: string; runtime: Runtime; refusedByServer: string[] }[] = [
  { server: "Bun.serve", runtime: BUN, refusedByServer: [] },
  { server: "@hono/node-server", runtime: NODE_20, refusedByServer: NODE_SERVER_REFUSES },
  { server: "@hono/node-server", runtime: NODE_22, refusedByServer: NODE_SERVER_REFUSES },
];

/** {@linkcode EXPECTED}, with the cases the server refuses itself answered by the server. */
function expectedOn(refusedByServer: string[]): typeof EXPECTED {
  return EXPECTED.map((row) =>
    refusedByServer.includes(row.name) ? { ...row, status: 400, code: undefined } : row
  );
}

for (const { server, runtime, refusedByServer } of SERVERS) {
  Deno.test(`servers: the red-team battery gets its outcomes from the proxy under ${server} on ${runtime.label}`, async () => {
    const bundle = await bundleWorker("examples/cloudflare_worker.ts", "worker");
    const upstream = await startUpstream();
    const receiver = startReceiver();
    try {
      await withHarness(
        () =>
          startHarness(
            runtime.exec(),
            [`${ROOT}tests/runtimes/_serve.mjs`, bundle, toolDir("hono_node_server")],
            { WORKER_BINDINGS: JSON.stringify(redTeamBindings(upstream, receiver)) },
          ),
        async (served) => {
          const rows = await runBattery(new URL(served.url).host, upstream);
          assertEquals(rows, expectedOn(refusedByServer), `${server} on ${runtime.label}`);
          assertOnlyRecapturePaths(upstream);
          await assertOddIdDelivered(receiver);
        },
      );
    } finally {
      await receiver.close();
      await upstream.close();
    }
  });
}
