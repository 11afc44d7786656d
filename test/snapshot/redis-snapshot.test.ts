// One redis snapshot, baked once for the file, and clones of it: isolation,
// clock and entropy after restore, damaged snapshots, and vm.snapshot().
import { existsSync } from "node:fs";
import {
  cp,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Image, Snapshot, type Vm, wait } from "../../src/index.js";
import { eventually } from "../support/eventually.js";
import { isRunning, processesMentioning } from "../support/processes.js";
import { registryWith, type TestRegistry } from "../support/test-images.js";

let registry: TestRegistry;
let work: string;
let snap: Snapshot;

beforeAll(async () => {
  registry = await registryWith(["redis"]);
  work = await mkdtemp(join(tmpdir(), "redis-snapshot-"));
  // Redis logs "Ready" just after it starts listening: waiting for the line
  // as well as the port puts it in the snapshot's logs for certain.
  const ready = wait.forAll([wait.forPort(6379), wait.forLog(/Ready to accept connections/)]);
  snap = await Image.bake(registry.ref("redis"), {
    ports: [6379],
    waitFor: ready,
    dir: join(work, "redis"),
  });
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function redisOf(vm: Vm): Promise<Redis> {
  const client = new Redis({
    host: vm.host,
    port: vm.port(6379),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

test("20 clones in a row each answer PONG at once, and none sees another's data", async () => {
  for (let index = 0; index < 20; index++) {
    await using vm = await snap.start();
    const redis = await redisOf(vm); // no retry loop: the service was up when frozen
    try {
      expect(await redis.ping()).toBe("PONG");
      expect(await redis.get("written-by")).toBeNull();
      await redis.set("written-by", `clone ${index}`);
      expect(await redis.get("written-by")).toBe(`clone ${index}`);
    } finally {
      redis.disconnect();
    }
  }
});

test("data written in clone A is not visible in a clone B running beside it", async () => {
  await using a = await snap.start();
  await using b = await snap.start();
  const [ra, rb] = [await redisOf(a), await redisOf(b)];
  try {
    await ra.set("only-in-a", "1");
    await a.writeFile("/tmp/only-in-a", "1");
    expect(await rb.get("only-in-a")).toBeNull();
    expect((await b.exec(["test", "-e", "/tmp/only-in-a"])).exitCode).toBe(1);
  } finally {
    ra.disconnect();
    rb.disconnect();
  }
});

test("a clone restored 5 s after baking has the host's time, and clones differ in entropy", async () => {
  const bakedAt = Date.parse(snap.manifest.createdAt);
  await eventually(async () => {
    if (Date.now() - bakedAt < 5_000) throw new Error("not 5 s since the bake yet");
  }, 10_000);
  await using a = await snap.start();
  await using b = await snap.start();
  const guestSeconds = Number((await a.exec(["date", "+%s"])).stdout.trim());
  expect(Math.abs(guestSeconds - Date.now() / 1000)).toBeLessThan(2);

  const read = (vm: Vm) =>
    vm.exec(["head", "-c", "32", "/dev/urandom"], { encoding: "buffer" }).then((r) => r.stdout);
  const [fromA, fromB] = [await read(a), await read(b)];
  expect(fromA).toHaveLength(32);
  expect(fromA.equals(fromB)).toBe(false);
});

test("the workload of a clone is the baked one: same pid, logs, and stop()", async () => {
  await using vm = await snap.start();
  expect(vm.workload.pid).toBe(snap.manifest.workload?.pid);
  const logs: Buffer[] = [];
  for await (const chunk of vm.logs()) logs.push(chunk as Buffer);
  expect(Buffer.concat(logs).toString()).toMatch(/Ready to accept connections/);
  const exit = await vm.workload.stop();
  expect(exit.exitCode ?? exit.signal).not.toBeNull();
});

/**
 * A copy of the snapshot to damage: the small files copied, the large ones
 * hard-linked (so a damage must replace them, never write to them).
 */
async function damagedCopy(name: string, damage: (dir: string) => Promise<void>) {
  const dir = join(work, name);
  await mkdir(dir);
  for (const file of await readdir(snap.dir)) {
    const copy = ["manifest.json", "state"].includes(file) ? cp : link;
    await copy(join(snap.dir, file), join(dir, file));
  }
  await damage(dir);
  return dir;
}

test("a truncated device state is SNAPSHOT_CORRUPT and starts no QEMU", async () => {
  const dir = await damagedCopy("truncated", (d) => truncate(join(d, "state"), 1000));
  await expect(Snapshot.open(dir)).rejects.toMatchObject({
    code: "SNAPSHOT_CORRUPT",
    message: expect.stringMatching(/device state is 1000 bytes.*bake it again/i),
  });
  expect(processesMentioning(dir)).toEqual([]);
});

test("a memory file of another size is SNAPSHOT_CORRUPT", async () => {
  const dir = await damagedCopy("resized", async (d) => {
    await rm(join(d, "memory"));
    await writeFile(join(d, "memory"), "");
    await truncate(join(d, "memory"), 128 << 20);
  });
  await expect(Snapshot.open(dir)).rejects.toMatchObject({
    code: "SNAPSHOT_CORRUPT",
    message: expect.stringMatching(/memory file is 134217728 bytes, not 268435456/),
  });
  expect(processesMentioning(dir)).toEqual([]);
});

test("a snapshot from another accelerator is SNAPSHOT_INCOMPATIBLE and starts no QEMU", async () => {
  const dir = await damagedCopy("other-accel", async (d) => {
    const manifest = JSON.parse(await readFile(join(d, "manifest.json"), "utf8"));
    manifest.machine.accel = manifest.machine.accel === "kvm" ? "tcg" : "kvm";
    await writeFile(join(d, "manifest.json"), JSON.stringify(manifest));
  });
  await expect(Snapshot.open(dir)).rejects.toMatchObject({
    code: "SNAPSHOT_INCOMPATIBLE",
    message: expect.stringMatching(/the accelerator is (kvm|tcg), here/),
  });
  expect(processesMentioning(dir)).toEqual([]);
});

test("a directory without a snapshot is SNAPSHOT_NOT_FOUND", async () => {
  await expect(Snapshot.open(join(work, "nothing-here"))).rejects.toMatchObject({
    code: "SNAPSHOT_NOT_FOUND",
  });
});

test("vm.snapshot() of a clone keeps its data, restores fast, and the clone goes on", async () => {
  await using vm = await snap.start();
  const redis = await redisOf(vm);
  try {
    await redis.set("saved", "in the second snapshot");
    const second = await vm.snapshot(join(work, "second"));
    expect(existsSync(join(work, "second", "manifest.json"))).toBe(true);
    expect(await redis.get("saved")).toBe("in the second snapshot"); // still running
    await redis.set("after", "not in the snapshot");

    await using clone = await second.start();
    const cloneRedis = await redisOf(clone);
    try {
      expect(await cloneRedis.get("saved")).toBe("in the second snapshot");
      expect(await cloneRedis.get("after")).toBeNull();
    } finally {
      cloneRedis.disconnect();
    }
  } finally {
    redis.disconnect();
  }
});

test("vm.snapshot() into an existing directory is refused and writes nothing", async () => {
  await using vm = await snap.start();
  await expect(vm.snapshot(snap.dir)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  await Snapshot.open(snap.dir); // untouched
});

test("a pool with min 4 hands out working clones; 50 cycles leave nothing behind", async () => {
  const pids = new Set<number>();
  const runDirs = new Set<string>();
  {
    await using pool = snap.pool({ min: 4, max: 6 });
    for (let cycle = 0; cycle < 50; cycle++) {
      const vm = await pool.acquire({ timeoutMs: 120_000 });
      pids.add(vm.pid);
      runDirs.add(vm.machine.dir);
      const redis = await redisOf(vm);
      try {
        expect(await redis.incr("uses")).toBe(1); // never a VM someone used before
      } finally {
        redis.disconnect();
      }
      // Both ways of giving a VM back: release(), and stopping it directly.
      if (cycle % 2 === 0) await pool.release(vm);
      else await vm.stop();
    }
    expect(pids.size).toBe(50);
  }
  expect([...pids].filter(isRunning)).toEqual([]);
  expect([...runDirs].filter((dir) => existsSync(dir))).toEqual([]);
  expect(processesMentioning(snap.dir)).toEqual([]);
});
