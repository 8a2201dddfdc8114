/**
 * Replay protection for signed deliveries: a delivery (identified by its signed timestamp and the
 * hash of its body) is accepted once while its timestamp is inside the tolerance window; outside
 * it, the signature check already refuses it. The alert relay uses the same guards for event ids.
 *
 * @module
 */
import { sha256Hex } from "../_internal/hex.ts";

/**
 * Keys longer than this many UTF-8 bytes are kept as their SHA-256: a Deno KV key holds at most
 * 2 KB and a Workers KV key 512 bytes (prefix included).
 */
const MAX_PLAIN_KEY_BYTES = 200;

/**
 * `key`, or `sha256:<hex>` of it when it is long in UTF-8 bytes (an event id is whatever the
 * sender chose). Every guard stores keys through it.
 */
export async function storedKey(key: string): Promise<string> {
  return key.length * 3 <= MAX_PLAIN_KEY_BYTES ||
      new TextEncoder().encode(key).length <= MAX_PLAIN_KEY_BYTES
    ? key
    : `sha256:${await sha256Hex(key)}`;
}

/** Remembers deliveries already accepted. */
export interface ReplayGuard {
  /** Resolves true the first time `key` is claimed within `ttlMs`, false for a repeat. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Forgets a claim (the delivery failed, so the sender's retry must be accepted). */
  release(key: string): Promise<void>;
  /**
   * Stores the result of a claimed delivery (a short JSON text), so a retry gets it back
   * instead of acting again. Guards without it answer retries 409.
   */
  remember?(key: string, result: string, ttlMs: number): Promise<void>;
  /** The stored result of a delivery, or null. */
  recall?(key: string): Promise<string | null>;
}

/**
 * An in-memory {@linkcode ReplayGuard}: per isolate, so on a multi-instance deployment it
 * catches the common case (a sender's immediate retry) but not every replay.
 *
 * @example
 * ```ts
 * import { memoryReplayGuard } from "@recapture/sdk/edge";
 * const guard = memoryReplayGuard();
 * console.log(await guard.claim("sig", 60_000), await guard.claim("sig", 60_000)); // true false
 * ```
 */
export function memoryReplayGuard(options: { maxEntries?: number } = {}): ReplayGuard {
  const seen = new Map<string, number>();
  const results = new Map<string, string>();
  const max = options.maxEntries ?? 100_000;
  return {
    async claim(claimed: string, ttlMs: number): Promise<boolean> {
      const key = await storedKey(claimed);
      const now = Date.now();
      const expires = seen.get(key);
      if (expires !== undefined && expires > now) return false;
      if (seen.size >= max) {
        for (const [k, e] of seen) {
          if (e <= now || seen.size >= max) {
            seen.delete(k);
            results.delete(k);
          }
          if (seen.size < max * 0.9) break;
        }
      }
      seen.set(key, now + ttlMs);
      return true;
    },
    async release(key: string): Promise<void> {
      const k = await storedKey(key);
      seen.delete(k);
      results.delete(k);
    },
    async remember(key: string, result: string, ttlMs: number): Promise<void> {
      const k = await storedKey(key);
      seen.set(k, Date.now() + ttlMs);
      results.set(k, result);
    },
    async recall(key: string): Promise<string | null> {
      const k = await storedKey(key);
      const expires = seen.get(k);
      return expires !== undefined && expires > Date.now() ? results.get(k) ?? null : null;
    },
  };
}

/** The part of `Deno.Kv` that {@linkcode denoKvReplayGuard} uses (a `Deno.Kv` fits it). */
export interface KvAtomicStore {
  /** Starts an atomic operation. */
  atomic(): KvAtomicOperation;
  /** Deletes a key. */
  delete(key: readonly (string | number)[]): Promise<void>;
  /** Reads a key. */
  get(key: readonly (string | number)[]): Promise<{ value: unknown }>;
  /** Writes a key. */
  set(
    key: readonly (string | number)[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown>;
}

/** The part of `Deno.AtomicOperation` used here. */
export interface KvAtomicOperation {
  /** Requires the key to be at this versionstamp (`null`: absent). */
  check(...checks: { key: readonly (string | number)[]; versionstamp: string | null }[]): this;
  /** Writes a value that expires. */
  set(key: readonly (string | number)[], value: unknown, options?: { expireIn?: number }): this;
  /** Commits; `ok` is false when a check failed. */
  commit(): Promise<{ ok: boolean }>;
}

/**
 * A {@linkcode ReplayGuard} on Deno KV: one atomic check-and-set per delivery, so every instance
 * sharing the KV (Deno Deploy's managed KV) sees the same deliveries. Entries expire on their own.
 *
 * @example
 * ```ts ignore
 * import { createRecaptureProxy, denoKvReplayGuard } from "@recapture/sdk/edge";
 * const kv = await Deno.openKv();
 * const app = createRecaptureProxy({ replayGuard: denoKvReplayGuard(kv) });
 * ```
 */
export function denoKvReplayGuard(
  kv: KvAtomicStore,
  options: { prefix?: string } = {},
): ReplayGuard {
  const prefix = options.prefix ?? "recapture_edge_delivery";
  return {
    async claim(key: string, ttlMs: number): Promise<boolean> {
      const k = [prefix, await storedKey(key)];
      const result = await kv.atomic().check({ key: k, versionstamp: null }).set(k, Date.now(), {
        expireIn: ttlMs,
      }).commit();
      return result.ok;
    },
    async release(key: string): Promise<void> {
      await kv.delete([prefix, await storedKey(key)]);
    },
    async remember(key: string, result: string, ttlMs: number): Promise<void> {
      await kv.set([prefix, await storedKey(key)], result, { expireIn: ttlMs });
    },
    async recall(key: string): Promise<string | null> {
      const { value } = await kv.get([prefix, await storedKey(key)]);
      return typeof value === "string" ? value : null;
    },
  };
}

/**
 * A {@linkcode ReplayGuard} on a Cloudflare Workers KV namespace. Workers KV is eventually
 * consistent and has no compare-and-set, so two pushes of one event landing at the same moment
 * on two locations can both pass; use a Durable Object for strict once-only. It catches the
 * common case: AutoGrab retrying a push seconds or minutes later.
 *
 * @example
 * ```ts ignore
 * import { cloudflareKvGuard, createAlertRelay } from "@recapture/sdk/edge";
 * export default {
 *   fetch: (req: Request, env: { ALERT_IDS: KVNamespaceLike }, ctx: unknown) =>
 *     createAlertRelay({ guard: cloudflareKvGuard(env.ALERT_IDS) }).fetch(req, env, ctx),
 * };
 * ```
 */
export function cloudflareKvGuard(
  namespace: CloudflareKvNamespace,
  options: { prefix?: string } = {},
): ReplayGuard {
  const prefix = options.prefix ?? "recapture_alert:";
  // Long keys are hashed (Workers KV keys hold at most 512 bytes), as on every backend.
  const at = async (key: string) => prefix + await storedKey(key);
  const ttl = (ttlMs: number) => Math.max(60, Math.ceil(ttlMs / 1000));
  return {
    async claim(key: string, ttlMs: number): Promise<boolean> {
      const k = await at(key);
      if ((await namespace.get(k)) !== null) return false;
      await namespace.put(k, "", { expirationTtl: ttl(ttlMs) });
      return true;
    },
    async release(key: string): Promise<void> {
      await namespace.delete(await at(key));
    },
    async remember(key: string, result: string, ttlMs: number): Promise<void> {
      await namespace.put(await at(key), result, { expirationTtl: ttl(ttlMs) });
    },
    async recall(key: string): Promise<string | null> {
      const value = await namespace.get(await at(key));
      return value ? value : null;
    },
  };
}

/** The part of a Workers KV namespace binding that {@linkcode cloudflareKvGuard} uses. */
export interface CloudflareKvNamespace {
  /** Reads a value (null when absent). */
  get(key: string): Promise<string | null>;
  /** Writes a value. */
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  /** Deletes a value. */
  delete(key: string): Promise<void>;
}
