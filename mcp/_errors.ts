/**
 * Turns failures into `isError` tool results that name the cause and the next step, and keeps
 * secrets out of every result.
 *
 * @module
 */
import {
  AuthenticationError,
  ConnectionError,
  EmptyUploadError,
  IncorrectRegionError,
  InvalidRequestError,
  NotFoundError,
  NotLicensedError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  RecaptureError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "../mod.ts";
import type { RowIssue } from "../mod.ts";
import { mayHaveBeenCreated } from "../src/sdk/_transport.ts";

/** The most row problems listed in one result; the rest are counted. */
export const MAX_LISTED_ISSUES = 50;

/** A failure the tool itself decided on (bad arguments, bad token...), with its next step. */
export class ToolFailure extends Error {
  /** A stable code, e.g. `confirmation_expired`. */
  readonly code: string;
  /** @param code stable code @param message what went wrong and what to do */
  constructor(code: string, message: string) {
    super(message);
    this.name = "ToolFailure";
    this.code = code;
  }
}

/** The kinds of resource a tool works on. */
export type Resource = "customer" | "upload" | "webhook";

/** Where a failed call was pointed, for the advice. */
export interface FailureContext {
  /** The resource, when the tool works on one. */
  resource?: Resource;
  /** The region the call used. */
  region: string;
  /** A region where the resource was found, when a wrong-region error led us to look. */
  foundInRegion?: string | null;
}

/** Formats row problems, one per line; `label` turns an issue into a location. */
export function formatIssues(
  issues: readonly RowIssue[],
  label: (issue: RowIssue) => string,
): string {
  const shown = issues.slice(0, MAX_LISTED_ISSUES).map((i) => {
    const where = [label(i), i.field].filter((part) => part !== "").join(" ");
    return `- ${where}: ${i.reason}`;
  });
  if (issues.length > MAX_LISTED_ISSUES) {
    shown.push(`- ...and ${issues.length - MAX_LISTED_ISSUES} more`);
  }
  return shown.join("\n");
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Explains `error` as `<code>: <what happened>. <next step>`; an SDK error's code is its own
 * (`error.code`), never written again here.
 */
export function explainError(error: unknown, context: FailureContext): string {
  const thing = context.resource ?? "resource";
  if (error instanceof ToolFailure) return `${error.code}: ${error.message}`;
  if (error instanceof ValidationError) {
    // Row problems carry the row's index; problems with plain arguments carry index -1.
    const rowsBad = error.issues.some((i) => i.index >= 0);
    return (rowsBad
      ? `${error.code}: ${error.issues.length} problem(s) in the rows; nothing was sent.\n`
      : `${error.code}: invalid arguments; nothing was changed.\n`) +
      formatIssues(error.issues, (i) => (i.index >= 0 ? `customers[${i.index}]` : "")) +
      "\nFix these and call again.";
  }
  if (error instanceof IncorrectRegionError) {
    const where = context.foundInRegion
      ? `It is in region "${context.foundInRegion}": call again with region "${context.foundInRegion}".`
      : `It was not found in any other region either; check the id.`;
    return `${error.code}: this ${thing} does not belong to region "${context.region}". ${where}`;
  }
  if (mayHaveBeenCreated(error)) {
    const check = thing === "webhook"
      ? "call recapture_list_webhooks and look for it"
      : "wait a minute, then look for its customers at the end of recapture_list_customers " +
        "(an upload shows none until it is processed)";
    return `${(error as RecaptureError).code}: the call failed, but the ${thing} may have been ` +
      `created anyway (its answer was lost). Do not call this tool again yet: ${check}, and ` +
      "send it again only if it is not there.";
  }
  if (error instanceof NotFoundError && error.earlierAttemptMayHaveDeleted) {
    return `${error.code}: the ${thing} is gone; an earlier attempt of this delete may have ` +
      "deleted it, and its answer was lost. Do not retry.";
  }
  if (error instanceof NotFoundError) {
    const how = thing === "customer"
      ? "Use recapture_list_customers to find customer ids."
      : thing === "upload"
      ? "Use the upload_id returned by recapture_upload_customers."
      : thing === "webhook"
      ? "Use recapture_list_webhooks to find webhook ids."
      : "Check the id.";
    return `${error.code}: no ${thing} with that id in region "${context.region}". ${how}`;
  }
  if (error instanceof NotLicensedError) {
    return `${error.code}: the API key has no Recapture licence for region "${context.region}". ` +
      "Use a licensed region, or ask AutoGrab to enable Recapture for it.";
  }
  if (error instanceof PermissionDeniedError) {
    return `${error.code}: this ${thing} belongs to another account. ` +
      "Use an id from this account (see recapture_list_customers).";
  }
  if (error instanceof AuthenticationError) {
    return `${error.code}: the server's API credentials were rejected. ` +
      "The user must fix RECAPTURE_API_KEY in the MCP server configuration; retrying will not help.";
  }
  if (error instanceof QuotaExceededError) {
    return `${error.code}: the account's monthly request quota is used up. ` +
      "Do not retry; tell the user (the quota resets next month or can be raised by AutoGrab).";
  }
  if (error instanceof RateLimitError) {
    const wait = error.retryAfterMs !== undefined && error.retryAfterMs !== null
      ? `${seconds(error.retryAfterMs)} s`
      : "a minute";
    return `${error.code}: too many requests. Retry the same call after ${wait}.`;
  }
  if (error instanceof EmptyUploadError) {
    return `${error.code}: the upload has no customers. Pass at least one row.`;
  }
  if (error instanceof InvalidRequestError) {
    return `${error.code}: the API rejected the request: ${error.message}. Fix the arguments and call again.`;
  }
  if (error instanceof ServerError) {
    return `${error.code}: the Recapture API failed on its side. Retry in a minute; ` +
      "for an upload, first check recapture_list_customers or the upload status so nothing is sent twice.";
  }
  if (error instanceof TimeoutError || error instanceof ConnectionError) {
    return `${error.code}: the Recapture API could not be reached in time. Retry shortly.`;
  }
  if (error instanceof RecaptureError) {
    return `${error.code}: ${error.message}`;
  }
  // Anything else is a bug on our side: say so without echoing internals.
  const name = error instanceof Error ? error.name : typeof error;
  return `internal_error: the MCP server failed (${name}). Retry once; if it persists, tell the user.`;
}

/** Replaces each secret in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.replaceAll(secret, "[redacted]");
  }
  return out;
}
