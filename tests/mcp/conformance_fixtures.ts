// @ts-nocheck -- a port of the conformance suite's own fixture server (0.1.16,
// examples/servers/typescript/everything-server.ts: its tools, resources and prompts), kept
// close to the original so it can be compared; test-only, never shipped. One change: the sampling
// and elicitation tools ask through the call (`extra.sendRequest`, on the call's own stream), not
// `mcpServer.server.request` (the session's GET stream, which the client may not have opened yet:
// the question was then dropped and the suite waited forever, about one run in three).
// deno-lint-ignore-file
/**
 * The fixture tools, resources and prompts the MCP conformance suite's server scenarios call
 * (`test_simple_text`, `test://static-text`, `test_prompt_with_arguments`...).
 *
 * @module
 */
import * as z from "zod";
import { ElicitResultSchema } from "../../mcp/_sdk.ts";
import type { McpServer } from "../../mcp/_sdk.ts";
import { ResourceTemplate } from "../../mcp/_sdk.ts";

const resourceSubscriptions = new Set<string>();
const watchedResourceContent = "Watched resource content";
const TEST_IMAGE_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const TEST_AUDIO_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/** Adds the suite's fixtures to `mcpServer`. */
export function addConformanceFixtures(mcpServer: McpServer): void {
  // Helper to send log messages using the underlying server
  function sendLog(
    level:
      | "debug"
      | "info"
      | "notice"
      | "warning"
      | "error"
      | "critical"
      | "alert"
      | "emergency",
    message: string,
    data?: any,
  ) {
    mcpServer.server
      .notification({
        method: "notifications/message",
        params: {
          level,
          logger: "conformance-test-server",
          data: data || message,
        },
      })
      .catch(() => {
        // Ignore error if no client is connected
      });
  }
  // ===== TOOLS =====

  // Simple text tool
  mcpServer.tool(
    "test_simple_text",
    "Tests simple text content response",
    {},
    async () => {
      return {
        content: [
          { type: "text", text: "This is a simple text response for testing." },
        ],
      };
    },
  );

  // Image content tool
  mcpServer.registerTool(
    "test_image_content",
    {
      description: "Tests image content response",
    },
    async () => {
      return {
        content: [
          { type: "image", data: TEST_IMAGE_BASE64, mimeType: "image/png" },
        ],
      };
    },
  );

  // Audio content tool
  mcpServer.registerTool(
    "test_audio_content",
    {
      description: "Tests audio content response",
    },
    async () => {
      return {
        content: [
          { type: "audio", data: TEST_AUDIO_BASE64, mimeType: "audio/wav" },
        ],
      };
    },
  );

  // Embedded resource tool
  mcpServer.registerTool(
    "test_embedded_resource",
    {
      description: "Tests embedded resource content response",
    },
    async () => {
      return {
        content: [
          {
            type: "resource",
            resource: {
              uri: "test://embedded-resource",
              mimeType: "text/plain",
              text: "This is an embedded resource content.",
            },
          },
        ],
      };
    },
  );

  // Multiple content types tool
  mcpServer.registerTool(
    "test_multiple_content_types",
    {
      description: "Tests response with multiple content types (text, image, resource)",
    },
    async () => {
      return {
        content: [
          { type: "text", text: "Multiple content types test:" },
          { type: "image", data: TEST_IMAGE_BASE64, mimeType: "image/png" },
          {
            type: "resource",
            resource: {
              uri: "test://mixed-content-resource",
              mimeType: "application/json",
              text: JSON.stringify({ test: "data", value: 123 }),
            },
          },
        ],
      };
    },
  );

  // Tool with logging - registerTool with empty inputSchema to get (args, extra) signature
  mcpServer.registerTool(
    "test_tool_with_logging",
    {
      description: "Tests tool that emits log messages during execution",
      inputSchema: {}, // Empty schema so callback gets (args, extra) instead of just (extra)
    },
    async (_args, { sendNotification }) => {
      await sendNotification({
        method: "notifications/message",
        params: {
          level: "info",
          data: "Tool execution started",
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));

      await sendNotification({
        method: "notifications/message",
        params: {
          level: "info",
          data: "Tool processing data",
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));

      await sendNotification({
        method: "notifications/message",
        params: {
          level: "info",
          data: "Tool execution completed",
        },
      });
      return {
        content: [
          { type: "text", text: "Tool with logging executed successfully" },
        ],
      };
    },
  );

  // Tool with progress - registerTool with empty inputSchema to get (args, extra) signature
  mcpServer.registerTool(
    "test_tool_with_progress",
    {
      description: "Tests tool that reports progress notifications",
      inputSchema: {}, // Empty schema so callback gets (args, extra) instead of just (extra)
    },
    async (_args, { sendNotification, _meta }) => {
      const progressToken = _meta?.progressToken ?? 0;
      (() => {})("???? Progress token:", progressToken);
      await sendNotification({
        method: "notifications/progress",
        params: {
          progressToken,
          progress: 0,
          total: 100,
          message: `Completed step ${0} of ${100}`,
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));

      await sendNotification({
        method: "notifications/progress",
        params: {
          progressToken,
          progress: 50,
          total: 100,
          message: `Completed step ${50} of ${100}`,
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));

      await sendNotification({
        method: "notifications/progress",
        params: {
          progressToken,
          progress: 100,
          total: 100,
          message: `Completed step ${100} of ${100}`,
        },
      });

      return {
        content: [{ type: "text", text: String(progressToken) }],
      };
    },
  );

  // Error handling tool
  mcpServer.registerTool(
    "test_error_handling",
    {
      description: "Tests error response handling",
    },
    async () => {
      throw new Error("This tool intentionally returns an error for testing");
    },
  );

  // Sampling tool - requests LLM completion from client
  mcpServer.registerTool(
    "test_sampling",
    {
      description: "Tests server-initiated sampling (LLM completion request)",
      inputSchema: {
        prompt: z.string().describe("The prompt to send to the LLM"),
      },
    },
    async (args: { prompt: string }, extra: any) => {
      try {
        // Request sampling from client
        const result = await extra.sendRequest(
          {
            method: "sampling/createMessage",
            params: {
              messages: [
                {
                  role: "user",
                  content: {
                    type: "text",
                    text: args.prompt,
                  },
                },
              ],
              maxTokens: 100,
            },
          },
          z
            .object({ method: z.literal("sampling/createMessage") })
            .passthrough() as any,
        );

        const samplingResult = result as any;
        const modelResponse = samplingResult.content?.text ||
          samplingResult.message?.content?.text ||
          "No response";

        return {
          content: [
            {
              type: "text",
              text: `LLM response: ${modelResponse}`,
            },
          ],
        };
      } catch (error: any) {
        return {
          content: [
            {
              type: "text",
              text: `Sampling not supported or error: ${error.message}`,
            },
          ],
        };
      }
    },
  );

  // Elicitation tool - requests user input from client
  mcpServer.registerTool(
    "test_elicitation",
    {
      description: "Tests server-initiated elicitation (user input request)",
      inputSchema: {
        message: z.string().describe("The message to show the user"),
      },
    },
    async (args: { message: string }, extra: any) => {
      try {
        // Request user input from client
        const result = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message: args.message,
              requestedSchema: {
                type: "object",
                properties: {
                  response: {
                    type: "string",
                    description: "User's response",
                  },
                },
                required: ["response"],
              },
            },
          },
          ElicitResultSchema,
        );

        const elicitResult = result as any;
        return {
          content: [
            {
              type: "text",
              text: `User response: action=${elicitResult.action}, content=${
                JSON.stringify(elicitResult.content || {})
              }`,
            },
          ],
        };
      } catch (error: any) {
        return {
          content: [
            {
              type: "text",
              text: `Elicitation not supported or error: ${error.message}`,
            },
          ],
        };
      }
    },
  );

  // SEP-1034: Elicitation with default values for all primitive types
  mcpServer.registerTool(
    "test_elicitation_sep1034_defaults",
    {
      description: "Tests elicitation with default values per SEP-1034",
      inputSchema: {},
    },
    async (_args: any, extra: any) => {
      try {
        // Request user input with default values for all primitive types
        const result = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message: "Please review and update the form fields with defaults",
              requestedSchema: {
                type: "object",
                properties: {
                  name: {
                    type: "string",
                    description: "User name",
                    default: "John Doe",
                  },
                  age: {
                    type: "integer",
                    description: "User age",
                    default: 30,
                  },
                  score: {
                    type: "number",
                    description: "User score",
                    default: 95.5,
                  },
                  status: {
                    type: "string",
                    description: "User status",
                    enum: ["active", "inactive", "pending"],
                    default: "active",
                  },
                  verified: {
                    type: "boolean",
                    description: "Verification status",
                    default: true,
                  },
                },
                required: [],
              },
            },
          },
          ElicitResultSchema,
        );

        const elicitResult = result as any;
        return {
          content: [
            {
              type: "text",
              text: `Elicitation completed: action=${elicitResult.action}, content=${
                JSON.stringify(elicitResult.content || {})
              }`,
            },
          ],
        };
      } catch (error: any) {
        return {
          content: [
            {
              type: "text",
              text: `Elicitation not supported or error: ${error.message}`,
            },
          ],
        };
      }
    },
  );

  // SEP-1330: Elicitation with enum schema improvements
  mcpServer.registerTool(
    "test_elicitation_sep1330_enums",
    {
      description: "Tests elicitation with enum schema improvements per SEP-1330",
      inputSchema: {},
    },
    async (_args: any, extra: any) => {
      try {
        // Request user input with all 5 enum schema variants
        const result = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message: "Please select options from the enum fields",
              requestedSchema: {
                type: "object",
                properties: {
                  // Untitled single-select enum (basic)
                  untitledSingle: {
                    type: "string",
                    description: "Select one option",
                    enum: ["option1", "option2", "option3"],
                  },
                  // Titled single-select enum (using oneOf with const/title)
                  titledSingle: {
                    type: "string",
                    description: "Select one option with titles",
                    oneOf: [
                      { const: "value1", title: "First Option" },
                      { const: "value2", title: "Second Option" },
                      { const: "value3", title: "Third Option" },
                    ],
                  },
                  // Legacy titled enum (using enumNames - deprecated)
                  legacyEnum: {
                    type: "string",
                    description: "Select one option (legacy)",
                    enum: ["opt1", "opt2", "opt3"],
                    enumNames: ["Option One", "Option Two", "Option Three"],
                  },
                  // Untitled multi-select enum
                  untitledMulti: {
                    type: "array",
                    description: "Select multiple options",
                    minItems: 1,
                    maxItems: 3,
                    items: {
                      type: "string",
                      enum: ["option1", "option2", "option3"],
                    },
                  },
                  // Titled multi-select enum (using anyOf with const/title)
                  titledMulti: {
                    type: "array",
                    description: "Select multiple options with titles",
                    minItems: 1,
                    maxItems: 3,
                    items: {
                      anyOf: [
                        { const: "value1", title: "First Choice" },
                        { const: "value2", title: "Second Choice" },
                        { const: "value3", title: "Third Choice" },
                      ],
                    },
                  },
                },
                required: [],
              },
            },
          },
          ElicitResultSchema,
        );

        const elicitResult = result as any;
        return {
          content: [
            {
              type: "text",
              text: `Elicitation completed: action=${elicitResult.action}, content=${
                JSON.stringify(elicitResult.content || {})
              }`,
            },
          ],
        };
      } catch (error: any) {
        return {
          content: [
            {
              type: "text",
              text: `Elicitation not supported or error: ${error.message}`,
            },
          ],
        };
      }
    },
  );

  // SEP-1613: JSON Schema 2020-12 conformance test tool
  // This tool is registered with a Zod schema for tools/call validation,
  // but the tools/list handler (below) returns the raw JSON Schema 2020-12
  // definition to test that SDKs preserve $schema, $defs, additionalProperties
  // ===== RESOURCES =====

  // Static text resource
  mcpServer.registerResource(
    "static-text",
    "test://static-text",
    {
      title: "Static Text Resource",
      description: "A static text resource for testing",
      mimeType: "text/plain",
    },
    async () => {
      return {
        contents: [
          {
            uri: "test://static-text",
            mimeType: "text/plain",
            text: "This is the content of the static text resource.",
          },
        ],
      };
    },
  );

  // Static binary resource
  mcpServer.registerResource(
    "static-binary",
    "test://static-binary",
    {
      title: "Static Binary Resource",
      description: "A static binary resource (image) for testing",
      mimeType: "image/png",
    },
    async () => {
      return {
        contents: [
          {
            uri: "test://static-binary",
            mimeType: "image/png",
            blob: TEST_IMAGE_BASE64,
          },
        ],
      };
    },
  );

  // Resource template
  mcpServer.registerResource(
    "template",
    new ResourceTemplate("test://template/{id}/data", {
      list: undefined,
    }),
    {
      title: "Resource Template",
      description: "A resource template with parameter substitution",
      mimeType: "application/json",
    },
    async (uri, variables) => {
      const id = variables.id;
      return {
        contents: [
          {
            uri: uri.toString(),
            mimeType: "application/json",
            text: JSON.stringify({
              id,
              templateTest: true,
              data: `Data for ID: ${id}`,
            }),
          },
        ],
      };
    },
  );

  // Watched resource
  mcpServer.registerResource(
    "watched-resource",
    "test://watched-resource",
    {
      title: "Watched Resource",
      description: "A resource that auto-updates every 3 seconds",
      mimeType: "text/plain",
    },
    async () => {
      return {
        contents: [
          {
            uri: "test://watched-resource",
            mimeType: "text/plain",
            text: watchedResourceContent,
          },
        ],
      };
    },
  );

  // Subscribe/Unsubscribe handlers (ours keep recapture:// URIs)
  const ours = {
    subscribe: mcpServer.server._requestHandlers.get("resources/subscribe"),
    unsubscribe: mcpServer.server._requestHandlers.get("resources/unsubscribe"),
  };
  mcpServer.server.setRequestHandler(
    z.object({ method: z.literal("resources/subscribe") }).passthrough(),
    async (request: any, extra: any) => {
      const uri = request.params.uri;
      if (uri.startsWith("recapture://")) return ours.subscribe(request, extra);
      resourceSubscriptions.add(uri);
      sendLog("info", `Subscribed to resource: ${uri}`);
      return {};
    },
  );

  mcpServer.server.setRequestHandler(
    z.object({ method: z.literal("resources/unsubscribe") }).passthrough(),
    async (request: any, extra: any) => {
      const uri = request.params.uri;
      if (uri.startsWith("recapture://")) return ours.unsubscribe(request, extra);
      resourceSubscriptions.delete(uri);
      sendLog("info", `Unsubscribed from resource: ${uri}`);
      return {};
    },
  );

  // ===== PROMPTS =====

  // Simple prompt
  mcpServer.registerPrompt(
    "test_simple_prompt",
    {
      title: "Simple Test Prompt",
      description: "A simple prompt without arguments",
    },
    async () => {
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "text",
              text: "This is a simple prompt for testing.",
            },
          },
        ],
      };
    },
  );

  // Prompt with arguments
  mcpServer.registerPrompt(
    "test_prompt_with_arguments",
    {
      title: "Prompt With Arguments",
      description: "A prompt with required arguments",
      argsSchema: {
        arg1: z.string().describe("First test argument"),
        arg2: z.string().describe("Second test argument"),
      },
    },
    async (args) => {
      const { arg1, arg2 } = args;
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "text",
              text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
            },
          },
        ],
      };
    },
  );

  // Prompt with embedded resource
  mcpServer.registerPrompt(
    "test_prompt_with_embedded_resource",
    {
      title: "Prompt With Embedded Resource",
      description: "A prompt that includes an embedded resource",
      argsSchema: {
        resourceUri: z.string().describe("URI of the resource to embed"),
      },
    },
    async (args) => {
      const uri = args.resourceUri;
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "resource",
              resource: {
                uri,
                mimeType: "text/plain",
                text: "Embedded resource content for testing.",
              },
            },
          },
          {
            role: "user",
            content: {
              type: "text",
              text: "Please process the embedded resource above.",
            },
          },
        ],
      };
    },
  );

  // Prompt with image
  mcpServer.registerPrompt(
    "test_prompt_with_image",
    {
      title: "Prompt With Image",
      description: "A prompt that includes image content",
    },
    async () => {
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "image",
              data: TEST_IMAGE_BASE64,
              mimeType: "image/png",
            },
          },
          {
            role: "user",
            content: { type: "text", text: "Please analyze the image above." },
          },
        ],
      };
    },
  );
}
