import { setTimeout as sleep } from "node:timers/promises";

/**
 * Retries `attempt` until it succeeds or `timeoutMs` passes, then throws its
 * last error: services in a guest take a moment to start listening, and a
 * test waits on that condition rather than on a fixed sleep.
 */
export async function eventually<T>(
  attempt: () => Promise<T>,
  timeoutMs = 30_000,
  intervalMs = 150,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(intervalMs);
    }
  }
}
