/**
 * The smoke suite as a Worker module: `GET /` runs it and answers the report as JSON (status 200
 * when every check passed, 500 otherwise). Bundled once with `deno bundle --platform=browser`,
 * the same file is loaded by Miniflare (workerd) and imported by `node_run.mjs` (Node).
 *
 * Bindings: `UPSTREAM_URL` (the sandbox), `UNREACHABLE_URL` (where nothing listens).
 *
 * @module
 */
import { runSmoke } from "./_smoke.ts";

/** The bindings the Worker reads. */
export interface SmokeEnv {
  UPSTREAM_URL: string;
  UNREACHABLE_URL: string;
}

/** The Worker: one request runs the whole suite. */
const worker: { fetch(request: Request, env: SmokeEnv): Promise<Response> } = {
  async fetch(_request, env) {
    const report = await runSmoke({
      baseUrl: env.UPSTREAM_URL,
      unreachableUrl: env.UNREACHABLE_URL,
    });
    return Response.json(report, { status: report.failed === 0 ? 200 : 500 });
  },
};
export default worker;
