/**
 * A fast check of API responses, compiled from the valibot schemas themselves (the schemas stay
 * the one source of truth). valibot's check costs ~15 µs for one customer, which alone breaks the
 * SDK's guard of ≤ 20 µs added per request (bench/client.ts); the compiled predicate costs about
 * 1 µs. When it accepts, the parsed JSON is the answer (the schemas have no transforms, so valibot
 * would return an equal copy); when it rejects, or a schema is not purely structural (pipes,
 * defaults), valibot runs and describes the issue. `tests/sdk/schema_check_test.ts` holds the
 * predicates to valibot's answer.
 * @module
 */
import type * as v from "valibot";

/** A predicate: true when valibot would accept `x` and return an equal value. */
export type Check = (x: unknown) => boolean;

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

/**
 * A plain object (made by `Object`, as `JSON.parse` makes them) without the keys valibot drops
 * from its copies (`__proto__`, `constructor`, `prototype`). Anything else takes the valibot path
 * so the outputs stay identical: arrays (valibot copies them into objects), class instances,
 * null-prototype objects, and objects with such keys.
 *
 * Cheap checks first, as this runs for every object of every answer: through the prototype,
 * `constructor` reads `Object` and `prototype` is absent, so an own `constructor` key holding a
 * JSON value, or any `prototype` key, shows without a lookup by `Object.hasOwn`. (An own
 * `constructor` holding the `Object` function itself would pass; JSON cannot make one.)
 */
const isObj = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && (x as { constructor?: unknown }).constructor === Object &&
  !("prototype" in x) && !Object.hasOwn(x, "__proto__");

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
 * Whether `input` passes `schema` as is: `true` only when valibot would accept it and return an
 * equal value; `false` leaves the verdict to valibot (a rejection, or a schema not compiled).
 */
export function passes(schema: v.GenericSchema, input: unknown): boolean {
  let check = cache.get(schema);
  if (check === undefined) {
    check = compileCheck(schema as unknown as SchemaNode);
    cache.set(schema, check);
  }
  return check !== null && check(input);
}
