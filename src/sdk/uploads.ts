/**
 * `client.uploads`: queue, check, cancel and wait for uploads (`/v2/recapture/upload`).
 * @module
 */
import { checkCount, checkDelay } from "./_args.ts";
import {
  API,
  type Caller,
  type CallInit,
  type RequestOptions,
  type WithLastResponse,
} from "./_call.ts";
import { sleep } from "../_internal/sleep.ts";
import { AbortError, TimeoutError, ValidationError } from "./errors.ts";
import { noteIfCreated } from "./_transport.ts";
import { encodePathSegment } from "./path.ts";
import {
  type Region,
  type RowIssue,
  type Upload,
  type UploadCreateParams,
  UploadEnvelopeSchema,
} from "./schemas.ts";
import { checkUploadParams, UNKNOWN_FIELD, validateEach } from "./validate.ts";
import { UPLOAD_BODY_LIMIT_BYTES, UploadBody } from "./_body_size.ts";

/** Options for `uploads.create`. */
export interface UploadCreateOptions extends RequestOptions {
  /** Validate rows before sending (default true). */
  validate?: boolean;
  /** Drop invalid rows and return them in `rejected` instead of failing (default false). */
  dropInvalid?: boolean;
  /**
   * Send rows whose `expiry_date` is today or earlier (default false: they are invalid rows,
   * since the API deletes such a customer at once).
   */
  allowPastExpiry?: boolean;
  /**
   * The largest body to send, in bytes (default {@link UPLOAD_BODY_LIMIT_BYTES}, 64 MiB). An
   * upload over it is refused with a {@link ValidationError} at the row that passes it, before
   * the rest is checked or sent.
   */
  maxBodyBytes?: number;
}

/** Options for `uploads.wait`. */
export interface UploadWaitOptions extends RequestOptions {
  /** Delay between polls in ms (default 1000). */
  intervalMs?: number;
  /**
   * Give up with a {@link TimeoutError} after this many ms overall (default: no limit). This
   * bounds everything, polls and their retries included: a poll still running at the deadline
   * gets 2 s more, then it is aborted.
   */
  deadlineMs?: number;
  /** Called with every polled state. */
  onProgress?: (upload: Upload) => void;
}

/** What `uploads.create` returns: the queued upload, plus the rows dropped by `dropInvalid`. */
export interface UploadCreateResult extends Upload {
  /** Rows removed by `dropInvalid` (empty otherwise); `index` is the row's input position. */
  rejected: RowIssue[];
}

/**
 * What a cancel really did, judged from the upload the API answers (the API answers a cancel of
 * a finished upload with the upload unchanged, so its status alone does not say).
 */
export interface UploadCancelOutcome {
  /**
   * `"cancelled"`: processing was stopped, `notProcessed` customers will not be created;
   * `"already_cancelled"`: an earlier cancel had stopped it: this one changed nothing;
   * `"already_completed"`: every customer had been processed before: nothing was cancelled.
   */
  result: "cancelled" | "already_cancelled" | "already_completed";
  /**
   * Customers of the upload not processed when the API answered (0 when already completed; for
   * an upload cancelled before, the customers that earlier cancel left uncreated).
   */
  notProcessed: number;
}

/**
 * The upload a cancel answers, its wire fields unchanged, with `outcome` (non-enumerable, as
 * `lastResponse`: it is not a field of the API's answer) saying what the cancel really did.
 */
export type CancelledUpload = WithLastResponse<Upload> & {
  /** What the cancel really did. */
  readonly outcome: UploadCancelOutcome;
};
/**
 * A failure of `uploads.create`. One after which the upload may exist all the same (a timeout, a
 * connection lost or an abort after the body may have been sent, a 5xx, an answer that could not
 * be read) says so, and how to find out: the API lists no uploads, and a queued upload has no
 * customers yet.
 */
function createFailure(error: unknown, name: unknown): unknown {
  return noteIfCreated(
    error,
    `The upload ${JSON.stringify(name)} may have been created anyway. Before sending it ` +
      "again: uploads cannot be listed and a queued one has no customers until processed, so " +
      "wait, then look for new customers on the last page of customers.list() (oldest first) " +
      "and check their upload_id with uploads.retrieve()",
  );
}

/**
 * `client.uploads`: queue, check, cancel and wait for uploads.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox(); // in memory
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * const upload = await client.uploads.create({
 *   name: "March",
 *   customers: [{ rego: "ABC123", state: "NSW" }],
 * });
 * const done = await client.uploads.wait(upload.id, { intervalMs: 20 });
 * console.log(done.total_processed_customers); // 1
 * await sandbox.close();
 * ```
 */
export class Uploads {
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
   * Queues an upload (`POST /v2/recapture/upload`). Rows are validated first (a
   * {@link ValidationError} lists every bad row) unless `validate: false`; with
   * `dropInvalid: true` bad rows are left out and returned in `rejected`. Never blindly retried:
   * only on 429 or when the request provably never reached the server.
   *
   * @example
   * ```ts ignore
   * const upload = await client.uploads.create({ name: "March", customers: [{ rego: "ABC123", state: "NSW" }] });
   * ```
   */
  create(
    params: UploadCreateParams,
    options?: UploadCreateOptions,
  ): Promise<WithLastResponse<UploadCreateResult>> {
    // Checked and written now; only the answer is awaited, so neither `params` nor the rows
    // stay alive while a long list is on its way.
    try {
      const { init, rejected, region } = this.#prepareCreate(params, options);
      const name = params.name;
      const created = this.#caller.call(
        init,
        { ...options, region },
        UploadEnvelopeSchema,
        (body): UploadCreateResult => ({ ...body.upload, rejected }),
      );
      init.json = undefined;
      return created.catch((error) => Promise.reject(createFailure(error, name)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Checks an upload and writes its body (throws {@link ValidationError}), refusing it at the
   * row that takes the body past `maxBodyBytes`, before the rows after it are checked or written.
   */
  #prepareCreate(
    params: UploadCreateParams,
    options: UploadCreateOptions | undefined,
  ): { init: CallInit; rejected: RowIssue[]; region: Region } {
    const region = this.#caller.regionOf(options);
    const upload = checkUploadParams(params);
    const maxBytes = options?.maxBodyBytes === undefined
      ? UPLOAD_BODY_LIMIT_BYTES
      : checkCount(options.maxBodyBytes, "maxBodyBytes", 1);
    const fields: Record<string, unknown> = {
      name: params?.name,
      enable_rego_lookups: params?.enable_rego_lookups ?? false,
    };
    // Sent as checked: trimmed (with `validate: false`, as given).
    for (const field of ["monitor_start_date", "monitor_end_date"] as const) {
      const value: unknown = params?.[field];
      if (value !== undefined) fields[field] = typeof value === "string" ? value.trim() : value;
    }
    // Not started for an upload already refused: its fields may not even be JSON.
    const body = upload.length === 0 || options?.validate === false
      ? new UploadBody(fields, maxBytes)
      : null;
    const tooLarge = (index: number) =>
      new ValidationError([{
        index: -1,
        field: "customers",
        reason:
          `the upload's body would pass ${maxBytes} bytes (the API's limit) at row ${index}, ` +
          `after ${body?.rows} customers (${body?.bytes} bytes): send fewer customers per upload ` +
          "(bulkUpload from @recapture/sdk/bulk splits them by size)",
      }]);
    let rejected: RowIssue[] = [];
    if (options?.validate === false) {
      // Rows go as given, but nothing is left out unsaid: an unknown upload-level field would be.
      const unknown = upload.filter((i) => i.reason === UNKNOWN_FIELD);
      if (!Array.isArray(params?.customers) || unknown.length > 0) {
        throw new ValidationError(
          upload.filter((i) => i.field === "customers" || i.field === "" || unknown.includes(i)),
        );
      }
      const stoppedAt = body!.addAll(params.customers);
      if (stoppedAt !== -1) throw tooLarge(stoppedAt);
    } else {
      const customers: unknown[] = Array.isArray(params?.customers) ? params.customers : [];
      const { valid, issues, stoppedAt } = validateEach(customers, {
        region,
        allowPastExpiry: options?.allowPastExpiry ?? false,
      }, (row) => body === null || body.add(row));
      if (stoppedAt !== null) throw tooLarge(stoppedAt);
      const fatal = upload.length > 0 || (issues.length > 0 && !options?.dropInvalid);
      if (fatal || valid.length === 0) {
        const noneLeft = !fatal && valid.length === 0
          ? [{ index: -1, field: "customers", reason: "no valid customer left to upload" }]
          : [];
        throw new ValidationError([...upload, ...noneLeft, ...issues]);
      }
      rejected = issues;
    }
    const init: CallInit = {
      method: "POST",
      path: `${API}/upload`,
      json: body!.text(),
      retry: "unsent-only",
    };
    return { init, rejected, region };
  }

  /**
   * Gets an upload's status (`GET /v2/recapture/upload/{id}`).
   *
   * @example
   * ```ts ignore
   * const u = await client.uploads.retrieve("upl_123");
   * console.log(u.total_processed_customers, "/", u.total_uploaded_customers);
   * ```
   */
  async retrieve(uploadId: string, options?: RequestOptions): Promise<WithLastResponse<Upload>> {
    const init: CallInit = {
      method: "GET",
      path: `${API}/upload/${encodePathSegment(uploadId, "uploadId")}`,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, UploadEnvelopeSchema, (body) => body.upload);
  }

  /**
   * Cancels an upload (`DELETE /v2/recapture/upload/{id}`): no more customers are created. The
   * answer is the upload as the API returns it, plus `outcome`: `"cancelled"`,
   * `"already_cancelled"` when an earlier cancel had stopped it (this one sends no DELETE), or
   * `"already_completed"` when every customer had been processed (nothing was cancelled; the
   * customers stay). Costs a status request before the DELETE. Two cancels of one upload at
   * the same moment may both say `"cancelled"`: the API answers the second DELETE with the upload
   * unchanged, so only the status read before it tells them apart.
   *
   * @example
   * ```ts ignore
   * const u = await client.uploads.cancel("upl_123");
   * console.log(u.status, u.outcome.result); // "cancelled" "cancelled"
   * ```
   */
  async cancel(uploadId: string, options?: RequestOptions): Promise<CancelledUpload> {
    const init: CallInit = {
      method: "DELETE",
      path: `${API}/upload/${encodePathSegment(uploadId, "uploadId")}`,
      retry: "idempotent",
    };
    // The API answers a second cancel with the upload unchanged, exactly as it answered the
    // first: only asking first tells "stopped now" from "stopped before".
    const before = await this.retrieve(uploadId, options);
    const notProcessedOf = (u: Upload) =>
      Math.max(0, u.total_uploaded_customers - u.total_processed_customers);
    if (before.status === "cancelled") {
      const outcome: UploadCancelOutcome = {
        result: notProcessedOf(before) === 0 ? "already_completed" : "already_cancelled",
        notProcessed: notProcessedOf(before),
      };
      Object.defineProperty(before, "outcome", { value: outcome, enumerable: false });
      return before as CancelledUpload;
    }
    const upload = await this.#caller.call(init, options, UploadEnvelopeSchema, (b) => b.upload);
    // Judged by the counters (the documented fields): a status of "cancelled" is also what a
    // cancel of an upload processed to the end may answer.
    const notProcessed = notProcessedOf(upload);
    const outcome: UploadCancelOutcome = {
      result: notProcessed === 0 ? "already_completed" : "cancelled",
      notProcessed,
    };
    Object.defineProperty(upload, "outcome", { value: outcome, enumerable: false });
    return upload as CancelledUpload;
  }

  /**
   * Polls an upload until it is done (processed == uploaded, or completed, or cancelled),
   * calling `onProgress` with every state. Throws {@link TimeoutError} after `deadlineMs` and
   * {@link AbortError} when `signal` aborts.
   *
   * @example
   * ```ts ignore
   * const done = await client.uploads.wait("upl_123", {
   *   intervalMs: 2000,
   *   deadlineMs: 10 * 60_000,
   *   onProgress: (u) => console.log(`${u.total_processed_customers}/${u.total_uploaded_customers}`),
   * });
   * ```
   */
  async wait(uploadId: string, options?: UploadWaitOptions): Promise<WithLastResponse<Upload>> {
    const interval = checkDelay(options?.intervalMs ?? 1000, "intervalMs", 0);
    const deadline = options?.deadlineMs === undefined
      ? Infinity
      : Date.now() + checkDelay(options.deadlineMs, "deadlineMs", 0);
    const what = `waiting for upload ${uploadId}`;
    const userSignal = options?.signal;
    // The overall bound: a poll (and its retries and their waits) never runs past it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let signal = userSignal;
    let past: AbortSignal | undefined;
    if (deadline !== Infinity) {
      const controller = new AbortController();
      timer = setTimeout(() => controller.abort(), deadline - Date.now() + WAIT_FINAL_POLL_MS);
      past = controller.signal;
      signal = userSignal === undefined ? past : AbortSignal.any([userSignal, past]);
    }
    const pollOptions = { ...options, signal };
    let upload: WithLastResponse<Upload> | undefined;
    const timedOut = () =>
      new TimeoutError(
        `${what}: not finished within ${options?.deadlineMs} ms (${
          upload === undefined
            ? "no answer yet"
            : `${upload.total_processed_customers}/${upload.total_uploaded_customers} processed`
        })`,
      );
    try {
      while (true) {
        try {
          upload = await this.retrieve(uploadId, pollOptions);
        } catch (error) {
          if (past?.aborted && !userSignal?.aborted) throw timedOut();
          throw error;
        }
        options?.onProgress?.(upload);
        if (isUploadDone(upload)) return upload;
        const left = deadline - Date.now();
        if (left <= 0) throw timedOut();
        try {
          // The last poll happens at the deadline itself.
          await sleep(Math.min(interval, left), userSignal);
        } catch (cause) {
          throw new AbortError(`${what} was aborted`, { cause });
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** How long `uploads.wait` lets a poll that is still running at its deadline go on (ms). */
const WAIT_FINAL_POLL_MS = 2000;

/**
 * Whether an upload has finished: `completed` or `cancelled`; without a known status, when
 * every uploaded customer has been processed.
 *
 * @example
 * ```ts
 * import { isUploadDone } from "@recapture/sdk";
 * console.log(isUploadDone({
 *   id: "u1", total_uploaded_customers: 3, total_processed_customers: 3, total_errors: 0,
 * })); // true
 * ```
 */
export function isUploadDone(upload: Upload): boolean {
  const s = upload.status;
  if (s === "completed" || s === "cancelled") return true;
  if (s === "queued" || s === "processing") return false;
  return upload.total_uploaded_customers > 0 &&
    upload.total_processed_customers >= upload.total_uploaded_customers;
}
