import { setTimeout as sleep } from "node:timers/promises";
import type { Pool, Vm } from "../../src/index.js";

/**
 * pool.ready(), or an error with the pool's stats instead of a hung run:
 * a benchmark waits for a full pool before each sample, so that every
 * acquire finds a paused clone and no restore runs while it measures.
 */
export async function readyWithin(pool: Pool<Vm>, timeoutMs: number): Promise<void> {
  const done = new AbortController();
  const late = sleep(timeoutMs, undefined, { signal: done.signal }).then(() => {
    const stats = JSON.stringify(pool.stats);
    throw new Error(`The pool was not ready after ${timeoutMs} ms: ${stats}`);
  });
  late.catch(() => {}); // rejects with an AbortError once ready() won the race
  try {
    await Promise.race([pool.ready(), late]);
  } finally {
    done.abort();
  }
}
