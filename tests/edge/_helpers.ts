/**
 * Test fixtures for the edge adapter: a sandbox served on 127.0.0.1 that records what reaches
 * it, a callback receiver that records deliveries, and the Worker example started in workerd.
 * Shared by the Deno and workerd suites.
 *
 * @module
 */
import { createSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/mod.ts";
import { bundleWorker, startWorkerd, type Workerd, type WorkerdOptions } from "../_miniflare.ts";

/** One request as the upstream saw it. */
export interface Recorded {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body: string;
}

/** A sandbox reachable in-process and over HTTP, recording every request. */
export interface Upstream {
  sandbox: Sandbox;
  /** In-process transport (records too). */
  fetch: (request: Request) => Promise<Response>;
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

async function record(requests: Recorded[], request: Request): Promise<void> {
  const url = new URL(request.url);
  requests.push({
    method: request.method,
    path: url.pathname,
    search: url.search,
    headers: Object.fromEntries(request.headers),
    body: request.body ? await request.clone().text() : "",
  });
}

/** Starts a recording sandbox, in memory, served on 127.0.0.1:0. */
export async function startUpstream(options: SandboxOptions = {}): Promise<Upstream> {
  const sandbox = await createSandbox(options);
  const requests: Recorded[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    await record(requests, request);
    return await sandbox.fetch(request);
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => fetch(request),
  );
  return {
    sandbox,
    fetch,
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async close() {
      await server.shutdown();
      await sandbox.close();
    },
  };
}

/** One callback delivery as received. */
export interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

/** A callback receiver on 127.0.0.1 that answers with scripted statuses. */
export interface Receiver {
  /** `http://127.0.0.1:PORT` */
  url: string;
  deliveries: Delivery[];
  /** The next answers for a path, in order; afterwards 200. */
  script(path: string, statuses: number[]): void;
  /** Resolves when `path` has at least `count` deliveries; rejects after `timeoutMs`. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** Starts a receiver. */
export function startReceiver(): Receiver {
  const deliveries: Delivery[] = [];
  const scripts = new Map<string, number[]>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      const answered = scripts.get(path)?.shift() ?? 200;
      deliveries.push({
        path,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        answered,
      });
      return new Response(answered < 300 ? "ok" : "try later", { status: answered });
    },
  );
  const of = (path: string) => deliveries.filter((d) => d.path === path);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    deliveries,
    script(path, statuses) {
      scripts.set(path, [...statuses]);
    },
    async waitFor(path, count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (of(path).length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} deliveries to ${path}, got ${of(path).length}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return of(path);
    },
    async close() {
      await server.shutdown();
    },
  };
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The Worker example's bindings besides its secrets and vars, as the root `wrangler.toml` has them. */
export const EXAMPLE_WORKER_RESOURCES: Omit<WorkerdOptions, "script" | "bindings"> = {
  queueProducers: { RECAPTURE_CALLBACKS: "recapture-callbacks" },
  queueConsumers: {
    "recapture-callbacks": { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 10 },
  },
  kvNamespaces: ["ALERT_IDS"],
};

/**
 * Bundles `examples/cloudflare_worker.ts` (the proxy and the alert relay) as it ships and starts
 * it in workerd with {@linkcode EXAMPLE_WORKER_RESOURCES} and the given secrets and vars.
 */
export async function startExampleWorker(bindings: Record<string, string>): Promise<Workerd> {
  const script = await bundleWorker("examples/cloudflare_worker.ts", "worker");
  return await startWorkerd({ script, bindings, ...EXAMPLE_WORKER_RESOURCES });
}
