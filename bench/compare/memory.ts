// Memory per running instance: several instances of a service up at once
// and idle, then the PSS of each one's host processes.
import { setTimeout as sleep } from "node:timers/promises";
import { type Memory, memoryOfAll, sumMemory } from "../support/proc-memory.js";
import { until } from "../support/service-clients.js";
import type { Service } from "./services.js";
import type { Instance, System } from "./system.js";

/** One instance's memory, by part (`qemu`; `container` and `shim`) and in all. */
export interface InstanceMemory {
  parts: Record<string, Memory>;
  total: Memory;
}

/**
 * Starts `count` instances, has each answer one client operation, lets
 * them idle for `idleMs`, and measures each. Several at once, because
 * instances of one image share pages (a snapshot's memory file, a binary
 * in the page cache) and PSS splits those among them, as a test run with
 * several workers would.
 */
export async function idleMemory(
  system: System,
  service: Service,
  count: number,
  idleMs: number,
): Promise<InstanceMemory[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => system.start(service)),
  );
  const instances = started.flatMap((outcome) =>
    outcome.status === "fulfilled" ? [outcome.value] : [],
  );
  try {
    const failed = started.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    await Promise.all(
      instances.map((instance) => until(() => service.use(instance.address), 60_000)),
    );
    await sleep(idleMs);
    return await Promise.all(instances.map(measure));
  } finally {
    await Promise.allSettled(instances.map((instance) => instance.stop()));
  }
}

async function measure(instance: Instance): Promise<InstanceMemory> {
  const parts: Record<string, Memory> = {};
  for (const [part, pids] of Object.entries(await instance.processes())) {
    parts[part] = await memoryOfAll(pids);
  }
  return { parts, total: sumMemory(Object.values(parts)) };
}
