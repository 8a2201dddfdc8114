/**
 * Per-request configuration: options first, then the platform env (Workers bindings, or the
 * `env()` function given on Deno). Read on every request so rotated secrets apply at once.
 *
 * @module
 */
import { isRegion, type Region } from "../sdk/schemas.ts";

/** Platform env: Workers bindings, or `Deno.env.toObject()` on Deno. */
export type EdgeEnv = Record<string, unknown>;

/** A caller token and what it may do. */
export interface ProxyToken {
  /** The bearer token. */
  token: string;
  /** When true, only GET and HEAD are allowed. */
  readOnly?: boolean;
}

/** The env variable names the proxy reads. */
export const ENV = {
  apiKey: "RECAPTURE_API_KEY",
  baseUrl: "RECAPTURE_BASE_URL",
  region: "RECAPTURE_REGION",
  tokens: "RECAPTURE_PROXY_TOKENS",
  readOnlyTokens: "RECAPTURE_PROXY_READONLY_TOKENS",
  webhookSecrets: "RECAPTURE_WEBHOOK_SECRETS",
  callbackSecret: "RECAPTURE_CALLBACK_SECRET",
  outboundHosts: "RECAPTURE_OUTBOUND_ALLOW_HOSTS",
  devLoopback: "RECAPTURE_DEV_ALLOW_LOOPBACK",
} as const;

/** Reads one env value by name. */
export type EnvGetter = (name: string) => unknown;

/** Reads a string env value; non-strings (bindings) and empty strings are undefined. */
export function envString(get: EnvGetter, name: string): string | undefined {
  const value = get(name);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** Splits a comma-separated env value into trimmed, non-empty entries. */
export function envList(get: EnvGetter, name: string): string[] {
  return (envString(get, name) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Whether an env flag is on (`1`, `true`, `yes`, `on`). */
export function envFlag(get: EnvGetter, name: string): boolean {
  return /^(1|true|yes|on)$/i.test(envString(get, name) ?? "");
}

/** Returns the region if it is one of the four, otherwise undefined. */
export function asRegion(value: unknown): Region | undefined {
  return isRegion(value) ? value : undefined;
}
