/**
 * A fast path for validating API responses with valibot schemas. valibot's `safeParse` costs
 * ~20 µs for one customer (it copies every object and builds datasets), a third of a loopback
 * request. For the plain structural schemas of `schemas.ts` (objects, arrays, records, strings,
 * numbers, booleans, picklists, literals, optional/nullable/nullish, unknown; no pipes, no
 * defaults) this compiles the schema itself into a predicate: when the predicate accepts, the
 * parsed JSON is returned as is (valibot would return an equal copy); when it rejects, or the
 * schema uses anything else, valibot runs and reports the issue. The schema stays the single
 * source of truth.
 * @module
 */
import * as v from "valibot";

type Check = (x: unknown) => boolean;

interface SchemaNode {
  type: string;
  pipe?: unknown[];
  default?: unknown;
  fallback?: unknown;
  entries?: Record<string, SchemaNode>;
  wrapped?: SchemaNode;
  item?: SchemaNode;
  key?: SchemaNode;
  value?: SchemaNode;
  options?: unknown[];
  literal?: unknown;
}

/** A plain (non-array) object. valibot also accepts arrays as objects but copies them into
 * new objects; those rare inputs take the valibot path so the outputs stay identical. */
const isObj = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x) &&
  // valibot drops these keys from its copies; leave such inputs to valibot too.
  !Object.hasOwn(x, "__proto__") && !Object.hasOwn(x, "constructor") &&
  !Object.hasOwn(x, "prototype");

/** The predicate for `schema`, or null when the schema is not purely structural. */
export function compileCheck(schema: SchemaNode): Check | null {
  if (schema.pipe !== undefined || schema.default !== undefined) return null;
  if (schema.fallback !== undefined) return null;
  switch (schema.type) {
    case "string":
      return (x) => typeof x === "string";
    case "number":
      return (x) => typeof x === "number" && !Number.isNaN(x);
    case "boolean":
      return (x) => typeof x === "boolean";
    case "unknown":
      return () => true;
    case "literal": {
      const lit = schema.literal;
      return (x) => x === lit;
    }
    case "picklist": {
      const options = schema.options ?? [];
      return (x) => options.includes(x);
    }
    case "optional":
    case "nullable":
    case "nullish": {
      const inner = schema.wrapped ? compileCheck(schema.wrapped) : null;
      if (inner === null) return null;
      const allowNull = schema.type !== "optional";
      const allowUndefined = schema.type !== "nullable";
      return (x) => (x === null && allowNull) || (x === undefined && allowUndefined) || inner(x);
    }
    case "array": {
      const item = schema.item ? compileCheck(schema.item) : null;
      if (item === null) return null;
      return (x) => {
        if (!Array.isArray(x)) return false;
        for (let i = 0; i < x.length; i++) if (!item(x[i])) return false;
        return true;
      };
    }
    case "record": {
      const key = schema.key ? compileCheck(schema.key) : null;
      const value = schema.value ? compileCheck(schema.value) : null;
      if (key === null || value === null) return null;
      return (x) => {
        if (!isObj(x)) return false;
        for (const k in x) {
          if (!Object.hasOwn(x, k)) continue;
          if (!key(k) || !value(x[k])) return false;
        }
        return true;
      };
    }
    case "loose_object": {
      const entries = Object.entries(schema.entries ?? {});
      const checks: [string, Check][] = [];
      for (const [k, s] of entries) {
        const c = compileCheck(s);
        if (c === null) return null;
        checks.push([k, c]);
      }
      return (x) => {
        if (!isObj(x)) return false;
        for (let i = 0; i < checks.length; i++) {
          const [k, c] = checks[i];
          if (!c(x[k])) return false;
        }
        return true;
      };
    }
    default:
      return null;
  }
}

const cache = new WeakMap<object, Check | null>();

/**
 * `v.safeParse(schema, input)`, answering from the compiled predicate when it accepts.
 */
export function fastSafeParse<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): v.SafeParseResult<S> {
  let check = cache.get(schema);
  if (check === undefined) {
    check = compileCheck(schema as unknown as SchemaNode);
    cache.set(schema, check);
  }
  if (check !== null && check(input)) {
    return {
      typed: true,
      success: true,
      output: input as v.InferOutput<S>,
      issues: undefined,
    } as v.SafeParseResult<S>;
  }
  return v.safeParse(schema, input);
}
