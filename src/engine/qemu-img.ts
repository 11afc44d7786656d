import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { SupermachineError } from "../errors.js";
import type { GuestArch } from "./guest-arch.js";
import { findQemu } from "./qemu-binary.js";

const run = promisify(execFile);

/** Runs the `qemu-img` installed beside the QEMU that runs `arch` guests. */
export async function qemuImg(arch: GuestArch, args: string[], cwd?: string): Promise<void> {
  const qemu = await findQemu(arch);
  const binary = join(dirname(qemu.path), "qemu-img");
  try {
    await run(binary, args, { cwd });
  } catch (cause) {
    const said = (cause as { stderr?: string }).stderr?.trim() || String(cause);
    throw new SupermachineError("QEMU_EXITED", `qemu-img ${args[0]} failed: ${said}`, { cause });
  }
}

/** An empty qcow2 at `path` whose reads fall through to `backing`. */
export function createOverlay(
  arch: GuestArch,
  path: string,
  backing: string,
  backingFormat: "raw" | "qcow2",
): Promise<void> {
  return qemuImg(arch, ["create", "-q", "-f", "qcow2", "-F", backingFormat, "-b", backing, path]);
}
