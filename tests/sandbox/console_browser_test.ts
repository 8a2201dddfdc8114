/**
 * The sandbox console in a real browser: Debian's chromium driven by puppeteer-core (installed by
 * `deno task setup`; outside CI a missing browser skips this file with a message, in CI it
 * fails; `RECAPTURE_CHROMIUM` names another Chromium binary). One browser for the file. Processing is held by the sandbox's `beforeChunk` hook, so
 * "0% then 100% without reload" and "cancel while processing" are deterministic.
 *
 * Screenshots of every page (1280 px and phone width) are written to a temporary folder whose
 * path is printed: they are for a person to look at, not committed.
 */
import puppeteer, { type Browser } from "puppeteer-core";
import { assert, assertEquals } from "@std/assert";
import { RecaptureClient } from "../../src/sdk/client.ts";
import { readCsv } from "../../src/import/csv.ts";
import { serveSandbox } from "../../src/sandbox/serve.ts";
import { SANDBOX_API_KEY } from "../../src/sandbox/mod.ts";

/** The browser: Debian's chromium, or another Chromium named by `RECAPTURE_CHROMIUM`. */
const CHROMIUM = Deno.env.get("RECAPTURE_CHROMIUM") || "/usr/bin/chromium";
const IN_CI = Deno.env.get("CI") === "true";

function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const missing = !hasChromium();
if (missing && !IN_CI) {
  console.log(
    `sandbox_console_browser_test: skipped, no browser at ${CHROMIUM} (run \`deno task setup\`)`,
  );
}

/** A gate the processor waits at before each chunk, while `held`. */
class Hold {
  held = false;
  #gate = Promise.withResolvers<void>();
  #arrived = Promise.withResolvers<void>();

  readonly hook = async (): Promise<void> => {
    if (!this.held) return;
    this.#arrived.resolve();
    await this.#gate.promise;
  };

  /** Resolves when the processor waits at the gate. */
  arrived(): Promise<void> {
    return this.#arrived.promise;
  }

  hold(): void {
    this.held = true;
    this.#gate = Promise.withResolvers<void>();
    this.#arrived = Promise.withResolvers<void>();
  }

  release(): void {
    this.held = false;
    this.#gate.resolve();
  }
}

function csvOf(rows: string[][]): ReadableStream<string> {
  return ReadableStream.from([rows.map((r) => r.join(",")).join("\n") + "\n"]);
}

async function customersOf(stream: ReadableStream<string>) {
  const out = [];
  for await (const row of readCsv(stream)) out.push(row.customer);
  return out;
}

Deno.test({
  name: "console in chromium: follow an upload, find a customer, simulate a listing, cancel",
  ignore: missing && !IN_CI,
  async fn(t) {
    if (missing) throw new Error(`CI=true and no browser at ${CHROMIUM}: run \`deno task setup\``);
    const shots = await Deno.makeTempDir({ prefix: "recapture-console-shots-" });
    const profile = await Deno.makeTempDir({ prefix: "recapture-chromium-" });
    const hold = new Hold();
    const pushed: string[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (r) => {
        pushed.push(await r.text());
        return new Response("ok");
      },
    );
    const served = await serveSandbox({
      port: 0,
      path: ":memory:",
      quiet: true,
      console: true,
      chunkSize: 5,
      beforeChunk: hold.hook,
    });
    const client = new RecaptureClient({
      apiKey: SANDBOX_API_KEY,
      baseUrl: served.url,
      region: "au",
    });
    let browser: Browser | undefined;
    const started = performance.now();
    try {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
        ],
      });
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const consoleUrl = served.consoleUrl!;
      const shot = async (name: string) => {
        await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
      };

      await t.step("an upload's progress bar goes from 0% to 100% without a reload", async () => {
        hold.hold();
        const customers = await customersOf(csvOf([
          ["rego", "state", "client_name"],
          ...Array.from({ length: 12 }, (_, i) => [`CSV${100 + i}`, "NSW", `Driver ${i}`]),
        ]));
        const upload = await client.uploads.create({ name: "March sales", customers });
        await hold.arrived(); // processing waits before its first chunk
        await page.goto(`${consoleUrl}/uploads`);
        await page.waitForSelector("#live[data-connected]");
        const pct = `#up-${upload.id}-pct`;
        assertEquals(await page.$eval(pct, (e) => e.textContent), "0%");
        await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
        await shot("uploads-0");
        hold.release();
        await page.waitForFunction(`document.querySelector("${pct}").textContent === "100%"`);
        await page.waitForFunction(
          `document.querySelector("#up-${upload.id}-status").textContent.trim() === "completed"`,
        );
        assert(await page.evaluate(() => "notReloaded" in globalThis), "the page was not reloaded");
        assertEquals(
          await page.$eval("#announce", (e) => e.textContent),
          "Upload March sales: completed",
          "the change is announced to screen readers",
        );
        assertEquals(
          await page.$eval(`#up-${upload.id}-bar`, (e) => Number(e.getAttribute("value"))),
          12,
        );
        await shot("uploads");
      });

      await t.step("find a customer by name and open its timeline", async () => {
        await page.goto(`${consoleUrl}/customers`);
        await page.type("#q", "driver 7");
        await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
        const links = await page.$$eval("tbody a", (as) => as.map((a) => a.textContent));
        assertEquals(links, ["CSV107"]);
        await shot("customers");
        await Promise.all([page.waitForNavigation(), page.click("tbody a")]);
        assert((await page.$eval("h1", (e) => e.textContent))?.includes("CSV107"));
        assertEquals(
          await page.$eval("#sightings", (e) => e.textContent),
          "Sightings timeline (0)",
        );
      });

      await t.step("simulate a listing and watch its push appear with its status", async () => {
        const secret = "tok_0123456789abcdef0123";
        const response = await fetch(`${served.url}/v2/webhooks?region=au`, {
          method: "POST",
          headers: { ApiKey: SANDBOX_API_KEY, "Content-Type": "application/json" },
          body: JSON.stringify({
            name: "CRM",
            endpoint: `http://127.0.0.1:${receiver.addr.port}/hook?token=${secret}`,
            events: ["recapture_new", "recapture_price_change"],
          }),
        });
        assertEquals(response.status, 201);
        await response.body?.cancel();
        await page.goto(`${consoleUrl}/alerts`);
        await page.waitForSelector("#live[data-connected]");
        await page.select("#event", "listed");
        await page.type("#rego", "csv107");
        await page.type("#state", "NSW");
        await page.type("#price", "23500");
        await Promise.all([page.waitForNavigation(), page.click("form.grid button")]);
        assertEquals(
          await page.$eval("p.notice[role=status]", (e) => e.textContent),
          "recapture_new: 1 customer(s) matched, 1 push(es) queued.",
        );
        const status = await page.waitForSelector("td[id$=-status].good");
        assertEquals(await status!.evaluate((e) => e.textContent), "delivered (HTTP 200)");
        assertEquals(pushed.length, 1);
        const html = await page.content();
        assert(!html.includes(secret), "the webhook's token is not shown");
        assert(html.includes("/hook?token=…"), "its endpoint is, masked");
        await page.click("details summary");
        await shot("alerts");
        const back = await page.$eval("pre", (e) => JSON.parse(e.textContent!));
        assertEquals(back.data.listing.price, 23500);
        // The customer's timeline now has the sighting.
        await page.goto(`${consoleUrl}/customers?q=CSV107`);
        await Promise.all([page.waitForNavigation(), page.click("tbody a")]);
        assertEquals(
          await page.$eval("#sightings", (e) => e.textContent),
          "Sightings timeline (1)",
        );
        assert((await page.$eval("ol.timeline", (e) => e.textContent))?.includes("recapture_new"));
        await shot("customer");
      });

      await t.step("cancel an upload while processing is held", async () => {
        hold.hold();
        const upload = await client.uploads.create({
          name: "To cancel",
          customers: Array.from({ length: 10 }, (_, i) => ({ rego: `CAN${i}`, state: "VIC" })),
        });
        await hold.arrived();
        await page.goto(`${consoleUrl}/uploads`);
        page.once("dialog", (dialog) => dialog.accept());
        await Promise.all([
          page.waitForNavigation(),
          page.click(`#up-${upload.id}-action button`),
        ]);
        assertEquals(
          (await page.$eval(`#up-${upload.id}-status`, (e) => e.textContent))?.trim(),
          "cancelled",
        );
        assertEquals(await page.$(`#up-${upload.id}-action button`), null);
        hold.release();
        await served.sandbox.idle();
        const after = await client.uploads.retrieve(upload.id);
        assertEquals(after.status, "cancelled");
        assertEquals(after.total_processed_customers, 0, "no chunk ran after the cancel");
      });

      await t.step("requests and throughput pages", async () => {
        await page.goto(`${consoleUrl}/requests`);
        const text = await page.$eval("table", (e) => e.textContent!);
        assert(text.includes("/v2/recapture/upload"), "the uploads are listed");
        assert(text.includes(`…${SANDBOX_API_KEY.slice(-4)}`), "by the key's last 4 characters");
        assert(!(await page.content()).includes(SANDBOX_API_KEY));
        await shot("requests");
        await page.goto(`${consoleUrl}/throughput`);
        await page.waitForSelector("svg[role=img] polyline");
        await shot("throughput");
      });

      await t.step("every page fits a phone's width", async () => {
        await page.setViewport({ width: 390, height: 844, isMobile: true });
        for (const name of ["uploads", "customers", "alerts", "requests", "throughput"]) {
          await page.goto(`${consoleUrl}/${name}`);
          const overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          );
          assertEquals(overflow, 0, `${name} scrolls sideways on a phone`);
          await shot(`${name}-phone`);
        }
      });

      await t.step("keyboard: the skip link and the navigation are reachable", async () => {
        await page.goto(`${consoleUrl}/customers`);
        await page.keyboard.press("Tab");
        assertEquals(
          await page.evaluate("document.activeElement.textContent"),
          "Skip to content",
        );
        await page.keyboard.press("Tab");
        assertEquals(await page.evaluate("document.activeElement.textContent"), "Uploads");
        const unlabelled = await page.$$eval(
          "input:not([type=hidden]), select",
          (els) =>
            els.filter((e) => !e.id || !e.ownerDocument.querySelector(`label[for="${e.id}"]`))
              .length,
        );
        assertEquals(unlabelled, 0);
      });
    } finally {
      hold.release();
      await browser?.close();
      await served.shutdown();
      await receiver.shutdown();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      console.log(
        `console screenshots: ${shots} (browser part took ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s)`,
      );
    }
  },
});
