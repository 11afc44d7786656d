import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PROTOCOL_VERSION } from "../agent/agent-client.js";
import { resolveBootOptions } from "../boot-options.js";
import { hostGuestArch } from "../engine/guest-arch.js";
import { type GuestAssets, guestAssets } from "../engine/guest-assets.js";
import type { Accelerator, MachineSpec } from "../engine/machine.js";
import { probeAccelerator, type RunningMachine, startMachine } from "../engine/machine-boot.js";
import { loadState } from "../engine/migration.js";
import { findQemu, type QemuBinary } from "../engine/qemu-binary.js";
import { createOverlay } from "../engine/qemu-img.js";
import { SupermachineError } from "../errors.js";
import { WorkloadHandle } from "../image/workload-handle.js";
import { Vm } from "../vm.js";
import {
  BASE_FILE,
  corrupt,
  DISK_FILE,
  incompatibilities,
  MANIFEST_FILE,
  MEMORY_FILE,
  parseManifest,
  type SnapshotManifest,
  STATE_FILE,
} from "./manifest.js";
import { type CloneFactory, Pool, type PooledClone, type PoolOptions } from "./pool.js";
import { restoreTemplate } from "./snapshot-vm.js";
import { sha256File } from "./snapshot-writer.js";

export interface CloneOptions {
  /** Guest ports to expose on 127.0.0.1. Default: the ports the snapshot was baked with. */
  ports?: number[];
  /** How long the restored guest may take to answer. Default 60 s. */
  bootTimeoutMs?: number;
}

interface RestoreHostParts {
  binary: QemuBinary;
  assets: GuestAssets;
  accel: Accelerator;
}

/**
 * A VM frozen after its service was ready, on disk (docs/snapshot-format.md).
 * `start()` restores a clone of it, with the service already up, instead of
 * booting; every clone has its own copy-on-write memory and disk.
 *
 * @example
 * const snap = await Image.bake("redis:7", { ports: [6379] });
 * await using vm = await snap.start();
 * const pool = snap.pool({ min: 4 });
 */
export class Snapshot {
  readonly dir: string;
  readonly manifest: SnapshotManifest;
  readonly #host: RestoreHostParts;
  #overlay: Promise<Buffer> | undefined;

  private constructor(dir: string, manifest: SnapshotManifest, host: RestoreHostParts) {
    this.dir = dir;
    this.manifest = manifest;
    this.#host = host;
  }

  /**
   * Reads and checks a snapshot directory: SNAPSHOT_NOT_FOUND if there is
   * none, SNAPSHOT_CORRUPT if a file is missing or damaged, and
   * SNAPSHOT_INCOMPATIBLE if it was made with another QEMU, accelerator or
   * guest build. Nothing is started.
   */
  static async open(dir: string): Promise<Snapshot> {
    const full = resolve(dir);
    const manifest = parseManifest(await readManifest(full), full);
    const host = await restoreHost(manifest);
    const problems = incompatibilities(manifest, {
      arch: hostGuestArch(),
      accel: host.accel,
      qemuVersion: host.binary.version,
      guest: {
        kernelSha256: host.assets.kernelSha256,
        initrdSha256: host.assets.initrdSha256,
        agentSha256: host.assets.agentSha256,
        protocol: PROTOCOL_VERSION,
      },
      args: restoreTemplate(cloneSpec(full, manifest, host), manifest.files.disk !== null),
    });
    if (problems.length > 0) {
      throw new SupermachineError(
        "SNAPSHOT_INCOMPATIBLE",
        `The snapshot in ${full} cannot be restored here: ${problems.join("; ")}. Bake it ` +
          "again on this machine (`Image.bake` does so by itself when these change).",
      );
    }
    await checkFiles(full, manifest);
    return new Snapshot(full, manifest, host);
  }

  /** Restores a clone: a running VM whose service is already up. */
  async start(options: CloneOptions = {}): Promise<Vm> {
    const vm = await this.#restore(options);
    try {
      await this.#attach(vm, options);
      return vm;
    } catch (error) {
      await vm.stop();
      throw error;
    }
  }

  /**
   * A warm pool of paused clones; `acquire()` resumes one in a few
   * milliseconds. Close it (or `await using`) to stop them all.
   */
  pool(options: PoolOptions & CloneOptions = {}): Pool<Vm> {
    const factory: CloneFactory<Vm> = () => this.#restorePaused(options);
    return new Pool(factory, options);
  }

  async #restore(options: CloneOptions): Promise<Vm> {
    const { manifest, dir } = this;
    const { binary, assets, accel } = this.#host;
    const spec = cloneSpec(dir, manifest, this.#host);
    const boot = resolveBootOptions({
      memoryMib: spec.memoryMib,
      vcpus: spec.vcpus,
      accel,
      disks: spec.disks,
      bootTimeoutMs: options.bootTimeoutMs,
      graceSeconds: spec.graceSeconds,
      arch: spec.arch,
    });
    const overlay = manifest.files.disk ? await this.#overlayTemplate() : undefined;
    const parts = await startMachine(boot, accel, binary, assets, {
      memoryFile: spec.memoryFile,
      disksIn: async (runDir) => {
        if (!overlay) return [];
        const path = join(runDir, "disk.qcow2");
        await writeFile(path, overlay);
        return [{ path, format: "qcow2" }];
      },
      commandLine: manifest.machine.commandLine,
      restore: async (qmp) => {
        await loadState(qmp, join(dir, STATE_FILE), { ignoreShared: true });
        await qmp.execute("cont");
      },
    });
    return Vm.adopt(parts);
  }

  /**
   * The bytes of an empty qcow2 over this snapshot's disk. Each clone writes
   * its own copy into its run directory: cheaper than running qemu-img per
   * clone, and unlike `snapshot=on` the file has a name, which
   * `vm.snapshot()` needs to copy the clone's writes.
   */
  #overlayTemplate(): Promise<Buffer> {
    this.#overlay ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), "sm-overlay-"));
      try {
        const path = join(dir, "overlay.qcow2");
        await createOverlay(this.manifest.machine.arch, path, join(this.dir, DISK_FILE), "qcow2");
        return await readFile(path);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    this.#overlay.catch(() => {
      this.#overlay = undefined; // let the next clone try again
    });
    return this.#overlay;
  }

  /**
   * A clone for the pool: restored, its code paths warmed by one exec (under
   * tcg every new QEMU translates the guest's code afresh), then paused.
   */
  async #restorePaused(options: CloneOptions): Promise<PooledClone<Vm>> {
    const vm = await this.#restore(options);
    const { machine } = vm;
    try {
      await vm.exec(["true"]);
      await machine.qmp.execute("stop");
    } catch (error) {
      await vm.stop();
      throw error;
    }
    return {
      resume: async () => {
        await machine.qmp.execute("cont");
        await resync(machine);
        await this.#attach(vm, options);
        return vm;
      },
      destroy: () => vm.stop(),
      ended: vm.ended,
    };
  }

  /** Gives a restored VM its workload, exec defaults and exposed ports. */
  async #attach(vm: Vm, options: CloneOptions): Promise<void> {
    const { manifest } = this;
    const { workload } = manifest;
    if (workload) {
      const stopSignal = workload.stopSignal as NodeJS.Signals;
      vm.attachWorkload(new WorkloadHandle(vm, workload.pid, stopSignal));
      vm.setExecDefaults({ user: workload.user, cwd: workload.cwd });
    }
    vm.setOrigin({
      image: manifest.image,
      base: manifest.files.disk ? join(this.dir, BASE_FILE) : null,
      workload,
      ports: options.ports ?? manifest.ports,
      wait: manifest.wait,
      setupKey: manifest.setupKey,
      key: null,
    });
    for (const port of options.ports ?? manifest.ports) await vm.exposeTcp(port);
  }
}

/**
 * A paused clone's guest clock stood still (or jumped) and its RNG state is
 * shared with its siblings: a fresh HELLO sets the clock and reseeds the RNG.
 * Safe here because no stream is open yet.
 */
async function resync(machine: RunningMachine): Promise<void> {
  machine.hello = await machine.agent.handshake();
}

async function readManifest(dir: string): Promise<string> {
  try {
    return await readFile(join(dir, MANIFEST_FILE), "utf8");
  } catch (cause) {
    throw new SupermachineError(
      "SNAPSHOT_NOT_FOUND",
      `There is no snapshot in ${dir} (no ${MANIFEST_FILE}). Make one with \`Image.bake()\` ` +
        "or `vm.snapshot(dir)`.",
      { cause },
    );
  }
}

async function restoreHost(manifest: SnapshotManifest): Promise<RestoreHostParts> {
  const arch = manifest.machine.arch;
  const binary = await findQemu(arch);
  const assets = await guestAssets(arch);
  const options = resolveBootOptions({ arch });
  const { accel } = await probeAccelerator(options, binary, assets);
  return { binary, assets, accel };
}

/** The machine a clone runs, as far as the manifest decides it. */
function cloneSpec(dir: string, manifest: SnapshotManifest, host: RestoreHostParts): MachineSpec {
  const { machine } = manifest;
  return {
    arch: machine.arch,
    accel: host.accel,
    memoryMib: machine.memoryMib,
    vcpus: machine.vcpus,
    kernel: host.assets.kernel,
    initrd: host.assets.initrd,
    qmpSocket: "",
    agentSocket: "",
    disks: manifest.files.disk ? [{ path: join(dir, DISK_FILE), format: "qcow2" }] : [],
    kernelArgs: [],
    graceSeconds: machine.graceSeconds,
    hostname: "supermachine",
    memoryFile: { path: join(dir, MEMORY_FILE), shared: false },
    commandLine: machine.commandLine,
  };
}

/** Sizes and digests, so a damaged file is an error now, not a hung guest later. */
async function checkFiles(dir: string, manifest: SnapshotManifest): Promise<void> {
  const sizeOf = (name: string) =>
    stat(join(dir, name)).then(
      (info) => info.size,
      () => undefined,
    );
  const memory = await sizeOf(MEMORY_FILE);
  if (memory === undefined) throw corrupt(dir, "its memory file is missing");
  if (memory !== manifest.files.memory.bytes) {
    throw corrupt(dir, `its memory file is ${memory} bytes, not ${manifest.files.memory.bytes}`);
  }
  const state = await sizeOf(STATE_FILE);
  if (state === undefined) throw corrupt(dir, "its device state file is missing");
  if (state !== manifest.files.state.bytes) {
    throw corrupt(dir, `its device state is ${state} bytes, not ${manifest.files.state.bytes}`);
  }
  if ((await sha256File(join(dir, STATE_FILE))) !== manifest.files.state.sha256) {
    throw corrupt(dir, "its device state does not match the digest in the manifest");
  }
  if (manifest.files.disk) {
    for (const name of [DISK_FILE, BASE_FILE]) {
      if ((await sizeOf(name)) === undefined) throw corrupt(dir, `its ${name} is missing`);
    }
  }
}
