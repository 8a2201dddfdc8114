import { assertEquals } from "@std/assert";
import { VERSION } from "../../mod.ts";
import { userAgent } from "../../src/sdk/version.ts";

const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));

Deno.test("VERSION is deno.json's version (the one copy that must exist, tied here)", () => {
  assertEquals(VERSION, config.version);
});

Deno.test("userAgent: recapture-<part>/<deno.json version>, the purpose in parentheses", () => {
  assertEquals(userAgent("edge"), `recapture-edge/${config.version}`);
  assertEquals(userAgent("sandbox", "webhooks"), `recapture-sandbox/${config.version} (webhooks)`);
});
