/**
 * Uploads and customers as MCP resources (`recapture://uploads/{id}`,
 * `recapture://customers/{id}`, `?region=` when not the server's default), and subscriptions
 * to uploads: while one processes, each change of its counters sends
 * `notifications/resources/updated` (on a connection that holds a session: stdio, or stateful
 * HTTP; a stateless HTTP request has nowhere to send it later).
 *
 * @module
 */
import type { Region } from "../mod.ts";
import { isRegion, isUploadDone, REGIONS } from "../mod.ts";
import { explainError, redact } from "./_errors.ts";
import { Scrubber } from "./_mask.ts";
import type { MaskSettings } from "./_mask.ts";
import {
  ErrorCode,
  McpError,
  ResourceTemplate,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "./_sdk.ts";
import type { McpServer } from "./_sdk.ts";
import { boundCustomer, customerView, resourceUri, summarizeUpload } from "./tools/_tool.ts";
import type { ToolContext } from "./tools/_tool.ts";

/** What the resources need from the server they are served by. */
export interface ResourceDeps {
  base: Omit<ToolContext, "scrub">;
  mask: MaskSettings;
  secrets: readonly string[];
  /** Upload ids this server has created or read, newest last (for lists and completions). */
  knownUploads: Set<string>;
  /** Whether subscriptions are offered (a connection that holds a session). */
  subscriptions: boolean;
}

/** JSON-RPC "resource not found" (MCP). */
const RESOURCE_NOT_FOUND = -32002;

/** Parses a `recapture://` URI into its kind, id and region. */
export function parseResourceUri(
  uri: string,
  defaultRegion: Region,
): { kind: "upload" | "customer"; id: string; region: Region } {
  const match = /^recapture:\/\/(uploads|customers)\/([^/?#]+)(?:\?region=([a-z]+))?$/.exec(uri);
  const region = (match?.[3] ?? defaultRegion) as Region;
  if (!match || !isRegion(region)) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `not a recapture resource: ${uri.slice(0, 200)} (expected recapture://uploads/{id} or ` +
        `recapture://customers/{id}, optionally ?region=${REGIONS.join("|")})`,
    );
  }
  let id: string;
  try {
    id = decodeURIComponent(match[2] as string);
  } catch {
    throw new McpError(ErrorCode.InvalidParams, `the id in ${uri.slice(0, 200)} is not valid`);
  }
  return { kind: match[1] === "uploads" ? "upload" : "customer", id, region };
}

/** The JSON text of one resource, masked and redacted like a tool result. */
async function readResource(uri: string, deps: ResourceDeps): Promise<string> {
  const { kind, id, region } = parseResourceUri(uri, deps.base.region);
  const scrub = new Scrubber(deps.mask);
  const ctx: ToolContext = { ...deps.base, scrub };
  try {
    const value = kind === "upload"
      ? summarizeUpload(await ctx.client.uploads.retrieve(id, { region }))
      : boundCustomer(customerView(await ctx.client.customers.retrieve(id, { region }), ctx))
        .customer;
    if (kind === "upload") rememberUpload(deps.knownUploads, id);
    return scrub.text(redact(JSON.stringify(value), deps.secrets));
  } catch (error) {
    throw new McpError(
      RESOURCE_NOT_FOUND,
      scrub.text(redact(explainError(error, { resource: kind, region }), deps.secrets)),
    );
  }
}

/** Most upload ids a server remembers for lists and completions (the oldest go first). */
const MAX_KNOWN_UPLOADS = 200;

/** Remembers an upload id as the newest seen. */
export function rememberUpload(known: Set<string>, id: string): void {
  known.delete(id);
  known.add(id);
  if (known.size > MAX_KNOWN_UPLOADS) known.delete(known.values().next().value as string);
}

/** Upload ids starting with `value`, newest first, at most 20. */
export function completeUploadIds(known: Set<string>, value: string): string[] {
  return [...known].reverse().filter((id) => id.startsWith(value)).slice(0, 20);
}

/** Registers both resource templates and the subscribe/unsubscribe handlers. */
export function registerResources(server: McpServer, deps: ResourceDeps): void {
  const complete = {
    id: (value: string) => completeUploadIds(deps.knownUploads, value),
  };
  const read = async (uri: URL) => ({
    contents: [{
      uri: uri.href,
      mimeType: "application/json",
      text: await readResource(uri.href, deps),
    }],
  });
  server.registerResource(
    "upload",
    new ResourceTemplate("recapture://uploads/{id}", {
      list: () => ({
        resources: [...deps.knownUploads].map((id) => ({
          uri: resourceUri("upload", id),
          name: `upload ${id}`,
          mimeType: "application/json",
        })),
      }),
      complete,
    }),
    {
      title: "Upload",
      description: "An upload's status and counts (uploaded, processed, errors); subscribe to " +
        "hear as it processes. Another region than the server's: add ?region=nz.",
      mimeType: "application/json",
    },
    read,
  );
  server.registerResource(
    "customer",
    new ResourceTemplate("recapture://customers/{id}", {
      list: undefined,
      complete: {},
    }),
    {
      title: "Customer",
      description: "One tracked customer: vehicle, contact, dates, sightings. Another region " +
        "than the server's: add ?region=nz.",
      mimeType: "application/json",
    },
    read,
  );
  const watching = new Map<string, AbortController>();
  server.server.setRequestHandler(SubscribeRequestSchema, (request) => {
    const uri = request.params.uri;
    if (!deps.subscriptions) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        "this server is stateless HTTP: it cannot send updates later. Read the resource " +
          "again, or call recapture_wait_for_upload, to follow an upload.",
      );
    }
    const { kind, id, region } = parseResourceUri(uri, deps.base.region);
    if (kind !== "upload") {
      throw new McpError(
        ErrorCode.InvalidParams,
        "only uploads can be subscribed to (they change while processing); read customers " +
          "when needed",
      );
    }
    if (watching.has(uri)) return {};
    const stop = new AbortController();
    watching.set(uri, stop);
    rememberUpload(deps.knownUploads, id);
    let last: number | undefined;
    const updated = () => server.server.sendResourceUpdated({ uri }).catch(() => {});
    // Watches until the upload is done, the client unsubscribes or the connection closes.
    deps.base.client.uploads.wait(id, {
      region,
      signal: stop.signal,
      intervalMs: deps.base.pollIntervalMs,
      deadlineMs: 24 * 3600_000,
      onProgress: (upload) => {
        const processed = upload.total_processed_customers ?? 0;
        if (last !== undefined && processed === last && !isUploadDone(upload)) return;
        const first = last === undefined;
        last = processed;
        if (!first || isUploadDone(upload)) updated();
      },
    }).catch(() => {}).finally(() => {
      if (watching.get(uri) === stop) watching.delete(uri);
    });
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    watching.get(request.params.uri)?.abort();
    watching.delete(request.params.uri);
    return {};
  });
  const closed = server.server.onclose;
  server.server.onclose = () => {
    for (const stop of watching.values()) stop.abort();
    watching.clear();
    closed?.();
  };
}
