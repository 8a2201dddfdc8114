/**
 * How a resource (`client.uploads`, `.customers`, `.webhooks`) sends one JSON call: the
 * client's default region and transport, per-call options checked, the answer parsed with a
 * schema.
 * @module
 */
import { callLimits, checkRegion } from "./_args.ts";
import { parseBody, withMeta, type WithResponse } from "./_response.ts";
import type { Infer, Shape } from "./_shape.ts";
import type { Received, Transport } from "./_transport.ts";
import type { Region } from "./schemas.ts";

/** Per-call overrides. */
export interface RequestOptions {
  /** Region for this call. */
  region?: Region;
  /** Abort the call. */
  signal?: AbortSignal;
  /** Per-attempt timeout in ms for this call. */
  timeoutMs?: number;
  /** Retries for this call. */
  maxRetries?: number;
}

/** A result with the meta of its response as non-enumerable `lastResponse`. */
export type WithLastResponse<T> = T & WithResponse;
export type { WithResponse };

/** The path prefix of the Customer Recapture endpoints. */
export const API = "/v2/recapture";

/** What a resource method asks of the transport. */
export interface CallInit {
  method: string;
  path: string;
  query?: URLSearchParams;
  /** The JSON body (already encoded, or a value to encode). */
  json?: unknown;
  retry: "idempotent" | "unsent-only";
}

/** The client's default region and request loop, as its resources use them. */
export class Caller {
  /** The client's default region. */
  readonly region: Region;
  /** The client's request loop. */
  readonly transport: Transport;

  /**
   * Creates an instance.
   *
   * @param region the client's default region
   * @param transport the client's request loop
   */
  constructor(region: Region, transport: Transport) {
    this.region = region;
    this.transport = transport;
  }

  /** The region of a call: `options.region`, else the client's, checked. */
  regionOf(options: RequestOptions | undefined): Region {
    return checkRegion(options?.region ?? this.region, "region");
  }

  /**
   * Sends one JSON call and answers `pick` of its body (checked with `schema`), carrying the
   * response's meta as `lastResponse`.
   */
  async call<S extends Shape, T extends object>(
    init: CallInit,
    options: RequestOptions | undefined,
    schema: S,
    pick: (body: Infer<S>) => T,
  ): Promise<WithLastResponse<T>> {
    const received = await this.send(init, options);
    return withMeta(pick(parsed(schema, received, init)), received.status, received.response);
  }

  /**
   * Sends one JSON call. It hands back the transport's own promise (no async step of its own);
   * its callers are async, so a throw here still rejects.
   */
  send(init: CallInit, options: RequestOptions | undefined): Promise<Received> {
    const body = typeof init.json === "string" || init.json === undefined
      ? init.json
      : JSON.stringify(init.json);
    return this.transport.request({
      // First, not after other members: spread among them, it cost ~2.5 µs a request (A/B in
      // one process) of the ≤ 20 µs the SDK may add against a loopback server (bench/client.ts).
      ...callLimits(options),
      method: init.method,
      path: init.path,
      query: init.query,
      body,
      contentType: body === undefined ? undefined : "application/json",
      region: this.regionOf(options),
      signal: options?.signal,
      retry: init.retry,
    });
  }
}

/** The body of a call's answer, validated with `schema`. */
function parsed<S extends Shape>(
  schema: S,
  received: Received,
  init: CallInit,
): Infer<S> {
  return parseBody(schema, received.text, {
    status: received.status,
    response: received.response,
    what: `${init.method} ${init.path}`,
  });
}
