// The timed part: a test's cycle (start, one client operation, teardown),
// alone and eight at once, sampled with the systems interleaved.

import { until } from "../support/service-clients.js";
import type { Service, ServiceName } from "./services.js";
import type { System, SystemName } from "./system.js";

export interface CycleSample {
  /** Start requested until the first client operation succeeded. */
  readyMs: number;
  /** The same, and the teardown. */
  cycleMs: number;
}

export interface ParallelSample {
  /** First start requested until the last teardown finished. */
  wallMs: number;
  /** Each test's own start-to-first-operation time. */
  readyMs: number[];
}

// A fresh instance must answer within this; a slower one fails the run.
const FIRST_OPERATION_TIMEOUT_MS = 120_000;

/** One test: start, the first client operation (retried until it succeeds), teardown. */
export async function cycle(system: System, service: Service): Promise<CycleSample> {
  const started = performance.now();
  const instance = await system.start(service);
  let readyMs: number;
  try {
    await until(() => service.use(instance.address), FIRST_OPERATION_TIMEOUT_MS);
    readyMs = performance.now() - started;
  } finally {
    await instance.stop();
  }
  return { readyMs, cycleMs: performance.now() - started };
}

/** `count` tests at once, as a test runner with `count` workers would run them. */
export async function parallelCycles(
  system: System,
  service: Service,
  count: number,
): Promise<ParallelSample> {
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: count }, () => cycle(system, service)),
  );
  const wallMs = performance.now() - started;
  // Every test has ended (settled) before a failure is thrown: none is left running.
  const tests: CycleSample[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === "rejected") throw outcome.reason;
    tests.push(outcome.value);
  }
  return { wallMs, readyMs: tests.map((test) => test.readyMs) };
}

export type BySystem<T> = Record<SystemName, T[]>;
export type ByService<T> = Record<ServiceName, BySystem<T>>;

/**
 * `samples` rounds; in each, every service is measured once on every
 * system, the systems in an order rotated each round, so that drift on the
 * machine (other work, a warming page cache) hits all of them alike.
 * Each sample is followed by the system's untimed settle().
 */
export async function interleaved<T>(
  label: string,
  samples: number,
  services: Service[],
  systems: System[],
  measure: (system: System, service: Service) => Promise<T>,
  show: (sample: T) => string,
): Promise<ByService<T>> {
  const results = {} as ByService<T>;
  for (const service of services) {
    results[service.name] = { pool: [], clone: [], docker: [] };
  }
  for (let round = 0; round < samples; round++) {
    const order = [...systems.slice(round % systems.length), ...systems].slice(0, systems.length);
    for (const service of services) {
      for (const system of order) {
        const sample = await measure(system, service);
        await system.settle(service);
        results[service.name][system.name].push(sample);
        const where = `${label} ${service.name} ${system.name} ${round + 1}/${samples}`;
        process.stderr.write(`${where}: ${show(sample)}\n`);
      }
    }
  }
  return results;
}
