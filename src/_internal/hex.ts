// Hex encodings shared by the SDK, the sandbox, the edge adapter and the MCP server. Private.

/** Bytes as lowercase hex. */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(
    bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** A random token of `bytes` bytes, hex-encoded. */
export function randomHex(bytes: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The SHA-256 of text (as UTF-8) or bytes, hex-encoded. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}
