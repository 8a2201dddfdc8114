/**
 * The server the SDK benchmarks answer from (`bench/client.ts`, `bench/client_ab.ts`).
 * @module
 */
import type { AnswerServerInit } from "./_answer_server.ts";

/**
 * Starts the answering server and gives its port and a way to stop it. At 0 ms it runs on this
 * thread and answers at once, so that the figure is the CPU each client spends per request, with
 * nothing else in it; with a delay it runs in a Worker (`_answer_server.ts`) and holds each
 * answer for exactly that long on its own thread, while this thread idles as it does for a real
 * server (a Worker at 0 ms adds the thread hand-off's wake-ups to every request: raw fetch ~90 →
 * ~200 µs, and the added µs twice as spread).
 */
export async function startServer(
  delayMs: number,
  body: string,
): Promise<{ port: number; stop(): Promise<void> }> {
  if (delayMs === 0) {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(body, { headers: { "content-type": "application/json" } }),
    );
    return { port: server.addr.port, stop: () => server.shutdown() };
  }
  const worker = new Worker(new URL("./_answer_server.ts", import.meta.url), { type: "module" });
  const port = await new Promise<number>((resolve) => {
    worker.onmessage = (event: MessageEvent<number>) => resolve(event.data);
    worker.postMessage({ delayMs, body } satisfies AnswerServerInit);
  });
  return { port, stop: () => Promise.resolve(worker.terminate()) };
}
