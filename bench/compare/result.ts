// The shape of bench/results/compare.json and how the raw samples become
// it. Everything the README shows is computed from this file alone.
import type { LoadRecord, MachineDescription } from "../support/machine.js";
import { median, round1, type Summary, summarize } from "../support/stats.js";
import type { EngineDescription } from "./docker-engine.js";
import type { InstanceMemory } from "./memory.js";
import type { BakeCost } from "./microvms.js";
import type { ByService, CycleSample, ParallelSample } from "./sampling.js";
import type { ServiceName } from "./services.js";
import type { SystemName } from "./system.js";

export const SYSTEMS: SystemName[] = ["pool", "clone", "docker"];
export const SERVICES: ServiceName[] = ["redis", "postgres", "nginx"];

export interface MemorySummary {
  instances: number;
  medianPssMiB: number;
  maxPssMiB: number;
  /** Each instance's PSS in all, and by part (`qemu`; `container`, `shim`). */
  pssKiB: number[];
  pssKiBByPart: Record<string, number[]>;
}

export interface OneTimeCost {
  supermachine: BakeCost & { firstCloneMs: number; totalMs: number };
  docker: { pullMs: number; firstStartMs: number; totalMs: number };
}

export interface ServiceResult {
  operation: string;
  oneTime: OneTimeCost;
  ready: Record<SystemName, Summary>;
  cycle: Record<SystemName, Summary>;
  parallelWall: Record<SystemName, Summary>;
  parallelReady: Record<SystemName, Summary>;
  memory: { vm: MemorySummary; docker: MemorySummary };
}

export interface CompareResult {
  benchmark: string;
  date: string;
  machine: MachineDescription &
    LoadRecord & { docker: EngineDescription; testcontainers: string; node: string };
  accel: string;
  samples: number;
  parallelSamples: number;
  parallel: number;
  what: Record<string, string>;
  services: Record<ServiceName, ServiceResult>;
  engineBaselinePssMiB: { dockerd: number; containerd: number };
  totalSeconds: number;
}

export const definitions = (parallel: number): Record<string, string> => ({
  pool: "supermachine: pool.acquire() of a paused clone; the pool is full before each sample",
  clone: "supermachine: snap.start(), a clone restored on demand from the snapshot",
  docker: "testcontainers GenericContainer.start() on dockerd (host network, vfs storage)",
  ready: "start requested until the first client operation succeeded",
  cycle: "start, the first client operation, and teardown (release, vm.stop(), container.stop())",
  parallelWall: `${parallel} such cycles at once: the first start to the last teardown`,
  parallelReady: `each of the ${parallel} parallel tests: start to first operation`,
  memory:
    `PSS of the host processes of one of ${parallel} idle instances: QEMU for a VM; ` +
    "the container's processes and its containerd shim for Docker",
  oneTime:
    "supermachine: Image.pull into an empty store, prepare() the root filesystem, " +
    "Image.bake(); docker: pull into an empty engine; then the first start and operation",
});

/** A summary per system of what `pick` takes from each sample (one value or several). */
export function bySystem<T>(
  samples: ByService<T>,
  service: ServiceName,
  pick: (sample: T) => number | number[],
): Record<SystemName, Summary> {
  const entries = SYSTEMS.map((system) => [
    system,
    summarize(samples[service][system].flatMap(pick)),
  ]);
  return Object.fromEntries(entries) as Record<SystemName, Summary>;
}

export function summarizeMemory(instances: InstanceMemory[]): MemorySummary {
  const pss = instances.map((instance) => instance.total.pssKiB);
  const parts = Object.keys(instances[0]?.parts ?? {});
  const byPart = parts.map((part) => [
    part,
    instances.map((instance) => instance.parts[part]?.pssKiB ?? 0),
  ]);
  return {
    instances: instances.length,
    medianPssMiB: round1(median(pss) / 1024),
    maxPssMiB: round1(Math.max(...pss) / 1024),
    pssKiB: pss,
    pssKiBByPart: Object.fromEntries(byPart),
  };
}

export interface RawService {
  operation: string;
  bake: BakeCost;
  firstClone: CycleSample;
  dockerPullMs: number;
  firstContainer: CycleSample;
  memory: { vm: InstanceMemory[]; docker: InstanceMemory[] };
}

/** One service's figures from its raw samples. */
export function serviceResult(
  name: ServiceName,
  raw: RawService,
  sequential: ByService<CycleSample>,
  parallel: ByService<ParallelSample>,
): ServiceResult {
  const { bake } = raw;
  const smTotal = bake.pullMs + bake.rootfsMs + bake.bakeMs + raw.firstClone.readyMs;
  const dockerTotal = raw.dockerPullMs + raw.firstContainer.readyMs;
  return {
    operation: raw.operation,
    oneTime: {
      supermachine: {
        pullMs: Math.round(bake.pullMs),
        rootfsMs: Math.round(bake.rootfsMs),
        bakeMs: Math.round(bake.bakeMs),
        firstCloneMs: Math.round(raw.firstClone.readyMs),
        totalMs: Math.round(smTotal),
      },
      docker: {
        pullMs: Math.round(raw.dockerPullMs),
        firstStartMs: Math.round(raw.firstContainer.readyMs),
        totalMs: Math.round(dockerTotal),
      },
    },
    ready: bySystem(sequential, name, (sample) => sample.readyMs),
    cycle: bySystem(sequential, name, (sample) => sample.cycleMs),
    parallelWall: bySystem(parallel, name, (sample) => sample.wallMs),
    parallelReady: bySystem(parallel, name, (sample) => sample.readyMs),
    memory: { vm: summarizeMemory(raw.memory.vm), docker: summarizeMemory(raw.memory.docker) },
  };
}
