/**
 * A stand-in for `@std/assert` over `node:assert/strict`, until JSR is reachable.
 * `deno.json` maps `@std/assert` here; swapping to `jsr:@std/assert` is one line.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(1 + 1, 2);
 * ```
 * @module
 */
import assert from "node:assert/strict";

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  /** @param message what failed */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function fail(message: string | undefined, fallback: string): never {
  throw new AssertionError(message ?? fallback);
}

/** Asserts deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (e) {
    fail(msg ? `${msg}\n${(e as Error).message}` : undefined, (e as Error).message);
  }
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    assert.notDeepStrictEqual(actual, expected);
  } catch (e) {
    fail(msg, (e as Error).message);
  }
}

/** Asserts `Object.is` equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (!Object.is(actual, expected)) {
    fail(msg, `Expected ${String(actual)} to be strictly ${String(expected)}`);
  }
}

/** Asserts a value is truthy. */
export function assert_(expr: unknown, msg = ""): asserts expr {
  if (!expr) fail(msg, "Expected a truthy value");
}
export { assert_ as assert };

/** Asserts a value is false-y. */
export function assertFalse(expr: unknown, msg?: string): void {
  if (expr) fail(msg, `Expected a falsy value, got ${String(expr)}`);
}

/** Asserts a value is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === undefined || actual === null) fail(msg, `Expected a value, got ${actual}`);
}

/** Asserts a string matches a pattern. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) fail(msg, `Expected "${actual}" to match ${expected}`);
}

/** Asserts a string does not match a pattern. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void {
  if (expected.test(actual)) fail(msg, `Expected "${actual}" not to match ${expected}`);
}

/** Asserts a string or array includes a value. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) fail(msg, `Expected "${actual}" to include "${expected}"`);
}

/** Asserts an array includes every given value (deep equality). */
export function assertArrayIncludes<T>(
  actual: readonly T[],
  expected: readonly T[],
  msg?: string,
): void {
  for (const item of expected) {
    if (!actual.some((a) => isDeepEqual(a, item))) {
      fail(msg, `Expected array to include ${JSON.stringify(item)}`);
    }
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Asserts `actual` contains the properties of `expected` (deep, partial). */
export function assertObjectMatch(
  actual: Record<PropertyKey, unknown>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  assertEquals(pick(actual, expected), expected, msg);
}

function pick(actual: Record<PropertyKey, unknown>, expected: Record<PropertyKey, unknown>) {
  const out: Record<PropertyKey, unknown> = {};
  for (const key of Object.keys(expected)) {
    const a = actual[key];
    const e = expected[key];
    out[key] = a && e && typeof a === "object" && typeof e === "object" && !Array.isArray(e)
      ? pick(a as Record<PropertyKey, unknown>, e as Record<PropertyKey, unknown>)
      : a;
  }
  return out;
}

/** Asserts `value` is an instance of `type`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    fail(msg, `Expected instance of ${expectedType.name}, got ${describe(actual)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

/** Asserts `actual < expected` style comparisons. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) fail(msg, `Expected ${actual} > ${expected}`);
}
/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual >= expected)) fail(msg, `Expected ${actual} >= ${expected}`);
}
/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) fail(msg, `Expected ${actual} < ${expected}`);
}
/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) fail(msg, `Expected ${actual} <= ${expected}`);
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (!(error instanceof Error)) fail(undefined, `A non-Error was thrown: ${String(error)}`);
  if (ErrorClass && !(error instanceof ErrorClass)) {
    fail(
      undefined,
      `Expected error to be instance of "${ErrorClass.name}", but was "${error.constructor.name}": ${error.message}`,
    );
  }
  if (msgIncludes !== undefined && !error.message.includes(msgIncludes)) {
    fail(
      undefined,
      `Expected error message to include "${msgIncludes}", but got "${error.message}"`,
    );
  }
  return error as E;
}

/** Asserts `fn` throws, optionally of a class and with a message substring; returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  fail(undefined, "Expected function to throw.");
}

/** Asserts `fn` rejects, optionally of a class and with a message substring; returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  fail(undefined, "Expected function to reject.");
}

/** Always fails. */
export function unreachable(msg?: string): never {
  fail(msg, "unreachable");
}
