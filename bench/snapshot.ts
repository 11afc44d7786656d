// Snapshots, clones and the warm pool against a cold boot, all in one run,
// with the redis and postgres test images from a registry on loopback:
//
// 1. cold boot of redis: image.start() until a host ioredis client gets PONG
//    (one connection attempt per try, tries 20 ms apart);
// 2. clone start: snap.start() until the first successful exec;
// 3. pool acquire: pool.ready() first, so every sample finds a paused clone,
//    then acquire() until the first successful exec;
// 4. postgres: pool acquire until a host pg client has connected and got
//    SELECT 1 answered, and cold boots to the same point;
// 5. memory: PSS of the QEMU process of 10 idle redis clones and of one
//    idle cold-booted redis VM, from /proc/<pid>/smaps_rollup;
// 6. restore time of a 256 MiB and a 2 GiB redis snapshot, to the resolved
//    Vm and to the first exec.
//
// Each figure has BENCH_SAMPLES samples (default 20). Stopping VMs and
// releasing clones is never timed. Snapshots are baked into a temporary
// directory that is removed at the end. Writes bench/results/snapshot.json
// and prints a table.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Image, type Pool, type Snapshot, Vm, wait } from "../src/index.js";
import { processesMentioning } from "../test/support/processes.js";
import { registryWith } from "../test/support/test-images.js";
import {
  describeMachine,
  type LoadRecord,
  type MachineDescription,
  watchLoad,
} from "./support/machine.js";
import { readyWithin } from "./support/pool-ready.js";
import { type Memory, memoryOf } from "./support/proc-memory.js";
import { postgresSelect1, redisPing, until } from "./support/service-clients.js";
import { median, round1, type Summary, summarize } from "./support/stats.js";

const samples = Number(process.env.BENCH_SAMPLES ?? 20);
// A cold postgres boot runs initdb (15 to 20 s under tcg): 20 of them are
// most of the run's 7 minutes, and 5 still give a usable median.
const postgresColdRuns = Number(process.env.BENCH_POSTGRES_COLD_RUNS ?? samples);
const idleClones = 10;
const idleMs = 3_000;

// What snapshots were designed to reach; reported beside each figure, met or not.
const targets = {
  cloneStartMs: 40,
  poolAcquireMs: 10,
  postgresAcquireToSelect1Ms: 150,
  pssPerIdleCloneMiB: 60,
  restore2GiBOver256MiB: 1.5,
};

const postgresOptions = {
  env: { POSTGRES_PASSWORD: "pw" },
  ports: [5432],
  memoryMib: 512,
};

// --- sampling -------------------------------------------------------------

/** Runs `measure` `runs` times in a row, reporting progress on stderr. */
async function sampled(label: string, runs: number, measure: () => Promise<number>) {
  const values: number[] = [];
  for (let run = 0; run < runs; run++) {
    const ms = await measure();
    values.push(ms);
    process.stderr.write(`${label} ${run + 1}/${runs}: ${ms.toFixed(1)} ms\n`);
  }
  return values;
}

// --- talking to the services ----------------------------------------------

async function execTrue(vm: Vm): Promise<void> {
  const result = await vm.exec(["true"]);
  if (result.exitCode !== 0) throw new Error(`exec true failed: ${JSON.stringify(result)}`);
}

const redisAt = (vm: Vm) => ({ host: vm.host, port: vm.port(6379) });
const postgresAt = (vm: Vm) => ({ host: vm.host, port: vm.port(5432) });
const postgresLogin = {
  user: "postgres",
  password: postgresOptions.env.POSTGRES_PASSWORD,
  database: "postgres",
};

function postgresReady(vm: Vm): Promise<void> {
  return postgresSelect1(postgresAt(vm), postgresLogin);
}

// --- the measurements -----------------------------------------------------

// A cold-booted QEMU names no file of this run, so it is known by its pid and
// its whole command line, which holds its own run directory: a pid reused by
// another process after the VM exited does not match.
const coldBoots = new Map<number, string>();

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined; // not running
  }
}

function remember(vm: Vm): void {
  coldBoots.set(vm.pid, commandLineOf(vm.pid) ?? "");
}

async function coldBootRedis(image: Image): Promise<number> {
  const started = performance.now();
  await using vm = await image.start({ ports: [6379] });
  remember(vm);
  await until(() => redisPing(redisAt(vm)), 90_000);
  return performance.now() - started;
}

async function coldBootPostgres(image: Image): Promise<number> {
  const started = performance.now();
  await using vm = await image.start(postgresOptions);
  remember(vm);
  await until(() => postgresReady(vm), 180_000);
  return performance.now() - started;
}

/** Clone start to the first exec; `toVm` collects the time to the resolved Vm. */
async function cloneStart(snap: Snapshot, toVm?: number[]): Promise<number> {
  const started = performance.now();
  await using vm = await snap.start();
  toVm?.push(performance.now() - started);
  await execTrue(vm);
  return performance.now() - started;
}

/**
 * acquire() to `use` done, from a pool with `min` clones ready; `toVm`
 * collects the time to the resolved Vm.
 */
async function poolAcquire(
  pool: Pool<Vm>,
  use: (vm: Vm) => Promise<void>,
  toVm: number[],
): Promise<number> {
  await readyWithin(pool, 120_000);
  const started = performance.now();
  const vm = await pool.acquire();
  toVm.push(performance.now() - started);
  try {
    await use(vm);
    return performance.now() - started;
  } finally {
    await pool.release(vm);
  }
}

async function idleClonesMemory(snap: Snapshot): Promise<Memory[]> {
  const vms: Vm[] = [];
  try {
    for (let index = 0; index < idleClones; index++) {
      const vm = await snap.start();
      vms.push(vm);
      await execTrue(vm);
    }
    await sleep(idleMs);
    return await Promise.all(vms.map((vm) => memoryOf(vm.pid)));
  } finally {
    await Promise.allSettled(vms.map((vm) => vm.stop()));
  }
}

async function idleColdBootMemory(image: Image): Promise<Memory> {
  await using vm = await image.start({ ports: [6379] });
  remember(vm);
  await until(() => redisPing(redisAt(vm)), 90_000);
  await sleep(idleMs);
  return memoryOf(vm.pid);
}

/** Starts of both snapshots interleaved, so drift on the machine hits both alike. */
async function restoreBySize(snaps: Record<string, Snapshot>) {
  const times: Record<string, { toVm: number[]; toExec: number[] }> = {};
  for (let run = 0; run < samples; run++) {
    for (const [size, snap] of Object.entries(snaps)) {
      const entry = times[size] ?? { toVm: [], toExec: [] };
      times[size] = entry;
      const ms = await cloneStart(snap, entry.toVm);
      entry.toExec.push(ms);
      process.stderr.write(`restore ${size} MiB ${run + 1}/${samples}: ${ms.toFixed(1)} ms\n`);
    }
  }
  return times;
}

// --- cleanup --------------------------------------------------------------

/**
 * QEMU processes of this run still alive: clones name a snapshot in `work`
 * on their command line, cold boots are known as remember() recorded them.
 * Each is killed and reported; there should be none.
 */
function killLeftovers(work: string): number[] {
  const cold = [...coldBoots].filter(([pid, line]) => line && commandLineOf(pid) === line);
  const left = [...new Set([...processesMentioning(work), ...cold.map(([pid]) => pid)])];
  for (const pid of left) process.kill(pid, "SIGKILL");
  return left;
}

// --- the run --------------------------------------------------------------

async function withPool<T>(snap: Snapshot, min: number, use: (pool: Pool<Vm>) => Promise<T>) {
  await using pool = snap.pool({ min });
  return await use(pool);
}

const bakeMs: Record<string, number> = {};

async function timedBake(label: string, bake: () => Promise<Snapshot>): Promise<Snapshot> {
  const started = performance.now();
  const snap = await bake();
  bakeMs[label] = Math.round(performance.now() - started);
  process.stderr.write(`baked ${label} in ${bakeMs[label]} ms\n`);
  return snap;
}

async function measureRedis(image: Image, work: string) {
  const snap = await timedBake("redis, 256 MiB", () =>
    Image.bake(image, { ports: [6379], memoryMib: 256, dir: join(work, "redis-256") }),
  );
  // Untimed: the snapshot's files into the page cache, the overlay template built.
  await cloneStart(snap);

  const coldBoot = await sampled("redis cold boot", samples, () => coldBootRedis(image));
  const cloneToVm: number[] = [];
  const clone = await sampled("clone start", samples, () => cloneStart(snap, cloneToVm));
  const acquireToVm: number[] = [];
  const acquire = await withPool(snap, 4, (pool) =>
    sampled("pool acquire", samples, () => poolAcquire(pool, execTrue, acquireToVm)),
  );
  const clones = await idleClonesMemory(snap);
  const cold = await idleColdBootMemory(image);

  const big = await timedBake("redis, 2048 MiB", () =>
    Image.bake(image, { ports: [6379], memoryMib: 2048, dir: join(work, "redis-2048") }),
  );
  const bySize = await restoreBySize({ 256: snap, 2048: big });
  return { coldBoot, clone, cloneToVm, acquire, acquireToVm, clones, cold, bySize };
}

async function measurePostgres(image: Image, work: string) {
  const snap = await timedBake("postgres, 512 MiB", () =>
    Image.bake(image, {
      ...postgresOptions,
      waitFor: wait.forLog(/ready to accept connections/, 2, { timeoutMs: 180_000 }),
      dir: join(work, "postgres"),
    }),
  );
  const acquireToVm: number[] = [];
  const acquire = await withPool(snap, 2, (pool) =>
    sampled("postgres pool acquire", samples, () => poolAcquire(pool, postgresReady, acquireToVm)),
  );
  const coldBoot = await sampled("postgres cold boot", postgresColdRuns, () =>
    coldBootPostgres(image),
  );
  return { acquire, acquireToVm, coldBoot };
}

type RedisFigures = Awaited<ReturnType<typeof measureRedis>>;
type PostgresFigures = Awaited<ReturnType<typeof measurePostgres>>;

/** A summary with its target, and whether the median met it. */
function against(values: number[], targetMs: number) {
  const summary = summarize(values);
  return { targetMs, met: summary.medianMs <= targetMs, ...summary };
}

const ratio = (a: number[], b: number[]) => round1(median(a) / median(b));
const mib = (kib: number) => round1(kib / 1024);

function report(
  redis: RedisFigures,
  postgres: PostgresFigures,
  accel: string,
  machine: MachineDescription & LoadRecord,
) {
  const small = redis.bySize["256"] ?? { toVm: [], toExec: [] };
  const large = redis.bySize["2048"] ?? { toVm: [], toExec: [] };
  const clonePss = redis.clones.map((m) => m.pssKiB);
  const sizeRatio = median(large.toVm) / median(small.toVm);
  return {
    benchmark: "snapshots, clones and the warm pool against a cold boot (redis, postgres)",
    date: new Date().toISOString(),
    // Other work on the machine slows emulated guests down. This run's own
    // QEMU and node account for about 1 to 2 of the 1-minute load.
    machine,
    accel,
    samples,
    bakeMs,
    redis: {
      coldBootToPing: {
        what: "image.start({ ports: [6379] }) until a host ioredis PING is answered",
        ...summarize(redis.coldBoot),
      },
      cloneStartToExec: {
        what: "snap.start() until the first successful exec(['true'])",
        ...against(redis.clone, targets.cloneStartMs),
      },
      cloneStartToVm: { what: "snap.start() resolved", ...summarize(redis.cloneToVm) },
      poolAcquireToExec: {
        what: "pool.acquire() until the first successful exec, pool { min: 4 } ready",
        ...against(redis.acquire, targets.poolAcquireMs),
      },
      poolAcquireToVm: { what: "pool.acquire() resolved", ...summarize(redis.acquireToVm) },
      coldBootOverClone: ratio(redis.coldBoot, redis.clone),
      coldBootOverPoolAcquire: ratio(redis.coldBoot, redis.acquire),
    },
    postgres: {
      poolAcquireToSelect1: {
        what: "pool.acquire() until a host pg client connected and got SELECT 1, pool { min: 2 }",
        ...against(postgres.acquire, targets.postgresAcquireToSelect1Ms),
      },
      poolAcquireToVm: { what: "pool.acquire() resolved", ...summarize(postgres.acquireToVm) },
      coldBootToSelect1: {
        what: "image.start() until a host pg client connected and got SELECT 1",
        ...(postgresColdRuns < samples && {
          note: `${postgresColdRuns} samples only: each cold boot runs initdb`,
        }),
        ...summarize(postgres.coldBoot),
      },
      coldBootOverPoolAcquire: ratio(postgres.coldBoot, postgres.acquire),
    },
    memory: {
      note:
        "Pss of /proc/<pid>/smaps_rollup of the QEMU process only, after the VM was idle " +
        `${idleMs / 1000} s; clones share the pages of the snapshot's memory file they ` +
        "have not written, and PSS divides those among the processes mapping them",
      guestMemoryMib: 256,
      idleClones,
      clonePssKiB: clonePss,
      cloneRssKiB: redis.clones.map((m) => m.rssKiB),
      medianClonePssMiB: mib(median(clonePss)),
      targetClonePssMiB: targets.pssPerIdleCloneMiB,
      met: mib(median(clonePss)) <= targets.pssPerIdleCloneMiB,
      coldBootPssKiB: redis.cold.pssKiB,
      coldBootRssKiB: redis.cold.rssKiB,
      coldBootPssMiB: mib(redis.cold.pssKiB),
    },
    restoreByGuestSize: {
      what: "snap.start() of a redis snapshot baked with memoryMib 256 and 2048, interleaved",
      mib256: { toVm: summarize(small.toVm), toExec: summarize(small.toExec) },
      mib2048: { toVm: summarize(large.toVm), toExec: summarize(large.toExec) },
      ratioToVm: round1(sizeRatio),
      ratioToExec: ratio(large.toExec, small.toExec),
      targetRatio: targets.restore2GiBOver256MiB,
      met: sizeRatio <= targets.restore2GiBOver256MiB,
    },
  };
}

function printTable(result: ReturnType<typeof report>, totalSeconds: number): void {
  const row = (name: string, s: Summary, target: string) =>
    console.log(`| ${name} | ${s.medianMs} ms | ${s.p90Ms} ms | ${s.minMs} ms | ${target} |`);
  const { redis, postgres, memory, restoreByGuestSize: size } = result;
  console.log("| figure | median | p90 | min | target |");
  console.log("|---|---|---|---|---|");
  row("redis cold boot to PING", redis.coldBootToPing, "");
  row("redis clone start to exec", redis.cloneStartToExec, "<= 40 ms");
  row("redis pool acquire to exec", redis.poolAcquireToExec, "<= 10 ms");
  row("postgres pool acquire to SELECT 1", postgres.poolAcquireToSelect1, "<= 150 ms");
  row("postgres cold boot to SELECT 1", postgres.coldBootToSelect1, "");
  row("restore 256 MiB to Vm", size.mib256.toVm, "");
  row("restore 2 GiB to Vm", size.mib2048.toVm, `<= 1.5x (${size.ratioToVm}x)`);
  console.log(
    `\ncold boot / clone ${redis.coldBootOverClone}x, cold boot / pool acquire ` +
      `${redis.coldBootOverPoolAcquire}x (postgres ${postgres.coldBootOverPoolAcquire}x)`,
  );
  console.log(
    `PSS per idle clone ${memory.medianClonePssMiB} MiB (target <= 60), ` +
      `cold-booted VM ${memory.coldBootPssMiB} MiB`,
  );
  console.log(`total ${totalSeconds} s`);
}

const runStarted = performance.now();
const load = watchLoad();
const registry = await registryWith(["redis", "postgres"]);
const work = await mkdtemp(join(tmpdir(), "bench-snapshot-"));
let result: ReturnType<typeof report>;
try {
  const accel = (await Vm.accelerator()).accel;
  const redisImage = await Image.pull(registry.ref("redis"));
  const postgresImage = await Image.pull(registry.ref("postgres"));
  // Untimed: the root filesystem prepared and the guest files in the page cache.
  await coldBootRedis(redisImage);

  const redis = await measureRedis(redisImage, work);
  const postgres = await measurePostgres(postgresImage, work);
  result = report(redis, postgres, accel, { ...(await describeMachine()), ...load.stop() });
} finally {
  await registry.stop();
  const leftovers = killLeftovers(work);
  if (leftovers.length > 0) process.stderr.write(`killed leftover QEMU pids ${leftovers}\n`);
  await rm(work, { recursive: true, force: true });
}

const totalSeconds = Math.round((performance.now() - runStarted) / 1000);
const file = join(import.meta.dirname, "results", "snapshot.json");
await writeFile(file, `${JSON.stringify({ ...result, totalSeconds }, null, 2)}\n`);
printTable(result, totalSeconds);
console.log(`\nwritten to ${file}`);
