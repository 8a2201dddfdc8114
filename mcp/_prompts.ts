/**
 * The prompts: recipes an agent follows with the tools ("import a customer list", "review this
 * week's alerts"), their arguments completed by `completion/complete` (regions, upload ids).
 *
 * @module
 */
import * as z from "zod";
import { REGIONS } from "../mod.ts";
import { completable } from "./_sdk.ts";
import type { McpServer } from "./_sdk.ts";
import { completeUploadIds } from "./_resources.ts";

/** A region argument, completed from the SDK's region list. */
function regionArg() {
  return completable(
    z.string().optional().describe(`Region (${REGIONS.join(", ")}).`),
    (value) => REGIONS.filter((r) => r.startsWith(value ?? "")),
  );
}

/** Registers the prompts; `knownUploads` feeds the upload-id completions. */
export function registerPrompts(
  server: McpServer,
  knownUploads: Set<string>,
  now: () => number,
): void {
  server.registerPrompt("import_customer_list", {
    title: "Import a customer list",
    description: "Upload a customer list: check it, fix or skip bad rows, upload, wait, sum up.",
    argsSchema: {
      file: z.string().optional().describe("Path of the CSV file (stdio), if it is a file."),
      region: regionArg(),
    },
  }, ({ file, region }) => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text: [
          `Import ${file ? `the customer list in ${file}` : "the customer list I give you"}` +
          `${region ? ` into region ${region}` : ""}:`,
          `1. recapture_upload_customers with dry_run: true${file ? ` and file "${file}"` : ""}.`,
          "2. Show me the problems; fix rows you can, otherwise ask me whether to skip them " +
          "(skip_invalid: true uploads the valid rows and reports the rest).",
          "3. Upload for real, then recapture_wait_for_upload until done.",
          "4. Sum up: rows uploaded, skipped (with why), processing errors.",
        ].join("\n"),
      },
    }],
  }));
  server.registerPrompt("review_alerts", {
    title: "Review this week's alerts",
    description:
      "Customers whose car was seen listed for sale in the last 7 days, with next steps.",
    argsSchema: {
      region: regionArg(),
      upload_id: completable(
        z.string().optional().describe("Only this upload's customers."),
        (value) => completeUploadIds(knownUploads, value ?? ""),
      ),
    },
  }, ({ region, upload_id }) => {
    const since = new Date(now() - 7 * 86_400_000).toISOString().slice(0, 10);
    return {
      messages: [{
        role: "user",
        content: {
          type: "text",
          text: [
            `Review the alerts since ${since}${region ? ` in region ${region}` : ""}` +
            `${upload_id ? ` for upload ${upload_id}` : ""}:`,
            "1. recapture_list_customers with fields [vehicle_title, client_name, sightings]" +
            `${upload_id ? ` and upload_id "${upload_id}"` : ""}, following next_cursor.`,
            `2. Keep customers with a sighting whose "at" is on or after ${since}.`,
            "3. For each: car, when and where it was listed (listing_url, price, seller type); " +
            "suggest whom to call first (newest, private sellers first).",
          ].join("\n"),
        },
      }],
    };
  });
}
