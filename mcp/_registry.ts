/**
 * The tool registry: every tool, grouped in toolsets, and the one function that decides which
 * tools a server serves (toolsets, read-only mode, allowlist). Unknown names fail at start-up.
 *
 * @module
 */
import { RecaptureMcpConfigError } from "./_config_error.ts";
import type { RegisteredToolSpec } from "./tools/_tool.ts";
import {
  ALERT_TOOLS,
  CUSTOMER_TOOLS,
  FIND_TOOLS,
  SANDBOX_ONLY_TOOL,
  UPLOAD_TOOLS,
} from "./tools/mod.ts";
import { CODE_TOOLS } from "./code/mod.ts";

/** The toolsets, in listing order. `alerts` and `code` are opt-in. */
export const TOOLSETS: Readonly<Record<string, readonly RegisteredToolSpec[]>> = {
  uploads: UPLOAD_TOOLS,
  customers: [...CUSTOMER_TOOLS, ...FIND_TOOLS],
  alerts: ALERT_TOOLS,
  code: CODE_TOOLS,
};

/** The toolsets served when none are named. */
export const DEFAULT_TOOLSETS: readonly string[] = ["uploads", "customers"];

/** Every tool of every toolset, in listing order. */
export const ALL_TOOLS: readonly RegisteredToolSpec[] = Object.values(TOOLSETS).flat();

/** What decides the served tools. */
export interface Selection {
  toolsets: readonly string[] | undefined;
  readOnly: boolean;
  tools: readonly string[] | undefined;
  mode: "api" | "sandbox";
}

/** The toolset a tool belongs to. */
function toolsetOf(name: string): string | undefined {
  return Object.keys(TOOLSETS).find((set) => TOOLSETS[set]?.some((t) => t.name === name));
}

/**
 * The tools a server serves, in listing order. Throws {@linkcode RecaptureMcpConfigError} for an
 * unknown toolset or tool, a tool outside the chosen toolsets, or a writing tool in read-only mode.
 */
export function selectTools(selection: Selection): readonly RegisteredToolSpec[] {
  const sets = selection.toolsets ?? DEFAULT_TOOLSETS;
  if (!Array.isArray(sets) || sets.length === 0) {
    throw new RecaptureMcpConfigError("toolsets must be a non-empty list of toolset names");
  }
  for (const set of sets) {
    if (!(set in TOOLSETS)) {
      throw new RecaptureMcpConfigError(
        `unknown toolset: ${set} (known: ${Object.keys(TOOLSETS).join(", ")})`,
      );
    }
  }
  const available = ALL_TOOLS.filter((t) =>
    sets.includes(toolsetOf(t.name) ?? "") &&
    (selection.mode === "sandbox" || t.name !== SANDBOX_ONLY_TOOL)
  );
  const names = available.map((t) => t.name);
  if (selection.tools === undefined) {
    return selection.readOnly ? available.filter((t) => t.access === "read") : available;
  }
  if (!Array.isArray(selection.tools) || selection.tools.length === 0) {
    throw new RecaptureMcpConfigError("tools must be a non-empty list of tool names");
  }
  for (const name of selection.tools) {
    const tool = ALL_TOOLS.find((t) => t.name === name);
    if (!tool) {
      throw new RecaptureMcpConfigError(
        `unknown tool: ${name} (known: ${ALL_TOOLS.map((t) => t.name).join(", ")})`,
      );
    }
    if (!names.includes(name)) {
      const set = toolsetOf(name);
      throw new RecaptureMcpConfigError(
        name === SANDBOX_ONLY_TOOL && sets.includes("alerts")
          ? `tool ${name} needs mode: "sandbox"`
          : `tool ${name} is in toolset ${set}, which is not served (add it to toolsets${
            set === "alerts" ? ", or alerts: true" : ""
          })`,
      );
    }
    if (selection.readOnly && tool.access !== "read") {
      throw new RecaptureMcpConfigError(
        `tool ${name} changes data and cannot be served in read-only mode`,
      );
    }
  }
  return available.filter((t) => selection.tools?.includes(t.name));
}
