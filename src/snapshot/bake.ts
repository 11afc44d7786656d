import { createHash } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PROTOCOL_VERSION } from "../agent/agent-client.js";
import { resolveBootOptions } from "../boot-options.js";
import { hostGuestArch } from "../engine/guest-arch.js";
import { guestAssets } from "../engine/guest-assets.js";
import { probeAccelerator } from "../engine/machine-boot.js";
import { saveState } from "../engine/migration.js";
import { findQemu } from "../engine/qemu-binary.js";
import { invalidArgument, SupermachineError } from "../errors.js";
import type { Image, StartOptions } from "../image/image.js";
import { cacheDir } from "../util/cache-dir.js";
import { debugFor } from "../util/debug.js";
import { isAlive } from "../util/process-alive.js";
import type { Vm } from "../vm.js";
import { forAll } from "../wait/all-wait.js";
import { forPort } from "../wait/port-wait.js";
import type { WaitStrategy } from "../wait/wait-strategy.js";
import { acquireBakeLock } from "./bake-lock.js";
import { MEMORY_FILE, SNAPSHOT_FORMAT, STATE_FILE } from "./manifest.js";
import { Snapshot } from "./snapshot.js";
import { manifestFor, restoreTemplate } from "./snapshot-vm.js";
import { SnapshotWriter } from "./snapshot-writer.js";

const log = debugFor("snapshot");

export interface BakeOptions extends StartOptions {
  /**
   * When the service is ready to be frozen. Default: every port in `ports`
   * (or the image's ExposedPorts) accepts connections in the guest.
   */
  waitFor?: WaitStrategy;
  /**
   * Runs against the ready VM before it is frozen: migrations, seed data, a
   * warmed cache. Every clone starts with its effects.
   */
  setup?: (vm: Vm) => Promise<void>;
  /**
   * Names the version of `setup` in the cache key (e.g. `hashDirectory` of
   * the migrations folder). Required with `setup`: a changed key rebakes,
   * and nothing is guessed from the function's source.
   */
  setupKey?: string;
  /** Where the snapshot lives. Default: the user cache, named by the key. */
  dir?: string;
  /** Told each step of the bake as it ends, for progress output. */
  onProgress?: (progress: BakeProgress) => void;
}

/**
 * One finished step of a bake; `cached` means no bake was needed. (`pull`
 * is reported by callers that pull first, such as the test integrations.)
 */
export interface BakeProgress {
  step: "pull" | "cached" | "rootfs" | "boot" | "ready" | "setup" | "snapshot";
  ms: number;
  /** rootfs: the root filesystem's size; snapshot: the guest RAM it holds. */
  bytes?: number;
}

/**
 * Returns the snapshot for `image` and `options`, baking it if no snapshot
 * with the same cache key exists. Processes that bake the same key at once
 * take a lock: one bakes, the others wait and open its snapshot.
 */
export async function bakeImage(image: Image, options: BakeOptions): Promise<Snapshot> {
  const setupKey = checkSetup(options);
  const waitFor = options.waitFor ?? defaultWait(image, options);
  const key = await bakeKey(image, options, waitFor, setupKey);
  const target = resolve(options.dir ?? join(cacheDir(), "snapshots", key.slice(7, 39)));

  const started = Date.now();
  const cached = (snapshot: Snapshot) => {
    options.onProgress?.({ step: "cached", ms: Date.now() - started });
    return snapshot;
  };
  const ready = await openBaked(target, key);
  if (ready) return cached(ready);

  const lock = await acquireBakeLock(`${target}.lock`, {
    onWait: (holder) => log("waiting for pid %d, which is baking %s", holder.pid, target),
  });
  try {
    const baked = await openBaked(target, key);
    if (baked) return cached(baked);
    await removeAbandoned(target);
    await bakeInto(target, image, options, { key, waitFor, setupKey });
    return await Snapshot.open(target);
  } finally {
    await lock.release();
  }
}

interface BakePlan {
  key: string;
  waitFor: WaitStrategy | undefined;
  setupKey: string | null;
}

/** Boot on a disk and memory file inside the snapshot, wait, set up, freeze. */
async function bakeInto(target: string, image: Image, options: BakeOptions, plan: BakePlan) {
  const step = stepTimer(options.onProgress);
  const base = await image.prepare(options);
  step("rootfs", (await stat(base)).size);
  const writer = await SnapshotWriter.create(target, hostGuestArch());
  try {
    const baseInside = await writer.addBase(base);
    const disk = await writer.createDisk();
    const memoryFile = { path: writer.path(MEMORY_FILE), shared: true };
    const vm = await image.launch(options, { disk, base: baseInside, memoryFile });
    step("boot");

    try {
      await plan.waitFor?.waitUntilReady(vm);
      step("ready");
      if (options.setup) {
        await options.setup(vm);
        step("setup");
      }
    } catch (error) {
      await vm.stop();
      throw error;
    }

    const origin = {
      ...(vm.origin ?? invariant("a launched image VM has an origin")),
      wait: plan.waitFor?.description ?? null,
      setupKey: plan.setupKey,
      key: plan.key,
    };
    const { machine } = vm;
    await vm.freeze((running) =>
      saveState(running.qmp, writer.path(STATE_FILE), { ignoreShared: true }),
    );
    await writer.commit(await manifestFor(machine, origin, writer));
    step("snapshot", await allocatedBytes(join(target, MEMORY_FILE)));
    log("baked %s", image.reference);
  } catch (error) {
    await writer.abandon();
    throw error;
  }
}

/** Reports each step with the time since the previous one. */
function stepTimer(onProgress: BakeOptions["onProgress"]) {
  let last = Date.now();
  return (step: BakeProgress["step"], bytes?: number) => {
    const now = Date.now();
    onProgress?.({ step, ms: now - last, ...(bytes === undefined ? {} : { bytes }) });
    last = now;
  };
}

/** The bytes a sparse file really occupies: the guest RAM the snapshot holds. */
async function allocatedBytes(path: string): Promise<number> {
  const info = await stat(path);
  return info.blocks * 512;
}

/** The snapshot at `target` if it is complete and baked with `key`. */
async function openBaked(target: string, key: string): Promise<Snapshot | undefined> {
  try {
    const snapshot = await Snapshot.open(target);
    if (snapshot.manifest.key === key) return snapshot;
    log("%s holds another bake (key %s); baking again", target, snapshot.manifest.key);
  } catch (error) {
    if (!(error instanceof SupermachineError)) throw error;
    if (error.code === "SNAPSHOT_NOT_FOUND") return undefined;
    log("discarding %s: %s", target, error.message);
  }
  // Only reached while holding the lock or before any bake: a snapshot that
  // does not open is replaced, never repaired.
  await rm(target, { recursive: true, force: true });
  return undefined;
}

/** Temporary directories of bakes whose process died, found by the pid in their name. */
async function removeAbandoned(target: string): Promise<void> {
  const prefix = `${basename(target)}.tmp-`;
  for (const name of await readdir(dirname(target)).catch(() => [])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isNaN(pid) || isAlive(pid)) continue;
    log("removing %s, left by pid %d", name, pid);
    await rm(join(dirname(target), name), { recursive: true, force: true });
  }
}

function checkSetup(options: BakeOptions): string | null {
  if (options.setup !== undefined && typeof options.setup !== "function") {
    invalidArgument("setup", "an async function of the VM", options.setup);
  }
  if (options.setupKey !== undefined && typeof options.setupKey !== "string") {
    invalidArgument("setupKey", "a string", options.setupKey);
  }
  if (options.setup && !options.setupKey) {
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      "`setup` needs a `setupKey` naming its version (for example `await hashDirectory(" +
        '"migrations")`): the snapshot is reused until the key changes.',
    );
  }
  return options.setupKey ?? null;
}

function defaultWait(image: Image, options: BakeOptions): WaitStrategy | undefined {
  const ports = options.ports ?? image.exposedPorts;
  if (ports.length === 0) return undefined;
  return forAll(ports.map((port) => forPort(port)));
}

/**
 * Everything that decides what a baked snapshot contains or whether this
 * host can restore it, hashed: the image, the options that change the
 * guest, the wait and setup, the guest build, QEMU and the accelerator.
 */
export async function bakeKey(
  image: Image,
  options: BakeOptions,
  waitFor: WaitStrategy | undefined,
  setupKey: string | null,
): Promise<string> {
  const arch = hostGuestArch();
  const boot = resolveBootOptions({ ...options, arch, disks: [] });
  const binary = await findQemu(arch);
  const assets = await guestAssets(arch);
  const { accel } = await probeAccelerator(boot, binary, assets);
  const template = restoreTemplate(
    { ...boot, accel, kernel: "", initrd: "", qmpSocket: "", agentSocket: "" },
    true,
  );
  const inputs = {
    format: SNAPSHOT_FORMAT,
    image: image.digest,
    workload: {
      command: options.command ?? null,
      entrypoint: options.entrypoint ?? null,
      env: Object.entries(options.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)),
      user: options.user ?? null,
      workdir: options.workdir ?? null,
    },
    machine: { template, hostname: boot.hostname, grace: boot.graceSeconds },
    diskSizeMib: options.diskSizeMib ?? null,
    ports: options.ports ?? image.exposedPorts,
    wait: waitFor?.description ?? null,
    setupKey,
    guest: [assets.kernelSha256, assets.initrdSha256, assets.agentSha256, PROTOCOL_VERSION],
    qemu: binary.version,
    accel,
  };
  return `sha256:${createHash("sha256").update(JSON.stringify(inputs)).digest("hex")}`;
}

function invariant(what: string): never {
  throw new Error(`internal error: expected ${what}`);
}
