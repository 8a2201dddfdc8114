/**
 * `client.customers`: list, walk, get, update and delete tracked customers
 * (`/v2/recapture/customers`).
 * @module
 */
import { checkCount } from "./_args.ts";
import {
  API,
  type Caller,
  type CallInit,
  type RequestOptions,
  type WithLastResponse,
} from "./_call.ts";
import { ValidationError } from "./errors.ts";
import { iteratePages } from "./pagination.ts";
import { encodePathSegment } from "./path.ts";
import {
  type Customer,
  CustomerEnvelopeSchema,
  type CustomerPage,
  CustomerPageSchema,
  type CustomerUpdateParams,
} from "./schemas.ts";
import { checkUpdateParams } from "./validate.ts";

/**
 * Options for `customers.update`.
 *
 * @example
 * ```ts ignore
 * await client.customers.update("cus_123", { expiry_date: "2020-01-01" }, { allowPastExpiry: true });
 * ```
 */
export interface CustomerUpdateOptions extends RequestOptions {
  /**
   * Send an `expiry_date` of today or earlier (default false: refused before sending, since the
   * API deletes the customer on its expiry date).
   */
  allowPastExpiry?: boolean;
}

/** Parameters of `customers.list`. */
export interface CustomerListParams {
  /** Skip this many customers (default 0). */
  offset?: number;
  /** Page size, 1 to 1000 (API default 50). */
  limit?: number;
  /** Only customers of this upload. */
  upload_id?: string;
}

/** Parameters of `customers.iterate`. */
export interface CustomerIterateParams {
  /** Only customers of this upload. */
  upload_id?: string;
  /** Customers per request, 1 to 1000 (default 100). */
  pageSize?: number;
}

/**
 * `client.customers`: list, walk, get, update and delete tracked customers.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createSandbox, SANDBOX_API_KEY } from "@recapture/sdk/sandbox";
 *
 * const sandbox = await createSandbox(); // in memory
 * const client = new RecaptureClient({ apiKey: SANDBOX_API_KEY, fetch: sandbox.fetch });
 * const upload = await client.uploads.create({ name: "Q1", customers: [{ vin: "1HGCM82633A004352" }] });
 * await client.uploads.wait(upload.id, { intervalMs: 20 });
 * const { customers } = await client.customers.list({ upload_id: upload.id });
 * const updated = await client.customers.update(customers[0].id, { client_name: "Jo Citizen" });
 * console.log(updated.client_name); // "Jo Citizen"
 * await client.customers.delete(updated.id);
 * await sandbox.close();
 * ```
 */
export class Customers {
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
   * Lists one page of customers (`GET /v2/recapture/customers`).
   *
   * @example
   * ```ts ignore
   * const page = await client.customers.list({ limit: 100, upload_id: "upl_123" });
   * console.log(page.total, page.customers.length);
   * ```
   */
  async list(
    params?: CustomerListParams,
    options?: RequestOptions,
  ): Promise<WithLastResponse<CustomerPage>> {
    const query = new URLSearchParams();
    if (params?.offset !== undefined) {
      query.set("offset", String(checkCount(params.offset, "offset", 0)));
    }
    if (params?.limit !== undefined) {
      const limit = checkCount(params.limit, "limit", 1);
      if (limit > 1000) throw new RangeError(`limit must be at most 1000, got ${limit}`);
      query.set("limit", String(limit));
    }
    if (params?.upload_id !== undefined) {
      if (typeof params.upload_id !== "string" || params.upload_id === "") {
        throw new TypeError("upload_id must be a non-empty string");
      }
      query.set("upload_id", params.upload_id);
    }
    const init: CallInit = {
      method: "GET",
      path: `${API}/customers`,
      query,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, CustomerPageSchema, (body) => body);
  }

  /**
   * Yields every customer, page by page (optionally of one upload). Pages are read by offset, as
   * the API pages: deleting the customers yielded while iterating skips some (the rest move
   * forward), so collect their ids first, then delete.
   *
   * @example
   * ```ts ignore
   * for await (const c of client.customers.iterate({ upload_id: "upl_123", pageSize: 500 })) {
   *   console.log(c.id);
   * }
   * ```
   */
  iterate(
    params?: CustomerIterateParams,
    options?: RequestOptions,
  ): AsyncIterableIterator<Customer> {
    const pageSize = params?.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer from 1 to 1000, got ${pageSize}`);
    }
    return iteratePages(async (offset, limit) => {
      const page = await this.list({ offset, limit, upload_id: params?.upload_id }, options);
      return { items: page.customers, total: page.total };
    }, { pageSize });
  }

  /**
   * Gets one customer (`GET /v2/recapture/customers/{id}`).
   *
   * @example
   * ```ts ignore
   * const c = await client.customers.retrieve("cus_123");
   * console.log(c.vin, c.sightings?.length);
   * ```
   */
  async retrieve(
    customerId: string,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Customer>> {
    const init: CallInit = {
      method: "GET",
      path: `${API}/customers/${encodePathSegment(customerId, "customerId")}`,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, CustomerEnvelopeSchema, (body) => body.customer);
  }

  /**
   * Changes some of `client_name`, `mobile_number`, `sale_date`, `expiry_date`
   * (`PATCH /v2/recapture/customers/{id}`); `""` sets a field to null. An `expiry_date` of today
   * or earlier is refused with a {@link ValidationError} before sending (the API deletes the
   * customer on that date) unless `allowPastExpiry: true`.
   *
   * @example
   * ```ts ignore
   * const c = await client.customers.update("cus_123", { mobile_number: "", expiry_date: "2027-01-31" });
   * ```
   */
  async update(
    customerId: string,
    params: CustomerUpdateParams,
    options?: CustomerUpdateOptions,
  ): Promise<WithLastResponse<Customer>> {
    const path = `${API}/customers/${encodePathSegment(customerId, "customerId")}`;
    const issues = checkUpdateParams(params, { allowPastExpiry: options?.allowPastExpiry });
    if (issues.length > 0) throw new ValidationError(issues);
    const init: CallInit = {
      method: "PATCH",
      path,
      json: params,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, CustomerEnvelopeSchema, (body) => body.customer);
  }

  /**
   * Deletes a customer (`DELETE /v2/recapture/customers/{id}`) and returns it.
   *
   * @example
   * ```ts ignore
   * const gone = await client.customers.delete("cus_123");
   * ```
   */
  async delete(
    customerId: string,
    options?: RequestOptions,
  ): Promise<WithLastResponse<Customer>> {
    const init: CallInit = {
      method: "DELETE",
      path: `${API}/customers/${encodePathSegment(customerId, "customerId")}`,
      retry: "idempotent",
    };
    return await this.#caller.call(init, options, CustomerEnvelopeSchema, (body) => body.customer);
  }
}
