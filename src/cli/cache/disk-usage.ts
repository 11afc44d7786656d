import { lstat, readdir, rm, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * Disk space really used under `path`, as `du` counts it: allocated blocks,
 * not apparent sizes (memory files and root filesystems are sparse), and
 * each hard-linked file once (a snapshot links its image's root filesystem).
 */
export async function diskUsage(path: string, seen = new Set<string>()): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 0;
  const inode = `${info.dev}:${info.ino}`;
  if (seen.has(inode)) return 0;
  seen.add(inode);
  let bytes = info.blocks * 512;
  if (info.isDirectory()) {
    for (const name of await readdir(path).catch(() => [] as string[])) {
      bytes += await diskUsage(join(path, name), seen);
    }
  }
  return bytes;
}

/**
 * Removes `path` (a file or a tree) and returns the space that frees: the
 * blocks of each file whose last link this was, and of each directory. A
 * file still linked elsewhere frees nothing, and is not counted.
 */
export async function removeCounting(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) {
    const unlinked = await unlink(path).then(
      () => true,
      () => false,
    );
    return unlinked && info.nlink === 1 ? info.blocks * 512 : 0;
  }
  let bytes = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) {
    bytes += await removeCounting(join(path, name));
  }
  await rmdir(path).catch(() => rm(path, { recursive: true, force: true }));
  return bytes + info.blocks * 512;
}
