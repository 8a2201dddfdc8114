/**
 * `client.webhooks`: AutoGrab's alert subscriptions (`/v2/webhooks`): where AutoGrab pushes
 * which alert events. (Not our signing scheme, which is `@recapture/sdk/webhooks`.)
 * @module
 */
import { array, type Infer, looseObject, nullish, string } from "./_shape.ts";
import type { Caller, CallInit, RequestOptions, WithLastResponse } from "./_call.ts";
import {
  PingEnvelopeSchema,
  type PingResult,
  RECAPTURE_ALERT_EVENTS,
  type RecaptureAlertEventName,
} from "./alert_events.ts";
import { ValidationError } from "./errors.ts";
import { noteIfCreated } from "./_transport.ts";
import { HTTPS_RULE, isHttpsOrLoopback } from "./_url.ts";
import { encodePathSegment } from "./path.ts";
import { optStr, type RowIssue } from "./schemas.ts";
import type { Assert, Same } from "./schemas.ts";

/** A webhook configuration: where AutoGrab pushes which events. Extra fields are kept. */
export interface Webhook {
  /** The webhook id. */
  id: string;
  /** A name for reference. */
  name?: string | null;
  /** Its region. */
  region?: string | null;
  /** Payload format (only `json`). */
  format?: string | null;
  /** The URL pushed to (it may carry a secret token: treat it as a secret). */
  endpoint?: string | null;
  /** The subscribed event names. */
  events?: string[] | null;
  /** Creation time (ISO 8601). */
  created_at?: string | null;
  /** Fields the SDK does not know yet. */
  [key: string]: unknown;
}

/** The body of `webhooks.create`. */
export interface WebhookCreateParams {
  /** A name for reference. */
  name: string;
  /**
   * The https URL AutoGrab pushes to; put an unguessable token in it (path or query): it is all
   * that authenticates the pushes. Plain http only to `localhost`, `127.0.0.0/8` or `[::1]` (a
   * local receiver of the sandbox's pushes).
   */
  endpoint: string;
  /** The events to receive (default: all three Recapture events). */
  events?: RecaptureAlertEventName[];
  /** Payload format (default and only value: `json`). */
  format?: "json";
}

/** What `webhooks.list` returns. */
export interface WebhookList {
  /** The account's webhooks in the region. */
  webhooks: Webhook[];
  /** Fields the SDK does not know yet (e.g. `success`). */
  [key: string]: unknown;
}

/** The wire schema of {@link Webhook} (held equal to it at the bottom of this file). */
const WebhookSchema = looseObject({
  id: string(),
  name: optStr,
  region: optStr,
  format: optStr,
  endpoint: optStr,
  events: nullish(array(string())),
  created_at: optStr,
});
/** `{ success, webhook }` */
const WebhookEnvelopeSchema = looseObject({ webhook: WebhookSchema });
/** `{ success, webhooks }` */
const WebhookListSchema = looseObject({ webhooks: array(WebhookSchema) });

const WEBHOOKS = "/v2/webhooks";

/** The fields of {@link WebhookCreateParams} (the type holds this list complete). */
const CREATE_FIELDS: Record<keyof WebhookCreateParams, true> = {
  name: true,
  endpoint: true,
  events: true,
  format: true,
};

function checkWebhookParams(params: WebhookCreateParams): RowIssue[] {
  const issues: RowIssue[] = [];
  const add = (field: string, reason: string) => issues.push({ index: -1, field, reason });
  if (typeof params !== "object" || params === null) {
    add("", "params must be an object");
    return issues;
  }
  if (typeof params.name !== "string" || params.name.trim() === "") {
    add("name", "must be a non-empty string");
  }
  let url: URL | null = null;
  try {
    url = new URL(String(params.endpoint));
  } catch {
    add("endpoint", "must be an absolute URL");
  }
  if (url && !isHttpsOrLoopback(url)) {
    // Not the URL itself: its token is a secret.
    add(
      "endpoint",
      `must be ${HTTPS_RULE}, got ${url.protocol}//${url.hostname}: its token would cross ` +
        "the network in clear text",
    );
  }
  if (params.format !== undefined && params.format !== "json") {
    add("format", `must be "json", got ${String(params.format)}`);
  }
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(CREATE_FIELDS, key)) add(key, "unknown field");
  }
  if (params.events !== undefined) {
    if (!Array.isArray(params.events) || params.events.length === 0) {
      add("events", "must be a non-empty list");
    } else {
      for (const [i, e] of params.events.entries()) {
        if (!(RECAPTURE_ALERT_EVENTS as readonly unknown[]).includes(e)) {
          add(
            `events[${i}]`,
            `must be one of ${RECAPTURE_ALERT_EVENTS.join(", ")}, got ${String(e)}`,
          );
        }
      }
    }
  }
  return issues;
}

/**
 * `client.webhooks`: register, list, get, delete and ping alert webhooks (`/v2/webhooks`).
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * // The sandbox pushes alerts through `pushFetch`; here they are answered in process.
 * const sandbox = await createSandbox({ pushFetch: () => Promise.resolve(new Response("ok")) });
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * const hook = await client.webhooks.create({
 *   name: "CRM alerts",
 *   endpoint: "https://edge.example.com/alerts/token_0123456789",
 * });
 * console.log((await client.webhooks.ping(hook.id)).event?.event); // "ping"
 * await client.webhooks.delete(hook.id);
 * await sandbox.idle();
 * await sandbox.close();
 * ```
 */
export class Webhooks {
  #caller: Caller;

  /**
   * Creates an instance (the client makes it).
   *
   * @param caller the client's region and request loop
   */
  constructor(caller: Caller) {
    this.#caller = caller;
  }

  /**
   * Registers a webhook (`POST /v2/webhooks`). Checked first (a {@link ValidationError} names
   * each bad field, unknown fields included). Like uploads, never blindly retried: only on 429 or
   * when the request provably never reached the server; a failure after which it may exist all
   * the same (a timeout, a lost connection, a 5xx) says so.
   *
   * @example
   * ```ts ignore
   * const hook = await client.webhooks.create({
   *   name: "CRM alerts",
   *   endpoint: "https://edge.example.com/alerts/3f9c...e1",
   *   events: ["recapture_new", "recapture_price_change", "recapture_delist"],
   * });
   * ```
   */
  async create(
    params: WebhookCreateParams,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Webhook>> {
    const issues = checkWebhookParams(params);
    if (issues.length > 0) throw new ValidationError(issues);
    const region = this.#caller.regionOf(options);
    const init: CallInit = {
      method: "POST",
      path: WEBHOOKS,
      json: {
        name: params.name,
        region,
        format: params.format ?? "json",
        endpoint: params.endpoint,
        events: params.events ?? [...RECAPTURE_ALERT_EVENTS],
      },
      retry: "unsent-only",
    };
    try {
      return await this.#caller.call(
        init,
        { ...options, region },
        WebhookEnvelopeSchema,
        (body) => body.webhook,
      );
    } catch (error) {
      throw noteIfCreated(
        error,
        `The webhook ${
          JSON.stringify(params.name)
        } may have been created anyway: look in webhooks.list() before creating it again`,
      );
    }
  }

  /**
   * Lists the account's webhooks in the region (`GET /v2/webhooks`).
   *
   * @example
   * ```ts ignore
   * const { webhooks } = await client.webhooks.list();
   * ```
   */
  async list(options?: RequestOptions): Promise<WithLastResponse<WebhookList>> {
    const init: CallInit = { method: "GET", path: WEBHOOKS, retry: "idempotent" };
    return await this.#caller.call(init, options, WebhookListSchema, (body) => body);
  }

  /**
   * Gets one webhook (`GET /v2/webhooks/{id}`).
   *
   * @example
   * ```ts ignore
   * const hook = await client.webhooks.retrieve("wh_123");
   * ```
   */
  async retrieve(webhookId: string, options?: RequestOptions): Promise<WithLastResponse<Webhook>> {
    const init: CallInit = {
      method: "GET",
      path: `${WEBHOOKS}/${encodePathSegment(webhookId, "webhookId")}`,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, WebhookEnvelopeSchema, (body) => body.webhook);
  }

  /**
   * Deletes a webhook permanently (`DELETE /v2/webhooks/{id}`) and returns its configuration.
   *
   * @example
   * ```ts ignore
   * const gone = await client.webhooks.delete("wh_123");
   * ```
   */
  async delete(webhookId: string, options?: RequestOptions): Promise<WithLastResponse<Webhook>> {
    const init: CallInit = {
      method: "DELETE",
      path: `${WEBHOOKS}/${encodePathSegment(webhookId, "webhookId")}`,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, WebhookEnvelopeSchema, (body) => body.webhook);
  }

  /**
   * Asks AutoGrab to push a `ping` event to the webhook (`POST /v2/webhooks/{id}/ping`); returns
   * the answer: `{ success: true }` as documented, with the `event` sent when the API names it
   * (`null` otherwise). Retried like any call that is safe to repeat (a second ping is harmless).
   *
   * @example
   * ```ts ignore
   * const ping = await client.webhooks.ping("wh_123");
   * console.log(ping.event?.id); // the event id the endpoint will receive, when the API says it
   * ```
   */
  async ping(webhookId: string, options?: RequestOptions): Promise<WithLastResponse<PingResult>> {
    const init: CallInit = {
      method: "POST",
      path: `${WEBHOOKS}/${encodePathSegment(webhookId, "webhookId")}/ping`,
      retry: "idempotent",
    };
    return await this.#caller.call(
      init,
      options,
      PingEnvelopeSchema,
      (body): PingResult => ({ ...body, event: body.event ?? null }),
    );
  }
}

/** @internal The wire schema and the public type agree (a compile-time check). */
export type _WebhookTypeAgrees = Assert<Same<Infer<typeof WebhookSchema>, Webhook>>;
