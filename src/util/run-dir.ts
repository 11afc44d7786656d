import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debugFor } from "./debug.js";
import { isAlive } from "./process-alive.js";

const log = debugFor("cleanup");
const OWNER_FILE = "owner.pid";
let swept: Promise<void> | undefined;

/**
 * A private directory for one VM's sockets and disk overlay, marked with the
 * pid of this process. Unix socket paths are limited to about 100 bytes, so
 * it lives directly under the temp directory with a short name.
 */
export async function createRunDir(prefix: "sm-"): Promise<string> {
  swept ??= sweepStaleRunDirs().catch((error) => log("sweep failed: %O", error));
  await swept;
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}

/**
 * Removes run directories whose owning process is gone. A test runner killed
 * with SIGKILL cannot clean up; its QEMU dies with it (or powers off after
 * the grace period), and the next process to start a VM removes what is left
 * of its sockets and overlays. Directories without an owner file are not ours.
 */
export async function sweepStaleRunDirs(): Promise<void> {
  const base = tmpdir();
  for (const name of await readdir(base)) {
    if (!name.startsWith("sm-")) continue;
    const dir = join(base, name);
    const owner = await readFile(join(dir, OWNER_FILE), "utf8").then(
      (text) => Number.parseInt(text, 10),
      () => undefined,
    );
    if (owner === undefined || Number.isNaN(owner) || isAlive(owner)) continue;
    log("removing %s, left by pid %d", dir, owner);
    await rm(dir, { recursive: true, force: true });
  }
}
