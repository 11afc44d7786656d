import type { GuestArch } from "../engine/guest-arch.js";
import type { Accelerator } from "../engine/machine.js";
import { SupermachineError } from "../errors.js";
import type { WaitDescription } from "../wait/wait-strategy.js";

/** Bumped whenever an older reader could misread a newer snapshot. */
export const SNAPSHOT_FORMAT = 1;

export const MANIFEST_FILE = "manifest.json";
export const MEMORY_FILE = "memory";
export const STATE_FILE = "state";
export const DISK_FILE = "disk.qcow2";
export const BASE_FILE = "base.ext4";

/** The image's main process as the baked VM ran it. */
export interface ManifestWorkload {
  pid: number;
  argv: string[];
  user: string;
  cwd: string;
  stopSignal: string;
}

/** `manifest.json`: see docs/snapshot-format.md. */
export interface SnapshotManifest {
  format: number;
  createdAt: string;
  /** The bake cache key, or null for `vm.snapshot(dir)`. */
  key: string | null;
  image: { reference: string; manifestDigest: string } | null;
  machine: {
    arch: GuestArch;
    accel: Accelerator;
    cpu: string;
    memoryMib: number;
    vcpus: number;
    qemuVersion: string;
    /** The QEMU arguments with per-run paths as placeholders. */
    args: string[];
    commandLine: string;
    graceSeconds: number;
  };
  guest: { kernelSha256: string; initrdSha256: string; agentSha256: string; protocol: number };
  files: {
    memory: { bytes: number };
    state: { bytes: number; sha256: string };
    /** Null for a scratch VM, which has no disk. */
    disk: { file: string; base: string } | null;
  };
  ports: number[];
  workload: ManifestWorkload | null;
  wait: WaitDescription | null;
  setupKey: string | null;
}

/** What this host would restore with; a manifest must match it. */
export interface RestoreHost {
  arch: GuestArch;
  accel: Accelerator;
  qemuVersion: string;
  guest: SnapshotManifest["guest"];
  /** `machineTemplate()` of the machine the manifest describes, built here. */
  args: string[];
}

/** Parses `manifest.json` text; a wrong shape is SNAPSHOT_CORRUPT. */
export function parseManifest(text: string, dir: string): SnapshotManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw corrupt(dir, "its manifest.json is not valid JSON", cause);
  }
  const manifest = value as SnapshotManifest;
  if (typeof manifest !== "object" || manifest === null) {
    throw corrupt(dir, "its manifest.json is not an object");
  }
  if (manifest.format !== SNAPSHOT_FORMAT) {
    throw new SupermachineError(
      "SNAPSHOT_INCOMPATIBLE",
      `The snapshot in ${dir} has format ${JSON.stringify(manifest.format)}; this version of ` +
        `supermachine reads format ${SNAPSHOT_FORMAT}. Bake it again with this version.`,
    );
  }
  const missing = requiredFields.filter((path) => lookup(manifest, path) === undefined);
  if (missing.length > 0) {
    throw corrupt(dir, `its manifest.json lacks ${missing.join(", ")}`);
  }
  return manifest;
}

const requiredFields = [
  "createdAt",
  "machine.arch",
  "machine.accel",
  "machine.memoryMib",
  "machine.vcpus",
  "machine.qemuVersion",
  "machine.args",
  "machine.commandLine",
  "guest.kernelSha256",
  "guest.initrdSha256",
  "guest.agentSha256",
  "files.memory.bytes",
  "files.state.bytes",
  "files.state.sha256",
  "files.disk",
  "ports",
  "workload",
];

function lookup(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Every way the manifest differs from what this host would restore with,
 * reported together: a restore into a different machine does not fail
 * cleanly, it hangs or crashes the guest.
 */
export function incompatibilities(manifest: SnapshotManifest, host: RestoreHost): string[] {
  const { machine, guest } = manifest;
  const found: string[] = [];
  const differs = (what: string, theirs: unknown, ours: unknown) => {
    if (theirs !== ours) found.push(`${what} is ${String(theirs)}, here ${String(ours)}`);
  };
  differs("the architecture", machine.arch, host.arch);
  differs("the accelerator", machine.accel, host.accel);
  differs("the QEMU version", machine.qemuVersion, host.qemuVersion);
  differs("the guest kernel", short(guest.kernelSha256), short(host.guest.kernelSha256));
  differs("the guest initramfs", short(guest.initrdSha256), short(host.guest.initrdSha256));
  differs("the guest agent", short(guest.agentSha256), short(host.guest.agentSha256));
  differs("the agent protocol", guest.protocol, host.guest.protocol);
  if (found.length === 0 && JSON.stringify(machine.args) !== JSON.stringify(host.args)) {
    found.push("the QEMU machine arguments differ (it was made by another supermachine version)");
  }
  return found;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

export function corrupt(dir: string, what: string, cause?: unknown): SupermachineError {
  return new SupermachineError(
    "SNAPSHOT_CORRUPT",
    `The snapshot in ${dir} is damaged: ${what}. Delete the directory and bake it again.`,
    { cause },
  );
}
