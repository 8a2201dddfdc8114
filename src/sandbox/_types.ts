/**
 * Types shared by the sandbox modules. The public ones are re-exported from `mod.ts`.
 *
 * @module
 */

import type { Region } from "../sdk/schemas.ts";

export { REGIONS } from "../sdk/schemas.ts";
export type { Region };

/** One account of the sandbox: its API keys, OAuth client and the regions its licence covers. */
export interface SandboxAccount {
  /** The account id, e.g. `"acct_dealer_a"`. */
  id: string;
  /** One API key (sent as `ApiKey: <key>`). */
  apiKey?: string;
  /** More API keys for the same account. */
  apiKeys?: string[];
  /** OAuth client id for `POST /auth-broker/request-token`. */
  clientId?: string;
  /** OAuth client secret that goes with `clientId`. */
  clientSecret?: string;
  /** The regions the account's Recapture licence covers (default: all four). */
  regions?: Region[];
}

/** A per-key request limit: at most `limit` requests per fixed window of `windowMs`. */
export interface SandboxRateLimit {
  /** Requests allowed per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

/** A monthly request quota per key: requests beyond `max` in a calendar month get 429. */
export interface SandboxQuota {
  /** The base quota reported in `Monthly-Base-Request-Quota`. */
  base: number;
  /** The hard quota reported in `Monthly-Max-Request-Quota`; beyond it requests fail. */
  max: number;
}

/** Options of `createSandbox`. */
export interface SandboxOptions {
  /** A Deno KV to use; the sandbox takes it over and closes it on `close()`. */
  kv?: Deno.Kv;
  /** A KV file to open (omitted, with no `kv`: in memory). */
  path?: string;
  /** The accounts (default: one account `acct_sandbox` with `SANDBOX_API_KEY`, all regions). */
  accounts?: SandboxAccount[];
  /** Per-key rate limit (default 10,000 requests per minute), `false` for none. */
  rateLimit?: SandboxRateLimit | false;
  /** Monthly quota per key (default base 100,000, max 1,000,000), `false` for none. */
  quota?: SandboxQuota | false;
  /** Customers per processing chunk (one atomic write each), 1 to 450 (default 450). */
  chunkSize?: number;
  /** Largest request body accepted, in bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** Lifetime of OAuth access tokens in seconds (default 3599). */
  tokenTtlSeconds?: number;
  /** How often expired customers are swept from storage (default 60,000 ms), `false` for never. */
  sweepIntervalMs?: number | false;
  /** Re-enqueue unfinished chunks found in the KV at start (default true). */
  recover?: boolean;
  /** The clock (default `() => new Date()`). */
  now?: () => Date;
  /**
   * The fetch alert pushes go out through (default `globalThis.fetch`); e.g. an edge adapter's
   * `fetch` to run AutoGrab → edge in one process.
   */
  pushFetch?: (request: Request) => Promise<Response>;
  /**
   * Delays between push attempts to a webhook endpoint that did not answer 2xx, in ms (default
   * 1 s, 5 s, 30 s, 2 min, 10 min, 30 min; then the push is given up).
   */
  pushBackoffMs?: number[];
  /**
   * A test hook awaited before each processing chunk of an upload (chunk `index`, 0-based, of
   * `chunkSize` customers) is processed: hold the promise to hold processing at a known point,
   * e.g. to cancel an upload mid-way without betting on timing. Never set in production.
   */
  beforeChunk?: (uploadId: string, index: number) => Promise<void> | void;
}

/** An upload as stored (the counters live in separate keys). */
export interface UploadMeta {
  id: string;
  account_id: string;
  name: string;
  region: Region;
  enable_rego_lookups: boolean;
  monitor_start_date: string | null;
  monitor_end_date: string | null;
  total_uploaded_customers: number;
  chunk_count: number;
  created_at: string;
  cancelled_at: string | null;
}

/** One row problem found while processing. */
export interface RowError {
  index: number;
  field: string;
  reason: string;
}

/** A customer as stored and as answered on the wire. */
export interface CustomerRecord {
  id: string;
  upload_id: string;
  region: Region;
  rego: string | null;
  state: string | null;
  vin: string | null;
  vin_source: "provided" | "rego_lookup" | null;
  external_id: string | null;
  vehicle_title: string | null;
  client_name: string | null;
  mobile_number: string | null;
  sale_date: string | null;
  expiry_date: string | null;
  monitor_start_date: string | null;
  monitor_end_date: string | null;
  additional_fields: Record<string, unknown>;
  sightings: unknown[];
  created_at: string;
  last_updated: string;
}

/** The upload object on the wire. */
export interface UploadView {
  id: string;
  name: string;
  region: Region;
  enable_rego_lookups: boolean;
  monitor_start_date: string | null;
  monitor_end_date: string | null;
  status: "queued" | "processing" | "completed" | "cancelled";
  total_uploaded_customers: number;
  total_processed_customers: number;
  total_errors: number;
  total_rego_lookups: number;
  errors: RowError[];
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
}
