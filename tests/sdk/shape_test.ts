// The SDK's schemas (src/sdk/_shape.ts): what they accept, the first issue they name (path and
// words, as the SDK's errors have always said them), and the types they give.
import { assert, assertEquals } from "@std/assert";
import {
  array,
  boolean,
  check,
  type Infer,
  issueOf,
  literal,
  looseObject,
  minLength,
  nullish,
  number,
  optional,
  strictObject,
  string,
} from "../../src/sdk/_shape.ts";
import {
  type Assert,
  CustomerEnvelopeSchema,
  CustomerPageSchema,
  type Same,
  UploadEnvelopeSchema,
} from "../../src/sdk/schemas.ts";
import { customerJson, uploadJson } from "../_msw.ts";

/** The first issue as `path: message`, or "ok". */
function said(shape: Parameters<typeof issueOf>[0], value: unknown): string {
  const issue = issueOf(shape, value);
  return issue === undefined ? "ok" : `${issue.path.join(".")}: ${issue.message}`;
}

Deno.test("shape: leaves name what they expected and what they got", () => {
  assertEquals(said(string(), "a"), "ok");
  assertEquals(said(string(), 7), ": Invalid type: Expected string but received 7");
  assertEquals(said(number(), "7"), ': Invalid type: Expected number but received "7"');
  assertEquals(said(number(), NaN), ": Invalid type: Expected number but received NaN");
  assertEquals(said(boolean(), null), ": Invalid type: Expected boolean but received null");
  assertEquals(
    said(boolean(), undefined),
    ": Invalid type: Expected boolean but received undefined",
  );
  assertEquals(said(string(), [1]), ": Invalid type: Expected string but received Array");
  assertEquals(said(string(), {}), ": Invalid type: Expected string but received Object");
  assertEquals(
    said(string(), Object.create(null)),
    ": Invalid type: Expected string but received null",
  );
  assertEquals(said(literal("ping"), "ping"), "ok");
  assertEquals(
    said(literal("ping"), "pong"),
    ': Invalid type: Expected "ping" but received "pong"',
  );
  assertEquals(said(minLength(1), ""), ": Invalid length: Expected >=1 but received 0");
  assertEquals(said(minLength(1), 5), ": Invalid type: Expected string but received 5");
  const even = check(string(), (s) => s.length % 2 === 0, "expected an even length");
  assertEquals(said(even, "ab"), "ok");
  assertEquals(said(even, "abc"), ": expected an even length");
  assertEquals(issueOf(even, "abc")?.expected, null);
  assertEquals(issueOf(even, "abc")?.received, '"abc"');
  assertEquals(said(even, 3), ": Invalid type: Expected string but received 3");
});

Deno.test("shape: optional takes undefined, nullish also null, neither anything else", () => {
  assertEquals(said(optional(string()), undefined), "ok");
  assertEquals(said(optional(string()), null), ": Invalid type: Expected string but received null");
  assertEquals(said(nullish(string()), null), "ok");
  assertEquals(said(nullish(string()), undefined), "ok");
  assertEquals(said(nullish(string()), 1), ": Invalid type: Expected string but received 1");
});

Deno.test("shape: the first issue in field order, depth first, with its path", () => {
  const s = looseObject({
    id: string(),
    xs: nullish(array(looseObject({ n: number() }))),
    tag: optional(string()),
  });
  assertEquals(said(s, { id: "a", other: 1 }), "ok");
  assertEquals(said(s, []), 'id: Invalid key: Expected "id" but received undefined');
  assertEquals(said(s, null), ": Invalid type: Expected Object but received null");
  assertEquals(said(s, "x"), ': Invalid type: Expected Object but received "x"');
  assertEquals(said(s, { xs: 1 }), 'id: Invalid key: Expected "id" but received undefined');
  assertEquals(said(s, { id: "a", xs: 1 }), "xs: Invalid type: Expected Array but received 1");
  assertEquals(
    said(s, { id: "a", xs: [{ n: 1 }, { n: "2" }], tag: 3 }),
    'xs.1.n: Invalid type: Expected number but received "2"',
  );
  assertEquals(said(s, { id: "a", tag: 3 }), "tag: Invalid type: Expected string but received 3");
  assertEquals(
    said(array(number()), [1, 2, "3"]),
    '2: Invalid type: Expected number but received "3"',
  );
});

Deno.test("shape: a strict object refuses fields it does not name", () => {
  const s = strictObject({ a: optional(string()) });
  assertEquals(said(s, { a: "x" }), "ok");
  assertEquals(said(s, { a: "x", b: 1 }), 'b: Invalid key: Expected never but received "b"');
  assertEquals(said(s, { a: 1, b: 1 }), "a: Invalid type: Expected string but received 1");
});

Deno.test("shape: a passing answer is itself the result, without __proto__ or an object under constructor", () => {
  const json = JSON.parse(
    '{"id":"a","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"keep":[1],' +
      '"additional_fields":{"constructor":"Holden","prototype":"yes","__proto__":{"x":1}}}',
  );
  assert(Object.hasOwn(json, "__proto__"));
  const schema = looseObject({ id: string(), additional_fields: looseObject({}) });
  assertEquals(issueOf(schema, json), undefined);
  assertEquals(Object.keys(json), ["id", "keep", "additional_fields"]);
  assertEquals(Object.getPrototypeOf(json), Object.prototype);
  const copy = Object.assign({}, json);
  assertEquals((copy as { polluted?: boolean }).polluted, undefined);
  // A merge that follows constructor.prototype finds nothing to follow.
  assertEquals(json.constructor, Object);
  // Text under constructor or prototype is a customer's data (found in review: it was dropped).
  assertEquals(
    JSON.stringify(json.additional_fields),
    '{"constructor":"Holden","prototype":"yes"}',
  );
});

Deno.test("shape: the answers the API sends pass (the SDK returns them as parsed)", () => {
  assertEquals(
    issueOf(CustomerEnvelopeSchema, { success: true, customer: customerJson("c1") }),
    undefined,
  );
  assertEquals(
    issueOf(UploadEnvelopeSchema, { success: true, upload: uploadJson("u1") }),
    undefined,
  );
  assertEquals(
    issueOf(CustomerPageSchema, { customers: [customerJson("a")], total: 1, offset: 0, limit: 50 }),
    undefined,
  );
});

// The types the combinators give (compile-time: this file does not type-check otherwise).
const Example = looseObject({
  id: string(),
  n: nullish(number()),
  tags: optional(array(literal("a"))),
  flag: boolean(),
});
interface ExampleType {
  id: string;
  n?: number | null;
  tags?: "a"[];
  flag: boolean;
  [key: string]: unknown;
}
const Strict = strictObject({ a: optional(minLength(1)), b: string() });
export type _ShapeTypes = [
  Assert<Same<Infer<typeof Example>, ExampleType>>,
  Assert<Same<Infer<typeof Strict>, { a?: string; b: string }>>,
  // A loose object keeps unknown fields (an index signature); a strict one has none.
  Assert<Same<string extends keyof Infer<typeof Example> ? true : false, true>>,
  Assert<Same<string extends keyof Infer<typeof Strict> ? true : false, false>>,
];
