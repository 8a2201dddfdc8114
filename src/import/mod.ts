/**
 * Streaming readers for long customer lists: CSV and NDJSON from a web `ReadableStream`, one
 * customer at a time, so memory stays flat whatever the file size. They run on Deno, Deno
 * Deploy, Cloudflare Workers, Node and Bun (no runtime-specific API).
 *
 * Parsing is done by [papaparse](https://www.papaparse.com/)'s core parser (5.7.1), fed chunk
 * by chunk; this module adds what exports need around it: encoding and BOM, newline and
 * delimiter detection (`,` `;` tab `|`), physical line numbers, malformed-file errors naming
 * the line, and a column mapping that knows common export headers ("Rego", "Registration",
 * "Plate", "VIN", "Customer Name", "Mobile", "Sale Date", "State", "Expiry" ...). Columns it
 * does not know go to `additional_fields`.
 *
 * @example
 * ```ts
 * import { readCsv } from "@recapture/sdk/csv";
 *
 * const file = "Rego,State,Customer Name,Mobile,Sale Date,Colour\n" +
 *   'ABC123,NSW,"Smith, Jo",0412345678,01/03/2024,Blue\n';
 * for await (const row of readCsv(new Blob([file]).stream())) {
 *   console.log(row.line, row.customer, row.issues);
 *   // 2 { rego: "ABC123", state: "NSW", client_name: "Smith, Jo", mobile_number: "0412345678",
 *   //     sale_date: "2024-03-01", additional_fields: { Colour: "Blue" } } []
 * }
 * ```
 * @module
 */

export * from "./csv.ts";
