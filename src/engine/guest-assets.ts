import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SupermachineError } from "../errors.js";
import type { GuestArch } from "./guest-arch.js";

export interface GuestAssets {
  dir: string;
  kernel: string;
  initrd: string;
  kernelSha256: string;
  initrdSha256: string;
  agentSha256: string;
}

interface AssetManifest {
  kernel: { file: string; sha256: string };
  initramfs: { file: string; sha256: string };
  agent: { sha256: string };
}

// src/engine/ and dist/engine/ are both two levels below the package root.
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The kernel and initramfs for `arch`: from `SUPERMACHINE_GUEST_DIR/<arch>` if
 * set, else `guest/<arch>` in this package, as written by
 * `scripts/build-guest.sh`.
 */
export async function guestAssets(arch: GuestArch): Promise<GuestAssets> {
  const base = process.env.SUPERMACHINE_GUEST_DIR || join(packageRoot, "guest");
  const dir = join(base, arch);
  let manifest: AssetManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  } catch (cause) {
    throw new SupermachineError(
      "GUEST_ASSETS_NOT_FOUND",
      `No guest kernel and agent for ${arch} in ${dir}. Build them with ` +
        "`npm run build:guest` (Debian: needs linux-source-6.1, busybox-static, flex, bison, " +
        "bc, libelf-dev), or point SUPERMACHINE_GUEST_DIR at a directory that has them.",
      { cause },
    );
  }
  return {
    dir,
    kernel: join(dir, manifest.kernel.file),
    initrd: join(dir, manifest.initramfs.file),
    kernelSha256: manifest.kernel.sha256,
    initrdSha256: manifest.initramfs.sha256,
    agentSha256: manifest.agent.sha256,
  };
}
