/**
 * The server of `bench/client.ts`, run in a Worker: it answers every request with the body it is
 * given after exactly `delayMs` (held to the microsecond on its own thread), so that the client's
 * thread idles while it waits, as it does for a real server, and the answer time does not depend
 * on a millisecond timer's phase. Posts back the port it listens on.
 * @module
 */
/// <reference lib="deno.worker" />

/** What the bench sends to start the server. */
export interface AnswerServerInit {
  delayMs: number;
  body: string;
}

self.onmessage = (event: MessageEvent<AnswerServerInit>) => {
  const { delayMs, body } = event.data;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const end = performance.now() + delayMs;
    while (performance.now() < end) { /* the server is working */ }
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  self.postMessage(server.addr.port);
};
