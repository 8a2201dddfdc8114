/**
 * The SDK's schemas: small combinators that describe a JSON value once, give its TypeScript type
 * ({@link Infer}) and check a parsed value ({@link issueOf}). One mechanism for the wire types,
 * the response checks and the field lists other parts read (`entries`), with nothing to copy:
 * a value that passes is the answer itself.
 *
 * Each combinator makes its check once, as a closure over what it checks, so that checking a
 * value reads no field of a schema and allocates nothing while the value passes: it runs for every
 * answer, and the SDK may add at most 20 µs per request against a loopback server
 * (bench/client.ts). In that request loop the fetch machinery leaves property reads megamorphic:
 * walking the schema per answer (a switch on its `type`, a `for...in` over its fields) cost
 * ~4.6 µs a request, the closures ~2 µs. On failure a check describes the first issue, in the
 * words the SDK's errors have always used (valibot's: `Invalid type: Expected string but received
 * 7`).
 *
 * @example
 * ```ts
 * import { issueOf, looseObject, nullish, number, string } from "./_shape.ts";
 * const Point = looseObject({ id: string(), x: nullish(number()) });
 * console.log(issueOf(Point, { id: "p", x: 1 })); // undefined
 * console.log(issueOf(Point, { x: "1" })?.message); // 'Invalid key: Expected "id" but received undefined'
 * ```
 * @module
 */

/**
 * A schema for values of type `T`: what it checks, and the check. `T` lives only in the type.
 *
 * @example
 * ```ts
 * import { type Shape, string } from "./_shape.ts";
 * const name: Shape<string> = string();
 * console.log(name.type); // "string"
 * ```
 */
export interface Shape<T = unknown> {
  /** What the value must be (`optional` and `nullish` also let it be absent or null). */
  readonly type: string;
  /** `optional` and `nullish`: the schema of a value that is there. */
  readonly wrapped?: Shape;
  /** Objects: the schema of each known field, in the order they are checked. */
  readonly entries?: Entries;
  /** The check itself, made once by the combinator ({@link issueOf} runs it). */
  readonly "~issue": (value: unknown) => Issue | undefined;
  /** The type of the values it accepts (type-level only; never set). */
  readonly "~type"?: T;
}

/**
 * The field schemas of an object.
 *
 * @example
 * ```ts
 * import { type Entries, string } from "./_shape.ts";
 * const entries: Entries = { id: string() };
 * console.log(Object.keys(entries)); // ["id"]
 * ```
 */
export type Entries = Readonly<Record<string, Shape>>;

/**
 * An object schema: its {@link Entries} are always there.
 *
 * @example
 * ```ts
 * import { type ObjectShape, looseObject, string } from "./_shape.ts";
 * const s: ObjectShape<{ id: ReturnType<typeof string> }, true> = looseObject({ id: string() });
 * console.log(Object.keys(s.entries)); // ["id"]
 * ```
 */
export interface ObjectShape<E extends Entries, Loose extends boolean>
  extends Shape<Loose extends true ? ObjectOf<E> & { [key: string]: unknown } : ObjectOf<E>> {
  /** The schema of each known field. */
  readonly entries: E;
}

/**
 * The type of the values a schema accepts.
 *
 * @example
 * ```ts
 * import { type Infer, nullish, string } from "./_shape.ts";
 * const note: Infer<ReturnType<typeof nullish<string>>> = null;
 * console.log(note); // null
 * ```
 */
export type Infer<S> = S extends Shape<infer T> ? T : never;

type OptionalKeys<E extends Entries> = {
  [K in keyof E]: undefined extends Infer<E[K]> ? K : never;
}[keyof E];

type ObjectOf<E extends Entries> =
  & { -readonly [K in Exclude<keyof E, OptionalKeys<E>>]: Infer<E[K]> }
  & { -readonly [K in OptionalKeys<E>]?: Infer<E[K]> };

/**
 * A string.
 *
 * @example
 * ```ts
 * import { issueOf, string } from "./_shape.ts";
 * console.log(issueOf(string(), 7)?.message); // "Invalid type: Expected string but received 7"
 * ```
 */
export function string(): Shape<string> {
  return primitive("string");
}

/**
 * A number (not NaN).
 *
 * @example
 * ```ts
 * import { issueOf, number } from "./_shape.ts";
 * console.log(issueOf(number(), 7)); // undefined
 * ```
 */
export function number(): Shape<number> {
  return primitive("number");
}

/**
 * A boolean.
 *
 * @example
 * ```ts
 * import { boolean, issueOf } from "./_shape.ts";
 * console.log(issueOf(boolean(), "yes")?.expected); // "boolean"
 * ```
 */
export function boolean(): Shape<boolean> {
  return primitive("boolean");
}

/**
 * Exactly `value`.
 *
 * @example
 * ```ts
 * import { issueOf, literal } from "./_shape.ts";
 * console.log(issueOf(literal("ping"), "pong")?.expected); // '"ping"'
 * ```
 */
export function literal<const L extends string>(value: L): Shape<L> {
  return {
    type: "literal",
    "~issue": (found) => found === value ? undefined : issue("type", stringify(value), found),
  };
}

/**
 * `wrapped`, or absent (`undefined`).
 *
 * @example
 * ```ts
 * import { issueOf, optional, string } from "./_shape.ts";
 * console.log(issueOf(optional(string()), undefined)); // undefined
 * ```
 */
export function optional<T>(wrapped: Shape<T>): Shape<T | undefined> {
  const run = wrapped["~issue"];
  return {
    type: "optional",
    wrapped,
    "~issue": (value) => value === undefined ? undefined : run(value),
  };
}

/**
 * `wrapped`, absent, or `null`.
 *
 * @example
 * ```ts
 * import { issueOf, nullish, string } from "./_shape.ts";
 * console.log(issueOf(nullish(string()), null)); // undefined
 * ```
 */
export function nullish<T>(wrapped: Shape<T>): Shape<T | null | undefined> {
  const run = wrapped["~issue"];
  return { type: "nullish", wrapped, "~issue": (value) => value == null ? undefined : run(value) };
}

/**
 * An array of `item`s.
 *
 * @example
 * ```ts
 * import { array, issueOf, number } from "./_shape.ts";
 * console.log(issueOf(array(number()), [1, "2"])?.path); // [1]
 * ```
 */
export function array<T>(item: Shape<T>): Shape<T[]> {
  const run = item["~issue"];
  return {
    type: "array",
    "~issue": (value) => {
      if (!Array.isArray(value)) return issue("type", "Array", value);
      for (let i = 0; i < value.length; i++) {
        const found = run(value[i]);
        if (found) return at(i, found);
      }
      return undefined;
    },
  };
}

/**
 * An object with these fields; fields it does not name are kept as they are (any value).
 *
 * @example
 * ```ts
 * import { issueOf, looseObject, string } from "./_shape.ts";
 * console.log(issueOf(looseObject({ id: string() }), { id: "a", extra: 1 })); // undefined
 * ```
 */
export function looseObject<const E extends Entries>(entries: E): ObjectShape<E, true> {
  return { type: "loose_object", entries, "~issue": objectIssue(entries, false) };
}

/**
 * An object with these fields and no other.
 *
 * @example
 * ```ts
 * import { issueOf, strictObject, string } from "./_shape.ts";
 * console.log(issueOf(strictObject({ id: string() }), { id: "a", x: 1 })?.path); // ["x"]
 * ```
 */
export function strictObject<const E extends Entries>(entries: E): ObjectShape<E, false> {
  return { type: "strict_object", entries, "~issue": objectIssue(entries, true) };
}

/**
 * A string of at least `length` characters.
 *
 * @example
 * ```ts
 * import { issueOf, minLength } from "./_shape.ts";
 * console.log(issueOf(minLength(1), "")?.message); // "Invalid length: Expected >=1 but received 0"
 * ```
 */
export function minLength(length: number): Shape<string> {
  return primitive("string", length);
}

/**
 * A value of `shape` that `test` accepts too; `message` says what a refused one should be.
 *
 * @example
 * ```ts
 * import { check, issueOf, string } from "./_shape.ts";
 * const even = check(string(), (s) => s.length % 2 === 0, "expected an even length");
 * console.log(issueOf(even, "abc")?.message); // "expected an even length"
 * ```
 */
export function check<T>(shape: Shape<T>, test: (value: T) => boolean, message: string): Shape<T> {
  const run = shape["~issue"];
  return {
    ...shape,
    "~issue": (value) =>
      run(value) ??
        (test(value as T) ? undefined : {
          path: [],
          expected: null,
          received: stringify(value),
          message,
        }),
  };
}

/**
 * The first problem with a value: where it is, what was expected, what was found.
 *
 * @example
 * ```ts
 * import type { Issue } from "./_shape.ts";
 * const issue: Issue = { path: ["id"], expected: "string", received: "7", message: "..." };
 * console.log(issue.path.join(".")); // "id"
 * ```
 */
export interface Issue {
  /** The keys and indexes from the value checked to the one at fault (`[]` for itself). */
  path: (string | number)[];
  /** What was expected (`string`, `Object`, `"id"`, `>=1`), or null for a failed check. */
  expected: string | null;
  /** What was found (`7`, `"x"`, `Array`, `undefined`, a length). */
  received: string;
  /** The whole sentence (`Invalid type: Expected string but received 7`). */
  message: string;
}

/**
 * The first problem with `value` against `shape`, in field order, depth first; `undefined` when
 * it passes. A passing value is used as it is: an object's own `__proto__` key, and its own
 * `constructor` key when that holds an object, are removed from it (the ways a merge of an
 * answer could reach a prototype), nothing else changes.
 *
 * @example
 * ```ts
 * import { array, issueOf, looseObject, number } from "./_shape.ts";
 * const issue = issueOf(looseObject({ xs: array(number()) }), { xs: [1, "2"] });
 * console.log(issue?.path.join("."), issue?.received); // "xs.1" '"2"'
 * ```
 */
export function issueOf(shape: Shape, value: unknown): Issue | undefined {
  return shape["~issue"](value);
}

/** A string, number or boolean (not NaN), of at least `minLength` characters if a string. */
function primitive<T>(type: string, minLength = 0): Shape<T> {
  return {
    type,
    "~issue": (value) => {
      if (typeof value !== type || value !== value) return issue("type", type, value);
      const length = (value as string).length;
      return length < minLength ? issue("length", `>=${minLength}`, value, `${length}`) : undefined;
    },
  };
}

/** The check of an object with these fields (and no other when `strict`). */
function objectIssue(entries: Entries, strict: boolean): Shape["~issue"] {
  const keys = Object.keys(entries);
  const runs = keys.map((key) => entries[key]["~issue"]);
  const required = keys.map((key) => !/^(optional|nullish)$/.test(entries[key].type));
  return (value) => {
    if (!value || typeof value !== "object") return issue("type", "Object", value);
    const object = value as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const item = object[key];
      // A value that is there needs no `in` (this runs for every field of every answer).
      if (item !== undefined || key in object) {
        const found = runs[i](item);
        if (found) return at(key, found);
      } else if (required[i]) {
        return at(key, issue("key", `"${key}"`, undefined));
      }
    }
    if (strict) {
      for (const key in object) {
        if (Object.hasOwn(object, key) && !Object.hasOwn(entries, key)) {
          return at(key, issue("key", "never", key));
        }
      }
    }
    // JSON.parse makes `__proto__` an own key: removed, so that no caller's Object.assign or
    // merge sets a prototype from an answer; so is a `constructor` holding an object (a deep
    // merge's way to `constructor.prototype`). A `constructor` or `prototype` holding text is data
    // (an `additional_fields` key) and stays. Cheap tests first (this runs for every object).
    if (Object.hasOwn(object, "__proto__")) delete object.__proto__;
    const made = object.constructor;
    if (made !== Object && made !== null && typeof made === "object") {
      Reflect.deleteProperty(object, "constructor");
    }
    return undefined;
  };
}

function issue(label: string, expected: string, value: unknown, received = stringify(value)) {
  return {
    path: [],
    expected,
    received,
    message: `Invalid ${label}: Expected ${expected} but received ${received}`,
  };
}

function at(key: string | number, found: Issue): Issue {
  found.path.unshift(key);
  return found;
}

/** A value as an issue names it: strings quoted, objects by their constructor's name. */
function stringify(value: unknown): string {
  const type = typeof value;
  if (type === "string") return `"${value}"`;
  if (type === "number" || type === "bigint" || type === "boolean") return `${value}`;
  if (type === "object" || type === "function") {
    return (value && Object.getPrototypeOf(value)?.constructor?.name) ?? "null";
  }
  return type;
}
