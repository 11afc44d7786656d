// supermachine against testcontainers-node on Docker, in one run on one
// machine, with the same images (redis, postgres, nginx) from one registry
// on loopback. `npm run bench:compare` runs install-docker.sh, then this.
//
// 1. One-time costs from empty: supermachine pulls into a store of this
//    run's own, builds the root filesystem and bakes; Docker pulls into an
//    engine of this run's own (docker-engine.ts). Then one first start each.
// 2. A test's cycle, BENCH_SAMPLES times (default 20) per service and
//    system, the systems interleaved: start requested until the first
//    client operation succeeds, and until the teardown is done. The
//    systems: a paused clone from a full pool, a clone restored on demand,
//    and a container started by testcontainers.
// 3. BENCH_PARALLEL (8) such cycles at once, BENCH_PARALLEL_SAMPLES times
//    (default BENCH_SAMPLES).
// 4. Memory: BENCH_PARALLEL idle instances of each, the PSS of each one's
//    host processes.
//
// Writes bench/results/compare.json, then the chart and the README section
// from that file alone (publish.ts), and prints the table. Everything it
// started is stopped and removed at the end, on failure and on Ctrl-C.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Vm } from "../../src/index.js";
import { processesMentioning } from "../../test/support/processes.js";
import { registryWith } from "../../test/support/test-images.js";
import { describeMachine, watchLoad } from "../support/machine.js";
import { memoryOfAll, processTree } from "../support/proc-memory.js";
import { round1 } from "../support/stats.js";
import { Cleanups } from "./cleanups.js";
import { Containers } from "./containers.js";
import { type EngineCleanup, startDockerEngine } from "./docker-engine.js";
import { duration } from "./format.js";
import { idleMemory } from "./memory.js";
import { MicroVms } from "./microvms.js";
import { publish, resultsFile, root } from "./publish.js";
import {
  type CompareResult,
  definitions,
  type RawService,
  SERVICES,
  serviceResult,
} from "./result.js";
import { cycle, interleaved, parallelCycles } from "./sampling.js";
import { type ServiceName, services } from "./services.js";
import { markdownTable } from "./table.js";

const samples = Number(process.env.BENCH_SAMPLES ?? 20);
const parallelSamples = Number(process.env.BENCH_PARALLEL_SAMPLES ?? samples);
const parallel = Number(process.env.BENCH_PARALLEL ?? 8);
// Long enough for a service's start-up work (and a clone's first
// translations) to be over, so the figure is what an idle test VM holds.
const IDLE_MS = 3_000;

const progress = (line: string) => process.stderr.write(`${line}\n`);

function reportCleanup(cleanup: EngineCleanup): void {
  const { removedContainers, killedPids, unmounted, leftGlobalDirs } = cleanup;
  if (removedContainers.length) progress(`removed ${removedContainers.length} leftover containers`);
  if (killedPids.length) progress(`killed leftover engine processes ${killedPids.join(" ")}`);
  if (unmounted.length) progress(`unmounted ${unmounted.join(" ")}`);
  if (leftGlobalDirs.length) progress(`could not remove ${leftGlobalDirs.join(" ")} (not empty)`);
}

async function testcontainersVersion(): Promise<string> {
  const manifest = join(root, "node_modules", "testcontainers", "package.json");
  return JSON.parse(await readFile(manifest, "utf8")).version;
}

const runStarted = performance.now();
const load = watchLoad();
const cleanups = new Cleanups();
cleanups.runOnSignals();

const work = await mkdtemp(join(tmpdir(), "bench-compare-"));
cleanups.add("remove the work directory", () => rm(work, { recursive: true, force: true }));
// Every QEMU of this run names a file in `work` (a snapshot, a root
// filesystem) on its command line. There should be none left.
cleanups.add("kill leftover VMs", async () => {
  const left = processesMentioning(work);
  for (const pid of left) process.kill(pid, "SIGKILL");
  if (left.length) progress(`killed leftover QEMU pids ${left.join(" ")}`);
});

let result: Omit<CompareResult, "totalSeconds">;
try {
  // The store, root filesystems and snapshots of this run live in `work`:
  // one-time costs are measured from empty, as Docker's are.
  process.env.SUPERMACHINE_CACHE_DIR = join(work, "cache");
  const accel = (await Vm.accelerator()).accel; // the probe boot, untimed

  const registry = await registryWith(SERVICES);
  cleanups.add("stop the registry", () => registry.stop());
  const engine = await startDockerEngine();
  cleanups.add("stop dockerd", async () => reportCleanup(await engine.stop()));
  process.env.DOCKER_HOST = engine.host;
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  // Where testcontainers finds /.dockerenv it looks for the gateway of a
  // bridge network to reach containers by; these are on the host network.
  process.env.TESTCONTAINERS_HOST_OVERRIDE = "127.0.0.1";

  const vms = new MicroVms(parallel);
  cleanups.add("close the pools", () => vms.closePools());
  const containers = new Containers(
    new Map(services.map((service) => [service.name, registry.ref(service.name)])),
  );

  const raw = {} as Record<ServiceName, Omit<RawService, "memory">>;
  for (const service of services) {
    const bake = await vms.bake(service, registry.ref(service.name), join(work, "snapshots"));
    // Untimed: the pool fills now, so that no restore runs during what follows.
    await vms.pool.settle(service);
    const firstClone = await cycle(vms.clone, service);
    const dockerPullMs = await containers.pull(service);
    const firstContainer = await cycle(containers.docker, service);
    raw[service.name] = {
      operation: service.operation,
      bake,
      firstClone,
      dockerPullMs,
      firstContainer,
    };
    progress(
      `${service.name}: bake ${duration(bake.bakeMs)}, first clone ` +
        `${duration(firstClone.readyMs)}; docker pull ${duration(dockerPullMs)}, first ` +
        `container ${duration(firstContainer.readyMs)}`,
    );
  }
  const [dockerd, ...containerd] = await processTree(engine.pid);
  const engineBaselinePssMiB = {
    dockerd: round1((await memoryOfAll([dockerd ?? engine.pid])).pssKiB / 1024),
    containerd: round1((await memoryOfAll(containerd)).pssKiB / 1024),
  };

  const systems = [vms.pool, vms.clone, containers.docker];
  const sequential = await interleaved(
    "cycle",
    samples,
    services,
    systems,
    cycle,
    (sample) => `ready ${duration(sample.readyMs)}, cycle ${duration(sample.cycleMs)}`,
  );
  const parallelRuns = await interleaved(
    "parallel",
    parallelSamples,
    services,
    systems,
    (system, service) => parallelCycles(system, service, parallel),
    (sample) => `wall ${duration(sample.wallMs)}`,
  );

  // PSS divides a page among all the processes that map it: the paused
  // clones of the pools would make the measured clones look smaller.
  await vms.closePools();
  const figures = {} as CompareResult["services"];
  for (const service of services) {
    const vm = await idleMemory(vms.clone, service, parallel, IDLE_MS);
    const docker = await idleMemory(containers.docker, service, parallel, IDLE_MS);
    const memory = { vm, docker };
    figures[service.name] = serviceResult(
      service.name,
      { ...raw[service.name], memory },
      sequential,
      parallelRuns,
    );
  }

  result = {
    benchmark: "supermachine against testcontainers on Docker: a fresh instance per test",
    date: new Date().toISOString(),
    machine: {
      ...(await describeMachine()),
      docker: await engine.describe(),
      testcontainers: await testcontainersVersion(),
      node: process.versions.node,
      ...load.stop(),
    },
    accel,
    samples,
    parallelSamples,
    parallel,
    what: definitions(parallel),
    services: figures,
    engineBaselinePssMiB,
  };
} finally {
  await cleanups.run();
}

const totalSeconds = Math.round((performance.now() - runStarted) / 1000);
await writeFile(resultsFile, `${JSON.stringify({ ...result, totalSeconds }, null, 2)}\n`);
console.log(markdownTable(await publish()));
console.log(`\ntotal ${totalSeconds} s; written to ${resultsFile}, README.md and the chart`);
