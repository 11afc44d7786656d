import type { GuestArch } from "./guest-arch.js";
import { hostTscKhz } from "./host-info.js";

export type Accelerator = "kvm" | "hvf" | "whpx" | "tcg";

export interface DiskSpec {
  path: string;
  format?: "raw" | "qcow2";
  readOnly?: boolean;
}

/**
 * Guest RAM in a file instead of anonymous memory. `shared` maps it
 * MAP_SHARED, so the guest's writes land in the file (baking a snapshot);
 * otherwise it is mapped privately, copy-on-write (a clone of a snapshot).
 */
export interface MemoryFile {
  path: string;
  shared: boolean;
}

export interface MachineSpec {
  arch: GuestArch;
  accel: Accelerator;
  memoryMib: number;
  vcpus: number;
  kernel: string;
  initrd: string;
  qmpSocket: string;
  agentSocket: string;
  disks: DiskSpec[];
  /** Extra kernel command line arguments, appended last so they win. */
  kernelArgs: string[];
  graceSeconds: number;
  hostname: string;
  memoryFile?: MemoryFile;
  /** Start paused, waiting for `migrate-incoming` (restoring a snapshot). */
  incoming?: boolean;
  /**
   * The kernel command line to pass verbatim instead of building one. A
   * restore repeats the baked VM's; the guest never reads it again anyway.
   */
  commandLine?: string;
}

/** The QEMU argument vector for a spec; pure, so it is tested without QEMU. */
export function qemuArgs(spec: MachineSpec): string[] {
  return [
    ...machineArgs(spec),
    ...["-m", String(spec.memoryMib), "-smp", String(spec.vcpus)],
    ...memoryArgs(spec),
    ...["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"],
    ...["-kernel", spec.kernel, "-initrd", spec.initrd],
    ...["-append", commandLineOf(spec)],
    // The serial console goes to QEMU's stdout, which the host keeps the tail
    // of for error messages; stdin is never read.
    ...["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"],
    ...["-qmp", `unix:${escapeOption(spec.qmpSocket)},server=on,wait=off`],
    ...agentPortArgs(spec),
    ...["-device", `${virtioDevice(spec, "rng")}`],
    ...spec.disks.flatMap((disk, index) => diskArgs(spec, disk, index)),
    ...(spec.incoming ? ["-incoming", "defer"] : []),
  ];
}

/**
 * The argument vector with every per-run path replaced by a placeholder.
 * A snapshot records it, and a restore compares it with its own, so a
 * snapshot is never loaded into a machine built differently (which would
 * fail late, or hang the guest).
 */
export function machineTemplate(spec: MachineSpec): string[] {
  return qemuArgs({
    ...spec,
    kernel: "@kernel",
    initrd: "@initrd",
    qmpSocket: "@qmp",
    agentSocket: "@agent",
    memoryFile: spec.memoryFile && { path: "@memory", shared: true },
    disks: spec.disks.map((disk, index) => ({ path: `@disk${index}`, format: disk.format })),
    incoming: false,
    commandLine: "@cmdline",
  });
}

/**
 * Guest RAM is always an explicit backend named `mem`: the migration stream
 * names RAM by its backend, so a VM booted with anonymous RAM can be saved
 * and loaded into one whose RAM is a file.
 */
function memoryArgs(spec: MachineSpec): string[] {
  const file = spec.memoryFile;
  const backend = file
    ? [
        "memory-backend-file",
        `mem-path=${escapeOption(file.path)}`,
        `share=${file.shared ? "on" : "off"}`,
      ]
    : ["memory-backend-ram"];
  backend.push("id=mem", `size=${spec.memoryMib}M`);
  return ["-object", backend.join(","), "-machine", "memory-backend=mem"];
}

function machineArgs(spec: MachineSpec): string[] {
  const cpu = spec.accel === "tcg" ? "max" : "host";
  if (spec.arch === "x86_64") {
    // microvm: no PCI, no firmware, direct PVH kernel entry. ACPI stays on so
    // the guest can power itself off; the RTC stays on so the clock is right
    // from the first instruction (without it boot is a second slower). The
    // legacy PIT and PIC go: the kernel then skips their calibration, which
    // saved about 0.2 s of a 1 s boot under tcg (bench/boot.ts).
    const machine = "microvm,acpi=on,rtc=on,pit=off,pic=off";
    return ["-M", machine, "-accel", spec.accel, "-cpu", cpu];
  }
  return ["-M", "virt,gic-version=max", "-accel", spec.accel, "-cpu", cpu];
}

/** The kernel command line QEMU passes for `spec`. */
export function commandLineOf(spec: MachineSpec): string {
  const serial = spec.arch === "x86_64" ? "ttyS0" : "ttyAMA0";
  return spec.commandLine ?? kernelCommandLine(spec, serial).join(" ");
}

export function kernelCommandLine(spec: MachineSpec, console: string): string[] {
  const args = [`console=${console}`, "quiet", "panic=-1"];
  if (spec.arch === "x86_64" && spec.accel === "tcg") {
    // Under tcg the guest TSC is the host's, so it is exact; but on a busy
    // host the kernel's watchdog can judge it unstable and fall back to
    // jiffies, which lose ticks and let the guest clock lag.
    args.push("tsc=reliable");
    const tscKhz = hostTscKhz();
    if (tscKhz) args.push(`tsc_early_khz=${tscKhz}`);
  }
  args.push(`supermachine.grace=${spec.graceSeconds}`);
  args.push(`supermachine.hostname=${spec.hostname}`);
  return [...args, ...spec.kernelArgs];
}

function virtioDevice(spec: MachineSpec, kind: "rng" | "serial" | "blk"): string {
  // microvm has only virtio-mmio; on `virt` mmio devices exist too and boot
  // without a PCI scan, which is faster under emulation.
  void spec;
  return `virtio-${kind}-device`;
}

function agentPortArgs(spec: MachineSpec): string[] {
  return [
    ...["-device", virtioDevice(spec, "serial")],
    ...["-chardev", `socket,id=agent,path=${escapeOption(spec.agentSocket)},server=on,wait=off`],
    ...["-device", "virtserialport,chardev=agent,name=agent"],
  ];
}

function diskArgs(spec: MachineSpec, disk: DiskSpec, index: number): string[] {
  const id = `disk${index}`;
  const drive = [
    `file=${escapeOption(disk.path)}`,
    `format=${disk.format ?? "raw"}`,
    "if=none",
    `id=${id}`,
    ...(disk.readOnly ? ["readonly=on"] : []),
  ];
  return ["-drive", drive.join(","), "-device", `${virtioDevice(spec, "blk")},drive=${id}`];
}

/** QEMU option values escape a comma by doubling it. */
export function escapeOption(value: string): string {
  return value.replaceAll(",", ",,");
}
