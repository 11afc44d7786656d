import type { GuestArch } from "./guest-arch.js";
import { hostTscKhz } from "./host-info.js";

export type Accelerator = "kvm" | "hvf" | "whpx" | "tcg";

export interface DiskSpec {
  path: string;
  format?: "raw" | "qcow2";
  readOnly?: boolean;
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
}

/** The QEMU argument vector for a spec; pure, so it is tested without QEMU. */
export function qemuArgs(spec: MachineSpec): string[] {
  const console = spec.arch === "x86_64" ? "ttyS0" : "ttyAMA0";
  return [
    ...machineArgs(spec),
    ...["-m", String(spec.memoryMib), "-smp", String(spec.vcpus)],
    ...["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"],
    ...["-kernel", spec.kernel, "-initrd", spec.initrd],
    ...["-append", kernelCommandLine(spec, console).join(" ")],
    // The serial console goes to QEMU's stdout, which the host keeps the tail
    // of for error messages; stdin is never read.
    ...["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"],
    ...["-qmp", `unix:${escapeOption(spec.qmpSocket)},server=on,wait=off`],
    ...agentPortArgs(spec),
    ...["-device", `${virtioDevice(spec, "rng")}`],
    ...spec.disks.flatMap((disk, index) => diskArgs(spec, disk, index)),
  ];
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
