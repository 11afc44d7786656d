import { constants } from "node:fs";
import { access, mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { AcceleratorVerdict } from "../../engine/accelerator.js";
import { hardwareCandidate } from "../../engine/accelerator.js";
import type { GuestArch } from "../../engine/guest-arch.js";
import { type GuestAssets, guestAssets } from "../../engine/guest-assets.js";
import { findQemu, type QemuBinary } from "../../engine/qemu-binary.js";
import { cacheDir } from "../../util/cache-dir.js";
import { Vm } from "../../vm.js";
import { diskUsage } from "../cache/disk-usage.js";
import { formatBytes, shortDigest } from "../output/format.js";
import { namesDir, vmsDir } from "../state/state-dir.js";
import { listVmRecords } from "../state/vm-records.js";

export interface Check {
  name: string;
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  /** What to do about a warning or a failure. */
  fix?: string;
}

const MIN_NODE_MAJOR = 20;
const SETPRIV = "/usr/bin/setpriv";

export function checkNode(): Check {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return { name: "node", status: "ok", detail: process.version };
  return {
    name: "node",
    status: "fail",
    detail: `${process.version} is too old`,
    fix: `Install Node.js ${MIN_NODE_MAJOR} or later.`,
  };
}

export async function checkQemu(arch: GuestArch): Promise<[Check, QemuBinary | undefined]> {
  try {
    const qemu = await findQemu(arch);
    return [{ name: "qemu", status: "ok", detail: `${qemu.path} (version ${qemu.version})` }, qemu];
  } catch (error) {
    const message = (error as Error).message;
    return [{ name: "qemu", status: "fail", detail: "not usable", fix: message }, undefined];
  }
}

export async function checkQemuImg(qemu: QemuBinary | undefined): Promise<Check> {
  if (!qemu) return { name: "qemu-img", status: "skip", detail: "needs QEMU first" };
  const path = join(dirname(qemu.path), "qemu-img");
  const found = await access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (found) return { name: "qemu-img", status: "ok", detail: path };
  return {
    name: "qemu-img",
    status: "fail",
    detail: `${path} is missing; VMs need it for their disk overlays`,
    fix: "On Debian or Ubuntu: `sudo apt-get install qemu-utils`; elsewhere it comes with QEMU.",
  };
}

export async function checkSetpriv(): Promise<Check> {
  if (process.platform !== "linux") {
    return { name: "setpriv", status: "skip", detail: "Linux only" };
  }
  const found = await access(SETPRIV, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (found)
    return { name: "setpriv", status: "ok", detail: `${SETPRIV}: QEMU dies with its owner` };
  return {
    name: "setpriv",
    status: "warn",
    detail: "missing: a VM whose owner is killed runs on until its grace period ends",
    fix: "Install util-linux (`sudo apt-get install util-linux`).",
  };
}

export async function checkGuest(arch: GuestArch): Promise<[Check, GuestAssets | undefined]> {
  try {
    const assets = await guestAssets(arch);
    await access(assets.kernel, constants.R_OK);
    await access(assets.initrd, constants.R_OK);
    const detail =
      `${assets.dir} (kernel ${shortDigest(assets.kernelSha256)}, ` +
      `agent ${shortDigest(assets.agentSha256)})`;
    return [{ name: "guest", status: "ok", detail }, assets];
  } catch (error) {
    const message = (error as Error).message;
    const fix = message.includes("npm run build:guest")
      ? message
      : `${message}. Rebuild them with \`npm run build:guest\`.`;
    return [{ name: "guest", status: "fail", detail: "kernel or agent missing", fix }, undefined];
  }
}

export async function checkAccelerator(
  ready: boolean,
): Promise<[Check, AcceleratorVerdict | undefined]> {
  if (!ready)
    return [{ name: "accel", status: "skip", detail: "needs QEMU and the guest first" }, undefined];
  const verdict = await Vm.accelerator();
  const how = `${verdict.accel}: ${verdict.reason}${verdict.cached ? " (cached verdict)" : ""}`;
  if (verdict.accel !== "tcg" || verdict.reason.startsWith("forced")) {
    return [{ name: "accel", status: "ok", detail: how }, verdict];
  }
  const hardware = hardwareCandidate();
  const fix = hardware.accel
    ? `${hardware.accel} is there but could not run a guest (a nested hypervisor?). VMs run ` +
      "under software emulation, several times slower. Set SUPERMACHINE_ACCEL=tcg to skip the probe."
    : process.platform === "linux"
      ? "Enable virtualization in the firmware, load kvm_intel or kvm_amd, and give your user " +
        "access to /dev/kvm (`sudo usermod -aG kvm $USER`, then log in again)."
      : "No hardware accelerator is available here; VMs run under software emulation.";
  return [{ name: "accel", status: "warn", detail: how, fix }, verdict];
}

export interface CacheReport {
  dir: string;
  bytes: number;
  parts: Record<string, number>;
}

export async function checkCache(): Promise<[Check, CacheReport]> {
  const dir = cacheDir();
  const writable = await mkdir(dir, { recursive: true })
    .then(() => access(dir, constants.W_OK))
    .then(
      () => true,
      () => false,
    );
  const parts: Record<string, number> = {};
  const seen = new Set<string>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    parts[name] = await diskUsage(join(dir, name), seen);
  }
  const bytes = Object.values(parts).reduce((sum, part) => sum + part, 0);
  const report = { dir, bytes, parts };
  if (!writable) {
    const fix = "Make it writable, or set SUPERMACHINE_CACHE_DIR to a directory that is.";
    return [{ name: "cache", status: "fail", detail: `${dir} is not writable`, fix }, report];
  }
  const big = Object.entries(parts)
    .filter(([, size]) => size > 0)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 3)
    .map(([name, size]) => `${name} ${formatBytes(size)}`)
    .join(", ");
  const detail = `${dir}, ${formatBytes(bytes)}${big ? ` (${big})` : ""}`;
  return [{ name: "cache", status: "ok", detail }, report];
}

export async function checkState(): Promise<Check> {
  const running = (await listVmRecords()).length;
  return {
    name: "state",
    status: "ok",
    detail: `VMs in ${vmsDir()} (${running} running), names in ${namesDir()}`,
  };
}
