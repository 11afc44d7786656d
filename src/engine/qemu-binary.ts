import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { SupermachineError } from "../errors.js";
import type { GuestArch } from "./guest-arch.js";

const run = promisify(execFile);

export interface QemuBinary {
  path: string;
  /** e.g. "7.2.22" */
  version: string;
}

const installHint: Record<string, string> = {
  linux: "On Debian or Ubuntu: `sudo apt-get install qemu-system-x86` (or qemu-system-arm).",
  darwin: "On macOS: `brew install qemu`.",
  win32: "On Windows: install QEMU from qemu.org and add it to PATH.",
};

/**
 * Finds `qemu-system-<arch>`: `SUPERMACHINE_QEMU` if set, else the first match
 * on PATH. Throws QEMU_NOT_FOUND with the install command for this OS.
 */
export async function findQemu(arch: GuestArch): Promise<QemuBinary> {
  const name = `qemu-system-${arch === "arm64" ? "aarch64" : "x86_64"}`;
  const path = process.env.SUPERMACHINE_QEMU || searchPath(name);
  if (!path) {
    const hint = installHint[process.platform] ?? "Install QEMU and put it on PATH.";
    throw new SupermachineError(
      "QEMU_NOT_FOUND",
      `${name} was not found on PATH. ${hint} Or set SUPERMACHINE_QEMU to its path.`,
    );
  }
  return { path, version: await versionOf(path) };
}

// Asking QEMU its version spawns a process, which costs more than a clone
// restore should; it is asked once per binary, and again only if the file
// at that path changes (an upgrade). Failures are not remembered.
const versions = new Map<string, Promise<string>>();

async function versionOf(path: string): Promise<string> {
  const modified = await stat(path).then(
    (info) => info.mtimeMs,
    () => -1,
  );
  const key = `${path}\0${modified}`;
  let version = versions.get(key);
  if (!version) {
    version = askVersion(path);
    versions.set(key, version);
    version.catch(() => versions.delete(key));
  }
  return version;
}

async function askVersion(path: string): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run(path, ["--version"], { timeout: 10_000 }));
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    const problem = missing ? "does not exist." : "--version failed; is it QEMU?";
    const fix = process.env.SUPERMACHINE_QEMU
      ? " Point SUPERMACHINE_QEMU at qemu-system-<arch>, or unset it to search PATH."
      : "";
    throw new SupermachineError("QEMU_NOT_FOUND", `${path} ${problem}${fix}`, { cause });
  }
  const version = /version (\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1];
  if (!version) {
    throw new SupermachineError("QEMU_NOT_FOUND", `${path} did not report a QEMU version.`);
  }
  return version;
}

function searchPath(name: string): string | undefined {
  const suffixes = process.platform === "win32" ? [".exe", ""] : [""];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const suffix of suffixes) {
      const candidate = join(dir, name + suffix);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not in this directory; keep looking
      }
    }
  }
  return undefined;
}
