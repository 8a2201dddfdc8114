// One Deno KV queue shared by the proxy's callback scheduler and the alert relay's retries
// (Deno Deploy gives a project one KV): every message reaches its owner.
import { assertEquals, assertRejects } from "@std/assert";
import {
  type AlertDeliveryOutcome,
  type CallbackJob,
  type CallbackOutcome,
  createAlertRelay,
  createRecaptureProxy,
  denoKvScheduler,
  type KvQueue,
  sharedKvQueue,
} from "../../src/edge/mod.ts";

Deno.test("sharedKvQueue: one listener on the KV, every message to every consumer", async () => {
  let listens = 0;
  let deliver: (value: unknown) => Promise<void> | void = () => {};
  const closed = Promise.withResolvers<void>();
  const enqueued: unknown[] = [];
  const kv: KvQueue = {
    enqueue(value) {
      enqueued.push(value);
      return Promise.resolve({ ok: true });
    },
    listenQueue(handler) {
      listens++;
      deliver = handler;
      return closed.promise;
    },
  };
  const shared = sharedKvQueue(kv);
  const seen: string[] = [];
  const a = shared.listenQueue((v) => void seen.push(`a:${v}`));
  const b = shared.listenQueue((v) => {
    seen.push(`b:${v}`);
    if (v === "boom") throw new Error("b failed");
  });
  assertEquals(listens, 1);
  await shared.enqueue("m1", { delay: 5 });
  assertEquals(enqueued, ["m1"]);
  await deliver("m1");
  assertEquals(seen, ["a:m1", "b:m1"]);
  // A consumer's failure reaches the KV (which then redelivers), after every consumer ran.
  await assertRejects(async () => await deliver("boom"), Error, "b failed");
  assertEquals(seen.slice(2), ["a:boom", "b:boom"]);
  closed.resolve();
  await Promise.all([a, b]);
});

Deno.test("proxy callbacks and relay retries on one shared Deno KV: nothing is lost", async () => {
  const kv = await Deno.openKv(":memory:");
  const queue = sharedKvQueue(kv);
  const TOKEN = "tok_shared_queue_0123456789abcdef";
  const outcomes: AlertDeliveryOutcome[] = [];
  const tried = new Set<string | null>();
  const relay = createAlertRelay({
    tokens: [TOKEN],
    destinations: [{ kind: "webhook", url: "https://crm.test/h", secret: "whsec_shared" }],
    queue,
    backoffMs: [10, 10],
    // Every event's first attempt fails, so its second attempt waits in the queue. (Decided by
    // the event id, not by a count of attempts: a retry may run before a later event's first try.)
    fetch: (request) => {
      const id = request.headers.get("recapture-event-id");
      const first = !tried.has(id);
      tried.add(id);
      return Promise.resolve(new Response("", { status: first ? 503 : 200 }));
    },
    onDelivery: (o) => outcomes.push(o),
  });
  const callbacks: CallbackOutcome[] = [];
  const scheduler = denoKvScheduler(queue);
  createRecaptureProxy({
    env: () => undefined, // no API key: each callback job ends as "gave_up", which is enough here
    scheduler,
    alerts: relay,
    onCallback: (o) => callbacks.push(o),
  });
  try {
    const ids = ["evt_s1", "evt_s2", "evt_s3", "evt_s4"];
    for (const id of ids) {
      const res = await relay.fetch(
        new Request(`http://edge/alerts/${TOKEN}`, {
          method: "POST",
          body: JSON.stringify({ id, event: "ping" }),
        }),
      );
      assertEquals(res.status, 202);
      await res.body?.cancel();
    }
    const uploads = ["upl_s1", "upl_s2", "upl_s3", "upl_s4"];
    for (const upload_id of uploads) {
      const job: CallbackJob = {
        kind: "recapture.upload_callback",
        upload_id,
        region: "au",
        callback_url: "https://crm.test/done",
        event_id: `evt_${upload_id}`,
        phase: "poll",
        attempt: 0,
        started_at: Date.now(),
      };
      await scheduler.schedule(job, { delayMs: 0, env: {} });
    }
    const delivered = () => outcomes.filter((o) => o.outcome === "delivered");
    for (let i = 0; i < 500 && (delivered().length < 4 || callbacks.length < 4); i++) {
      await new Promise((ok) => setTimeout(ok, 10));
    }
    assertEquals(delivered().map((o) => [o.eventId, o.attempt]).sort(), ids.map((id) => [id, 2]));
    assertEquals(callbacks.map((o) => o.uploadId).sort(), uploads);
    await relay.idle();
  } finally {
    kv.close();
  }
});
