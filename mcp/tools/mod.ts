/**
 * The MCP tools, one file per family, as the registry (`../_registry.ts`) takes them: each
 * family a list in listing order. What every tool is made of (`defineTool`, the annotation sets,
 * the shared schema pieces, `guarded` and `onResource`) is in `_tool.ts`.
 *
 * @example
 * ```ts
 * import { UPLOAD_TOOLS } from "./mod.ts";
 * console.log(UPLOAD_TOOLS.map((tool) => tool.name)[0]); // "recapture_upload_customers"
 * ```
 * @module
 */
export { UPLOAD_TOOLS } from "./uploads.ts";
export { CUSTOMER_TOOLS } from "./customers.ts";
export { FIND_TOOLS } from "./find.ts";
export { ALERT_TOOLS, SANDBOX_ONLY_TOOL } from "./alerts.ts";
