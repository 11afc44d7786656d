import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { copyFile, link, mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GuestArch } from "../engine/guest-arch.js";
import { createOverlay, qemuImg } from "../engine/qemu-img.js";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import type { SnapshotManifest } from "./manifest.js";
import { BASE_FILE, DISK_FILE, MANIFEST_FILE, MEMORY_FILE, STATE_FILE } from "./manifest.js";

const log = debugFor("snapshot");

/**
 * Builds a snapshot in a temporary directory beside its final place and
 * renames it there only when every file is complete and synced, so a crash
 * or an error at any step leaves nothing `Snapshot.open` would accept.
 */
export class SnapshotWriter {
  readonly dir: string;
  readonly target: string;
  readonly #arch: GuestArch;

  private constructor(dir: string, target: string, arch: GuestArch) {
    this.dir = dir;
    this.target = target;
    this.#arch = arch;
  }

  /** Starts a snapshot that will live at `target` (which must not exist yet). */
  static async create(target: string, arch: GuestArch): Promise<SnapshotWriter> {
    await mkdir(dirname(target), { recursive: true });
    if (await exists(target)) {
      throw new SupermachineError(
        "INVALID_ARGUMENT",
        `${target} already exists. Snapshot into a new directory, or delete it first.`,
      );
    }
    const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
    const dir = `${target}.tmp-${suffix}`;
    await mkdir(dir);
    return new SnapshotWriter(dir, target, arch);
  }

  path(name: typeof MEMORY_FILE | typeof STATE_FILE | typeof DISK_FILE | "full-state"): string {
    return join(this.dir, name);
  }

  /**
   * Puts the image's raw root filesystem in the snapshot as `base.ext4`: a
   * hard link (the cache never rewrites a finished base), else a reflink or
   * copy. The snapshot then stands alone and can be moved.
   */
  async addBase(base: string): Promise<string> {
    const inside = join(this.dir, BASE_FILE);
    await link(base, inside).catch(() => copyFile(base, inside, constants.COPYFILE_FICLONE));
    return inside;
  }

  /** An empty qcow2 over `base.ext4`, by relative name so the directory can move. */
  async createDisk(): Promise<string> {
    await createOverlay(this.#arch, this.path(DISK_FILE), BASE_FILE, "raw");
    return this.path(DISK_FILE);
  }

  /**
   * Copies what the guest wrote on `disk` (a qcow2 whose chain ends in the
   * same base) into the snapshot's own `disk.qcow2` over `base.ext4`.
   */
  async copyDisk(disk: string): Promise<void> {
    const args = ["convert", "-q", "-O", "qcow2", "-B", BASE_FILE, "-F", "raw", disk, DISK_FILE];
    await qemuImg(this.#arch, args, this.dir);
  }

  /** Size and digest of the device state, for the manifest. */
  async describeState(): Promise<SnapshotManifest["files"]["state"]> {
    const path = this.path(STATE_FILE);
    const { size } = await stat(path);
    return { bytes: size, sha256: await sha256File(path) };
  }

  /** Writes the manifest, syncs everything and renames the directory into place. */
  async commit(manifest: SnapshotManifest): Promise<void> {
    await writeFile(join(this.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const name of [MEMORY_FILE, STATE_FILE, DISK_FILE, MANIFEST_FILE]) {
      await syncFile(join(this.dir, name));
    }
    await syncFile(this.dir);
    await rename(this.dir, this.target);
    await syncFile(dirname(this.target));
    log("snapshot ready in %s", this.target);
  }

  /** Removes the temporary directory; safe after commit (then a no-op). */
  async abandon(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** fsync a file or directory; a missing one (no disk on a scratch VM) is skipped. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
