/**
 * Sample API objects (a customer, an upload) as the API returns them, for tests and benchmarks.
 * Apart from `_msw.ts` (which re-exports them) because importing msw keeps a process alive, and a
 * benchmark must exit.
 *
 * @module
 */
import type { Customer, Upload } from "../mod.ts";

/** A sample customer object as the API returns it. */
export function customerJson(id: string, extra?: Record<string, unknown>): Customer {
  return {
    id,
    upload_id: "upl_1",
    region: "au",
    rego: "ABC123",
    state: "NSW",
    vin: "1HGCM82633A004352",
    vin_source: "provided",
    external_id: null,
    vehicle_title: "2019 Toyota Corolla",
    client_name: "Jo Citizen",
    mobile_number: "0400000000",
    sale_date: "2024-01-31",
    expiry_date: null,
    monitor_start_date: null,
    monitor_end_date: null,
    additional_fields: { crm_id: 7 },
    sightings: [],
    created_at: "2025-01-01T00:00:00.000Z",
    last_updated: "2025-01-01T00:00:00.000Z",
    ...extra,
  };
}

/** A sample upload object as the API returns it. */
export function uploadJson(id: string, extra?: Record<string, unknown>): Upload {
  return {
    id,
    name: "March",
    region: "au",
    enable_rego_lookups: false,
    monitor_start_date: null,
    monitor_end_date: null,
    status: "queued",
    total_uploaded_customers: 2,
    total_processed_customers: 0,
    total_errors: 0,
    created_at: "2025-01-01T00:00:00.000Z",
    updated_at: "2025-01-01T00:00:00.000Z",
    ...extra,
  };
}
