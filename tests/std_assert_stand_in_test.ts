import { assertEquals, assertRejects, assertThrows } from "@std/assert";

Deno.test("assert stand-in reports mismatches", async () => {
  assertThrows(() => assertEquals({ a: 1 }, { a: 2 }));
  await assertRejects(() => Promise.reject(new TypeError("boom")), TypeError, "boom");
});
