import { rm } from "node:fs/promises";
import { PROTOCOL_VERSION } from "../agent/agent-client.js";
import { commandLineOf, type MachineSpec, machineTemplate } from "../engine/machine.js";
import { type RunningMachine, startMonitor, stopMonitor } from "../engine/machine-boot.js";
import { loadState, saveState } from "../engine/migration.js";
import type { Vm } from "../vm.js";
import type { WaitDescription } from "../wait/wait-strategy.js";
import {
  type ManifestWorkload,
  MEMORY_FILE,
  SNAPSHOT_FORMAT,
  type SnapshotManifest,
  STATE_FILE,
} from "./manifest.js";
import { Snapshot } from "./snapshot.js";
import { SnapshotWriter } from "./snapshot-writer.js";

/** What a snapshot of a VM records about where the VM came from. */
export interface VmOrigin {
  image: SnapshotManifest["image"];
  /** The raw root filesystem at the bottom of the VM's disk chain. */
  base: string | null;
  /** The workload as started, or null for a scratch VM. */
  workload: ManifestWorkload | null;
  ports: number[];
  wait: WaitDescription | null;
  setupKey: string | null;
  key: string | null;
}

export const scratchOrigin: VmOrigin = {
  image: null,
  base: null,
  workload: null,
  ports: [],
  wait: null,
  setupKey: null,
  key: null,
};

/**
 * `vm.snapshot(dir)`: the VM's RAM is anonymous (or a private mapping of
 * another snapshot), so its whole state is first saved to a stream; a second,
 * never-started QEMU loads that stream into a shared memory file and saves its
 * device state alone, which gives the layout a bake writes directly.
 */
export async function snapshotVm(
  vm: Vm,
  machine: RunningMachine,
  origin: VmOrigin,
  dir: string,
): Promise<Snapshot> {
  const writer = await SnapshotWriter.create(dir, machine.spec.arch);
  try {
    const fullState = writer.path("full-state");
    try {
      await saveState(machine.qmp, fullState, { ignoreShared: false });
      if (origin.base) {
        await writer.addBase(origin.base);
        await writer.copyDisk(writableDisk(machine));
      }
    } finally {
      // `cont` also takes the disks back from the finished migration.
      if (!vm.stopped) await machine.qmp.execute("cont");
    }

    const spec: MachineSpec = {
      ...machine.spec,
      memoryFile: { path: writer.path(MEMORY_FILE), shared: true },
      disks: origin.base ? [{ path: writer.path("disk.qcow2"), format: "qcow2" }] : [],
      commandLine: commandLineOf(machine.spec),
    };
    const converter = await startMonitor(spec, machine.binary, `${machine.id}-save`);
    try {
      await loadState(converter.qmp, fullState, { ignoreShared: false });
      await saveState(converter.qmp, writer.path(STATE_FILE), { ignoreShared: true });
    } finally {
      await stopMonitor(converter);
    }
    await rm(fullState);

    await writer.commit(await manifestFor(machine, origin, writer));
  } catch (error) {
    await writer.abandon();
    throw error;
  }
  return Snapshot.open(dir);
}

/** The qcow2 the VM writes: its overlay, in its run directory. */
function writableDisk(machine: RunningMachine): string {
  const disk = machine.spec.disks[0];
  if (!disk) throw new Error("internal error: a VM with a root filesystem has no disk");
  return disk.path;
}

/** The manifest of a snapshot of `machine`, whose state `writer` holds. */
export async function manifestFor(
  machine: RunningMachine,
  origin: VmOrigin,
  writer: SnapshotWriter,
): Promise<SnapshotManifest> {
  const { spec, binary, assets } = machine;
  return {
    format: SNAPSHOT_FORMAT,
    createdAt: new Date().toISOString(),
    key: origin.key,
    image: origin.image,
    machine: {
      arch: spec.arch,
      accel: spec.accel,
      cpu: cpuOf(restoreTemplate(spec, origin.base !== null)),
      memoryMib: spec.memoryMib,
      vcpus: spec.vcpus,
      qemuVersion: binary.version,
      args: restoreTemplate(spec, origin.base !== null),
      commandLine: commandLineOf(spec),
      graceSeconds: spec.graceSeconds,
    },
    guest: {
      kernelSha256: assets.kernelSha256,
      initrdSha256: assets.initrdSha256,
      agentSha256: assets.agentSha256,
      protocol: PROTOCOL_VERSION,
    },
    files: {
      memory: { bytes: spec.memoryMib * 1024 * 1024 },
      state: await writer.describeState(),
      disk: origin.base ? { file: "disk.qcow2", base: "base.ext4" } : null,
    },
    ports: origin.ports,
    workload: origin.workload,
    wait: origin.wait,
    setupKey: origin.setupKey,
  };
}

/**
 * The template of the machine a clone of this snapshot runs: RAM in a file,
 * one qcow2 disk if the VM had a root filesystem.
 */
export function restoreTemplate(spec: MachineSpec, hasDisk: boolean): string[] {
  return machineTemplate({
    ...spec,
    memoryFile: { path: "", shared: true },
    disks: hasDisk ? [{ path: "", format: "qcow2" }] : [],
  });
}

function cpuOf(args: string[]): string {
  return args[args.indexOf("-cpu") + 1] ?? "";
}
