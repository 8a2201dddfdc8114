/**
 * The edge proxy on Cloudflare Workers. Bindings (see `wrangler.toml`): the secrets
 * `RECAPTURE_API_KEY`, `RECAPTURE_PROXY_TOKENS`, `RECAPTURE_WEBHOOK_SECRETS`,
 * `RECAPTURE_CALLBACK_SECRET` (`wrangler secret put ...`), and the `RECAPTURE_CALLBACKS` queue
 * (producer and consumer) that carries completion callbacks.
 *
 * Build with `deno bundle --platform=browser examples/cloudflare_worker.ts -o
 * .recapture/workerd/worker.js` (wrangler.toml runs it); the same bundle is what the workerd
 * test suite loads in Miniflare.
 *
 * @module
 */
import { cloudflareQueueScheduler, createRecaptureProxy } from "../src/edge/mod.ts";

const app = createRecaptureProxy({
  scheduler: cloudflareQueueScheduler({ binding: "RECAPTURE_CALLBACKS" }),
});

export default app;
