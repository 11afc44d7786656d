import { expect, test } from "vitest";
import {
  escapeOption,
  type MachineSpec,
  machineTemplate,
  qemuArgs,
} from "../../src/engine/machine.js";

const spec: MachineSpec = {
  arch: "x86_64",
  accel: "tcg",
  memoryMib: 256,
  vcpus: 2,
  kernel: "/g/vmlinux",
  initrd: "/g/initramfs.cpio",
  qmpSocket: "/tmp/sm-1/qmp.sock",
  agentSocket: "/tmp/sm-1/agent.sock",
  disks: [],
  kernelArgs: ["foo=bar"],
  graceSeconds: 12,
  hostname: "box",
};

function option(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ""] : []));
}

test("x86_64 uses microvm with ACPI and RTC on and boots the kernel directly", () => {
  const args = qemuArgs(spec);
  expect(option(args, "-M")).toEqual(["microvm,acpi=on,rtc=on,pit=off,pic=off"]);
  expect(option(args, "-accel")).toEqual(["tcg"]);
  expect(option(args, "-cpu")).toEqual(["max"]);
  expect(option(args, "-kernel")).toEqual(["/g/vmlinux"]);
  expect(option(args, "-m")).toEqual(["256"]);
  expect(option(args, "-smp")).toEqual(["2"]);
  expect(args).toContain("-nodefaults");
  expect(args).toContain("-no-reboot");
});

test("the kernel command line carries console, grace, hostname, then user args last", () => {
  const [append] = option(qemuArgs(spec), "-append");
  expect(append).toMatch(/^console=ttyS0 /);
  expect(append).toContain("supermachine.grace=12");
  expect(append).toContain("supermachine.hostname=box");
  expect(append?.endsWith(" foo=bar")).toBe(true);
});

test("under tcg on an x86_64 Linux host the TSC frequency is passed", () => {
  const [append] = option(qemuArgs(spec), "-append");
  expect(append).toContain("tsc=reliable");
  if (process.platform === "linux" && process.arch === "x64") {
    expect(append).toMatch(/tsc_early_khz=\d{6,}/);
  }
  const [kvmAppend] = option(qemuArgs({ ...spec, accel: "kvm" }), "-append");
  expect(kvmAppend).not.toContain("tsc_early_khz");
  expect(kvmAppend).not.toContain("tsc=reliable");
  expect(option(qemuArgs({ ...spec, accel: "kvm" }), "-cpu")).toEqual(["host"]);
});

test("the agent port is a virtio-serial port named agent on a unix socket", () => {
  const args = qemuArgs(spec);
  expect(option(args, "-chardev")).toContain(
    "socket,id=agent,path=/tmp/sm-1/agent.sock,server=on,wait=off",
  );
  expect(option(args, "-device")).toEqual(
    expect.arrayContaining([
      "virtio-serial-device",
      "virtserialport,chardev=agent,name=agent",
      "virtio-rng-device",
    ]),
  );
  expect(option(args, "-qmp")).toEqual(["unix:/tmp/sm-1/qmp.sock,server=on,wait=off"]);
});

test("disks become virtio-blk devices in order, commas in paths escaped", () => {
  const args = qemuArgs({
    ...spec,
    disks: [
      { path: "/d/a,b.img", readOnly: true },
      { path: "/d/c.qcow2", format: "qcow2" },
    ],
  });
  expect(option(args, "-drive")).toEqual([
    "file=/d/a,,b.img,format=raw,if=none,id=disk0,readonly=on",
    "file=/d/c.qcow2,format=qcow2,if=none,id=disk1",
  ]);
  expect(option(args, "-device")).toEqual(
    expect.arrayContaining(["virtio-blk-device,drive=disk0", "virtio-blk-device,drive=disk1"]),
  );
  expect(escapeOption("a,,b")).toBe("a,,,,b");
});

test("arm64 uses the virt machine and the PL011 console", () => {
  const args = qemuArgs({ ...spec, arch: "arm64", accel: "hvf" });
  expect(option(args, "-M")[0]).toMatch(/^virt/);
  expect(option(args, "-append")[0]).toMatch(/^console=ttyAMA0 /);
  expect(option(args, "-append")[0]).not.toContain("tsc_early_khz");
});

test("guest RAM is always the backend `mem`, anonymous or in a file", () => {
  expect(option(qemuArgs(spec), "-object")).toEqual(["memory-backend-ram,id=mem,size=256M"]);
  const baking = qemuArgs({ ...spec, memoryFile: { path: "/s/a,b/memory", shared: true } });
  expect(option(baking, "-object")).toEqual([
    "memory-backend-file,mem-path=/s/a,,b/memory,share=on,id=mem,size=256M",
  ]);
  expect(option(baking, "-machine")).toEqual(["memory-backend=mem"]);
  const clone = qemuArgs({ ...spec, memoryFile: { path: "/s/memory", shared: false } });
  expect(option(clone, "-object")[0]).toContain("share=off");
});

test("a restore starts QEMU waiting for its state and repeats the baked command line", () => {
  const args = qemuArgs({ ...spec, incoming: true, commandLine: "console=ttyS0 baked" });
  expect(option(args, "-incoming")).toEqual(["defer"]);
  expect(option(args, "-append")).toEqual(["console=ttyS0 baked"]);
  expect(option(qemuArgs(spec), "-incoming")).toEqual([]);
});

test("the machine template hides per-run paths but not what shapes the machine", () => {
  const one = machineTemplate({ ...spec, disks: [{ path: "/a/disk.qcow2", format: "qcow2" }] });
  const other = machineTemplate({
    ...spec,
    kernel: "/elsewhere/vmlinux",
    qmpSocket: "/tmp/sm-2/qmp.sock",
    agentSocket: "/tmp/sm-2/agent.sock",
    disks: [{ path: "/b/overlay.qcow2", format: "qcow2" }],
    memoryFile: { path: "/b/memory", shared: false },
    commandLine: "anything",
  });
  expect(other).toEqual(
    machineTemplate({
      ...spec,
      memoryFile: { path: "/x", shared: true },
      disks: [{ path: "/x", format: "qcow2" }],
    }),
  );
  expect(one.join(" ")).not.toMatch(/\/a\/|sm-1/);
  expect(machineTemplate({ ...spec, memoryMib: 512 })).not.toEqual(machineTemplate(spec));
  expect(machineTemplate({ ...spec, accel: "kvm" })).not.toEqual(machineTemplate(spec));
});
