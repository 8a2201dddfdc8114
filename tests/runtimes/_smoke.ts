/**
 * The runtime smoke suite: every operation of the SDK core, against a real upstream (a sandbox
 * served over HTTP), using web standards only so that the same code runs on Deno, on Node (as a
 * bundle) and in workerd (as a Worker). Each check asserts what the sandbox must have done; the
 * report lists every check with its outcome, and a runtime fails when any check fails.
 *
 * Run by `tests/runtimes/matrix_test.ts`; entry points: `worker.ts` (workerd and Node), and
 * `runSmoke` called directly on Deno.
 *
 * @module
 */
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  type Customer,
  EmptyUploadError,
  IncorrectRegionError,
  isUploadDone,
  NotFoundError,
  NotLicensedError,
  PermissionDeniedError,
  RecaptureClient,
  type RecaptureError,
  type Upload,
  validateCustomers,
  ValidationError,
} from "../../mod.ts";

/** Where the upstream is and who the suite acts as (see `SMOKE_ACCOUNTS`). */
export interface SmokeOptions {
  /** The sandbox, e.g. `http://127.0.0.1:PORT`. */
  baseUrl: string;
  /** A URL where nothing listens (for the connection error). */
  unreachableUrl: string;
}

/** One check's outcome. */
export interface SmokeResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** The whole run. */
export interface SmokeReport {
  /** What the runtime says it is (user agent or Node version). */
  runtime: string;
  passed: number;
  failed: number;
  results: SmokeResult[];
}

/** The sandbox accounts the suite expects (pass them to `createSandbox({ accounts })`). */
export const SMOKE_ACCOUNTS: {
  id: string;
  apiKey: string;
  clientId?: string;
  clientSecret?: string;
  regions: ("au" | "nz" | "uk" | "my")[];
}[] = [
  {
    id: "acct_smoke_main",
    apiKey: "sec_smoke_main_key_0001",
    clientId: "smoke_client",
    clientSecret: "smoke_client_secret_0001",
    regions: ["au", "nz"],
  },
  { id: "acct_smoke_other", apiKey: "sec_smoke_other_key_0002", regions: ["au"] },
];

/** The sandbox chunk size the cancel check relies on (its upload has many chunks). */
export const SMOKE_CHUNK_SIZE = 50;

/**
 * The sandbox's `beforeChunk` hook the suite relies on: holds every chunk after the first of any
 * upload until `release()` (call it before the sandbox's `idle()`), so the cancel check's upload
 * cannot finish before it is cancelled: only its first chunk may be processed. Uploads of one
 * chunk (every other upload in the suite) are never held.
 *
 * @example
 * ```ts ignore
 * const hold = holdLaterChunks();
 * const sandbox = await createSandbox({ chunkSize: SMOKE_CHUNK_SIZE, beforeChunk: hold.beforeChunk });
 * // ... run the suite, then:
 * hold.release();
 * await sandbox.idle();
 * ```
 */
export function holdLaterChunks(): {
  beforeChunk: (uploadId: string, index: number) => Promise<void>;
  release: () => void;
} {
  const gate = Promise.withResolvers<void>();
  return {
    beforeChunk: (_uploadId, index) => index === 0 ? Promise.resolve() : gate.promise,
    release: () => gate.resolve(),
  };
}

const [MAIN, OTHER] = SMOKE_ACCOUNTS;
const VIN = "1HGCM82633A004352";

class CheckFailed extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

function equal<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new CheckFailed(`${what}: expected ${e}, got ${a}`);
}

async function rejects<E extends RecaptureError>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
  code: string,
  what: string,
): Promise<E> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  check(thrown !== undefined, `${what}: expected ${type.name}, nothing was thrown`);
  if (!(thrown instanceof type)) {
    const name = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    throw new CheckFailed(`${what}: expected ${type.name}, got ${name}`);
  }
  equal(thrown.code, code, `${what}: code`);
  for (const account of SMOKE_ACCOUNTS) {
    check(
      !`${thrown.message} ${thrown.stack ?? ""}`.includes(account.apiKey),
      `${what}: the error leaks the API key`,
    );
  }
  return thrown;
}

function runtimeName(): string {
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  if (nav?.userAgent) return nav.userAgent;
  const proc = (globalThis as { process?: { version?: string } }).process;
  return proc?.version ? `Node.js/${proc.version}` : "unknown";
}

interface State {
  upload?: Upload;
  customers: Customer[];
}

type Check = [name: string, fn: (state: State) => Promise<void> | void];

function checks(options: SmokeOptions): Check[] {
  const client = new RecaptureClient({
    apiKey: MAIN.apiKey,
    baseUrl: options.baseUrl,
    maxRetries: 0,
    timeoutMs: 10_000,
  });
  const other = new RecaptureClient({ apiKey: OTHER.apiKey, baseUrl: options.baseUrl });
  const rows = [
    { rego: "smk 001", state: "nsw", client_name: "Ada Smoke", mobile_number: "0400000001" },
    { vin: VIN.toLowerCase(), client_name: "Bo Smoke", sale_date: "2024-03-01" },
    { rego: "SMK003", state: "VIC", client_name: "Cy Smoke", mobile_number: "0400000003" },
  ];
  const bad = [{ state: "NSW" }, { rego: "X1", state: "ZZ" }, { vin: "SHORT" }];

  return [
    ["validateCustomers normalises rows and reports each bad row", () => {
      const { valid, issues } = validateCustomers([rows[0], ...bad, rows[1]], { region: "au" });
      equal(valid.map((c) => c.rego ?? c.vin), ["SMK001", VIN], "normalised rego/vin");
      equal(valid[0].state, "NSW", "state upper-cased");
      equal(
        issues.map((i) => [i.index, i.field]),
        [[1, "rego|vin"], [2, "state"], [3, "vin"]],
        "issues",
      );
    }],
    ["uploads.create refuses invalid rows before sending (ValidationError)", async () => {
      const e = await rejects(
        () => client.uploads.create({ name: "bad", customers: [rows[0], ...bad] }),
        ValidationError,
        "validation_failed",
        "invalid rows",
      );
      equal(e.issues.map((i) => i.index), [1, 2, 3], "bad row indexes");
    }],
    ["uploads.create queues an upload (dropInvalid, lastResponse meta)", async (s) => {
      const upload = await client.uploads.create(
        { name: "smoke", customers: [rows[0], bad[0], rows[1], rows[2]] },
        { dropInvalid: true },
      );
      equal(upload.rejected.map((r) => r.index), [1], "rejected rows");
      equal(upload.total_uploaded_customers, 3, "total_uploaded_customers");
      equal(upload.lastResponse.status, 201, "status");
      check(upload.lastResponse.rateLimit?.total, "Rate-Limit-Total header read");
      check(!Object.keys(upload).includes("lastResponse"), "lastResponse is non-enumerable");
      s.upload = upload;
    }],
    ["uploads.retrieve answers the same upload", async (s) => {
      check(s.upload, "no upload created");
      const got = await client.uploads.retrieve(s.upload.id);
      equal(got.id, s.upload.id, "id");
      equal(got.total_uploaded_customers, 3, "total_uploaded_customers");
    }],
    ["uploads.wait polls to completion with progress", async (s) => {
      check(s.upload, "no upload created");
      const seen: number[] = [];
      const done = await client.uploads.wait(s.upload.id, {
        intervalMs: 25,
        deadlineMs: 20_000,
        onProgress: (u) => seen.push(u.total_processed_customers),
      });
      check(isUploadDone(done), "done");
      equal(done.total_processed_customers, 3, "processed");
      equal(done.total_errors, 0, "errors");
      check(seen.length >= 1 && seen.at(-1) === 3, `progress reported (${seen.join(",")})`);
    }],
    ["customers.list pages one upload's customers", async (s) => {
      check(s.upload, "no upload created");
      const page = await client.customers.list({ upload_id: s.upload.id, limit: 2 });
      equal([page.total, page.offset, page.limit, page.customers.length], [3, 0, 2, 2], "page");
      const rest = await client.customers.list({ upload_id: s.upload.id, offset: 2, limit: 2 });
      equal(rest.customers.length, 1, "second page");
    }],
    ["customers.iterate walks every page once", async (s) => {
      check(s.upload, "no upload created");
      const all: Customer[] = [];
      for await (const c of client.customers.iterate({ upload_id: s.upload.id, pageSize: 2 })) {
        all.push(c);
      }
      equal(new Set(all.map((c) => c.id)).size, 3, "distinct customers");
      equal(all.map((c) => c.rego ?? c.vin).sort(), [VIN, "SMK001", "SMK003"].sort(), "rows");
      s.customers = all;
    }],
    ["customers.retrieve answers one customer", async (s) => {
      const first = s.customers.find((c) => c.rego === "SMK001");
      check(first, "customer SMK001 listed");
      const got = await client.customers.retrieve(first.id);
      equal([got.id, got.state, got.client_name], [first.id, "NSW", "Ada Smoke"], "customer");
    }],
    ['customers.update changes only given fields; "" clears one', async (s) => {
      const first = s.customers.find((c) => c.rego === "SMK001");
      check(first, "customer SMK001 listed");
      const updated = await client.customers.update(first.id, {
        client_name: "Ada Updated",
        mobile_number: "",
      });
      equal([updated.client_name, updated.mobile_number], ["Ada Updated", null], "updated");
      equal(updated.rego, "SMK001", "rego untouched");
      const again = await client.customers.retrieve(first.id);
      equal(again.client_name, "Ada Updated", "stored");
    }],
    ["customers.delete answers the deleted customer; it is gone", async (s) => {
      const third = s.customers.find((c) => c.rego === "SMK003");
      check(third, "customer SMK003 listed");
      const deleted = await client.customers.delete(third.id);
      equal(deleted.id, third.id, "deleted id");
      await rejects(
        () => client.customers.retrieve(third.id),
        NotFoundError,
        "invalid_customer_id",
        "retrieve after delete",
      );
    }],
    ["uploads.cancel stops a large upload", async () => {
      const many = Array.from({ length: 2000 }, (_, i) => ({ rego: `CX${i}`, state: "QLD" }));
      const upload = await client.uploads.create({ name: "to cancel", customers: many });
      const cancelled = await client.uploads.cancel(upload.id);
      equal([cancelled.id, cancelled.status], [upload.id, "cancelled"], "cancelled upload");
      const later = await client.uploads.retrieve(upload.id);
      equal(later.status, "cancelled", "status stays cancelled");
      // The upstream holds every chunk after the first (holdLaterChunks) until the suite ends.
      check(
        later.total_processed_customers <= SMOKE_CHUNK_SIZE,
        `processing stopped at the cancel (${later.total_processed_customers} processed)`,
      );
    }],
    ["requestRaw forwards with auth and region", async () => {
      const res = await client.requestRaw("GET", "/v2/recapture/customers", {
        query: { limit: "1" },
      });
      equal(res.status, 200, "status");
      const body = await res.json() as { success?: boolean; limit?: number };
      equal([body.success, body.limit], [true, 1], "envelope");
    }],
    ["OAuth client credentials: the bearer token works", async () => {
      const oauth = new RecaptureClient({
        clientId: MAIN.clientId,
        clientSecret: MAIN.clientSecret,
        baseUrl: options.baseUrl,
      });
      const page = await oauth.customers.list({ limit: 1 });
      check((page.total ?? 0) >= 2, `sees the account's customers (total ${page.total})`);
    }],
    ["webhooks: create, list, retrieve, ping, delete", async () => {
      const hook = await client.webhooks.create({
        name: "smoke alerts",
        endpoint: `${options.unreachableUrl}/alerts?token=smoke_token_0001`,
        events: ["recapture_new", "recapture_price_change"],
      });
      check(hook.id, "webhook id");
      equal(
        [hook.region, hook.format, hook.events],
        ["au", "json", ["recapture_new", "recapture_price_change"]],
        "webhook",
      );
      const { webhooks } = await client.webhooks.list();
      check(webhooks.some((w) => w.id === hook.id), "listed");
      equal((await client.webhooks.retrieve(hook.id)).endpoint, hook.endpoint, "retrieved");
      const ping = await client.webhooks.ping(hook.id);
      equal(ping.event?.event, "ping", "ping event");
      equal((await client.webhooks.delete(hook.id)).id, hook.id, "deleted");
      await rejects(
        () => client.webhooks.retrieve(hook.id),
        NotFoundError,
        "invalid_webhook_id",
        "retrieve after delete",
      );
    }],
    [
      "typed API errors: auth, permission, region, licence, empty upload, unknown upload",
      async (s) => {
        const first = s.customers.find((c) => c.rego === "SMK001");
        check(first, "customer SMK001 listed");
        const wrongKey = new RecaptureClient({ apiKey: "sec_wrong_key", baseUrl: options.baseUrl });
        await rejects(
          () => wrongKey.customers.list(),
          AuthenticationError,
          "authentication_failed",
          "unknown key",
        );
        await rejects(
          () => other.customers.retrieve(first.id),
          PermissionDeniedError,
          "permission_denied",
          "another account's customer",
        );
        await rejects(
          () => client.customers.retrieve(first.id, { region: "nz" }),
          IncorrectRegionError,
          "incorrect_region",
          "wrong region",
        );
        await rejects(
          () => client.customers.list({}, { region: "uk" }),
          NotLicensedError,
          "not_licensed",
          "unlicensed region",
        );
        await rejects(
          () => client.uploads.create({ name: "empty", customers: [] }, { validate: false }),
          EmptyUploadError,
          "empty_upload",
          "empty upload",
        );
        await rejects(
          () => client.uploads.retrieve("upl_does_not/exist"),
          NotFoundError,
          "invalid_upload_id",
          "unknown upload (id with a slash, percent-encoded)",
        );
      },
    ],
    ["abort and connection failures are typed", async () => {
      const controller = new AbortController();
      controller.abort();
      await rejects(
        () => client.customers.list({}, { signal: controller.signal }),
        AbortError,
        "aborted",
        "aborted call",
      );
      const nowhere = new RecaptureClient({
        apiKey: MAIN.apiKey,
        baseUrl: options.unreachableUrl,
        maxRetries: 0,
      });
      await rejects(
        () => nowhere.customers.list(),
        ConnectionError,
        "connection_error",
        "unreachable API",
      );
    }],
  ];
}

/**
 * Runs every check in order (later checks use what earlier ones created) and reports each one.
 *
 * @example
 * ```ts ignore
 * const report = await runSmoke({ baseUrl: "http://127.0.0.1:8080", unreachableUrl: "http://127.0.0.1:9" });
 * if (report.failed > 0) throw new Error(JSON.stringify(report.results));
 * ```
 */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const state: State = { customers: [] };
  const results: SmokeResult[] = [];
  for (const [name, fn] of checks(options)) {
    const started = performance.now();
    try {
      await fn(state);
      results.push({ name, ok: true, ms: Math.round(performance.now() - started) });
    } catch (e) {
      const error = e instanceof CheckFailed
        ? e.message
        : `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      results.push({ name, ok: false, ms: Math.round(performance.now() - started), error });
    }
  }
  const passed = results.filter((r) => r.ok).length;
  return { runtime: runtimeName(), passed, failed: results.length - passed, results };
}
