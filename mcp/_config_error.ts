/**
 * The start-up error of the MCP server (own module so every part can throw it).
 *
 * @module
 */

/**
 * Thrown at start-up for an unknown option, flag or tool name, or a bad option value.
 *
 * @example
 * ```ts
 * import { RecaptureClient } from "@recapture/sdk";
 * import { createRecaptureMcpServer, RecaptureMcpConfigError } from "@recapture/sdk/mcp";
 *
 * try {
 *   createRecaptureMcpServer(new RecaptureClient({ apiKey: "sec_example" }), {
 *     tools: ["recapture_no_such_tool"],
 *   });
 * } catch (error) {
 *   if (error instanceof RecaptureMcpConfigError) console.log(error.message);
 * }
 * ```
 */
export class RecaptureMcpConfigError extends Error {
  /** Always `"mcp_config_invalid"`. */
  readonly code: "mcp_config_invalid" = "mcp_config_invalid";
  /**
   * Creates the error.
   *
   * @param message what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "RecaptureMcpConfigError";
  }
}
