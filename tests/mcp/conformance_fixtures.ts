// @ts-nocheck -- a port of the conformance suite's own fixture server (0.1.16,
// examples/servers/typescript/everything-server.ts: its tools, resources and prompts), with the
// original's names, descriptions, schemas and answers, so it can be compared; test-only, never
// shipped. Two changes: the sampling and elicitation tools ask through the call
// (`extra.sendRequest`, on the call's own stream), not `mcpServer.server.request` (the session's
// GET stream, which the client may not have opened yet: the question was then dropped and the
// suite waited forever, about one run in three); and what the original repeats (a text answer,
// the three elicitation tools, the notification steps, the static resources) is written once.
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
  /** A tool or prompt answer of one text block. */
  const textContent = (text: string) => ({ content: [{ type: "text", text }] });
  const pause = () => new Promise((resolve) => setTimeout(resolve, 50));

  /** A tool without arguments that always answers `content`. */
  const fixedTool = (name: string, description: string, content: unknown[]) =>
    mcpServer.registerTool(name, { description }, async () => ({ content }));

  /**
   * A tool that asks the client (elicitation, through the call) with `ask(args)` and answers
   * `<answered>: action=..., content=...`, or why it could not ask.
   */
  function elicitationTool(
    name: string,
    description: string,
    inputSchema: Record<string, unknown>,
    ask: (args: any) => { message: string; requestedSchema: unknown },
    answered: string,
  ) {
    mcpServer.registerTool(name, { description, inputSchema }, async (args: any, extra: any) => {
      try {
        const result = await extra.sendRequest(
          { method: "elicitation/create", params: ask(args) },
          ElicitResultSchema,
        ) as any;
        return textContent(
          `${answered}: action=${result.action}, content=${JSON.stringify(result.content || {})}`,
        );
      } catch (error: any) {
        return textContent(`Elicitation not supported or error: ${error.message}`);
      }
    });
  }

  /** A resource at a fixed URI with fixed contents (`text` or `blob`). */
  function staticResource(
    name: string,
    uri: string,
    metadata: { title: string; description: string; mimeType: string },
    contents: { text: string } | { blob: string },
  ) {
    mcpServer.registerResource(name, uri, metadata, async () => ({
      contents: [{ uri, mimeType: metadata.mimeType, ...contents }],
    }));
  }

  // ===== TOOLS =====

  // Simple text tool
  mcpServer.tool(
    "test_simple_text",
    "Tests simple text content response",
    {},
    async () => textContent("This is a simple text response for testing."),
  );

  // Image content tool
  fixedTool("test_image_content", "Tests image content response", [
    { type: "image", data: TEST_IMAGE_BASE64, mimeType: "image/png" },
  ]);

  // Audio content tool
  fixedTool("test_audio_content", "Tests audio content response", [
    { type: "audio", data: TEST_AUDIO_BASE64, mimeType: "audio/wav" },
  ]);

  // Embedded resource tool
  fixedTool("test_embedded_resource", "Tests embedded resource content response", [
    {
      type: "resource",
      resource: {
        uri: "test://embedded-resource",
        mimeType: "text/plain",
        text: "This is an embedded resource content.",
      },
    },
  ]);

  // Multiple content types tool
  fixedTool(
    "test_multiple_content_types",
    "Tests response with multiple content types (text, image, resource)",
    [
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
  );

  // Tool with logging - registerTool with empty inputSchema to get (args, extra) signature
  mcpServer.registerTool(
    "test_tool_with_logging",
    {
      description: "Tests tool that emits log messages during execution",
      inputSchema: {}, // Empty schema so callback gets (args, extra) instead of just (extra)
    },
    async (_args, { sendNotification }) => {
      const steps = ["Tool execution started", "Tool processing data", "Tool execution completed"];
      for (const [i, data] of steps.entries()) {
        if (i > 0) await pause();
        await sendNotification({
          method: "notifications/message",
          params: { level: "info", data },
        });
      }
      return textContent("Tool with logging executed successfully");
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
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await pause();
        await sendNotification({
          method: "notifications/progress",
          params: {
            progressToken,
            progress,
            total: 100,
            message: `Completed step ${progress} of ${100}`,
          },
        });
      }
      return textContent(String(progressToken));
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

        return textContent(`LLM response: ${modelResponse}`);
      } catch (error: any) {
        return textContent(`Sampling not supported or error: ${error.message}`);
      }
    },
  );

  // Elicitation tool - requests user input from client
  elicitationTool(
    "test_elicitation",
    "Tests server-initiated elicitation (user input request)",
    { message: z.string().describe("The message to show the user") },
    (args: { message: string }) => ({
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
    }),
    "User response",
  );

  // SEP-1034: Elicitation with default values for all primitive types
  elicitationTool(
    "test_elicitation_sep1034_defaults",
    "Tests elicitation with default values per SEP-1034",
    {},
    () => ({
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
    }),
    "Elicitation completed",
  );

  // SEP-1330: Elicitation with enum schema improvements (all 5 enum schema variants)
  elicitationTool(
    "test_elicitation_sep1330_enums",
    "Tests elicitation with enum schema improvements per SEP-1330",
    {},
    () => ({
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
    }),
    "Elicitation completed",
  );

  // SEP-1613: JSON Schema 2020-12 conformance test tool
  // This tool is registered with a Zod schema for tools/call validation,
  // but the tools/list handler (below) returns the raw JSON Schema 2020-12
  // definition to test that SDKs preserve $schema, $defs, additionalProperties
  // ===== RESOURCES =====

  // Static text resource
  staticResource("static-text", "test://static-text", {
    title: "Static Text Resource",
    description: "A static text resource for testing",
    mimeType: "text/plain",
  }, { text: "This is the content of the static text resource." });

  // Static binary resource
  staticResource("static-binary", "test://static-binary", {
    title: "Static Binary Resource",
    description: "A static binary resource (image) for testing",
    mimeType: "image/png",
  }, { blob: TEST_IMAGE_BASE64 });

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
  staticResource("watched-resource", "test://watched-resource", {
    title: "Watched Resource",
    description: "A resource that auto-updates every 3 seconds",
    mimeType: "text/plain",
  }, { text: watchedResourceContent });

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
