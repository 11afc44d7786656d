import { createHash, type Hash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { invalidArgument, SupermachineError } from "../errors.js";

// Names the encoding below, so that a future change to it can never produce
// a hash equal to one computed the old way.
const FORMAT = "supermachine-directory-hash-v1";

export interface HashDirectoryOptions {
  /**
   * Returns true for a relative POSIX path (`"sub/file.sql"`) to leave out.
   * A directory left out is not descended into.
   */
  ignore?: (relativePath: string) => boolean;
}

interface Entry {
  path: string;
  sortKey: Buffer;
  stats: Stats;
}

/**
 * Hashes a directory's content into `"sha256:<hex>"`: every file's relative
 * path, executable bit and bytes, every symlink's target, every directory
 * (empty ones included), but no timestamps or owners, so the same tree
 * checked out anywhere hashes the same. Pass it as a snapshot's `setupKey`
 * so that editing, say, a migrations folder bakes a new snapshot.
 *
 * @example
 * const setupKey = await hashDirectory("db/migrations", {
 *   ignore: (path) => path.endsWith(".md"),
 * });
 */
export async function hashDirectory(
  dir: string,
  options: HashDirectoryOptions = {},
): Promise<string> {
  if (typeof dir !== "string" || dir === "") invalidArgument("dir", "a directory path", dir);
  const ignore = options.ignore ?? (() => false);
  if (typeof ignore !== "function") invalidArgument("ignore", "a function", ignore);
  await checkDirectory(dir);

  const entries = await listEntries(dir, "", ignore);
  // Byte order of the whole relative path, not a walk order, so the result
  // does not depend on how readdir or this walk happen to order things.
  entries.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));

  const hash = createHash("sha256");
  field(hash, FORMAT);
  for (const entry of entries) await hashEntry(hash, join(dir, entry.path), entry);
  return `sha256:${hash.digest("hex")}`;
}

async function checkDirectory(dir: string): Promise<void> {
  const stats = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT" && error.code !== "ENOTDIR") throw error;
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      `Cannot hash directory ${dir}: it does not exist. Pass the path of an existing ` +
        `directory; a relative path is resolved against ${process.cwd()}.`,
      { cause: error },
    );
  });
  if (!stats.isDirectory()) {
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      `Cannot hash directory ${dir}: it is not a directory. To key on one file, ` +
        "pass the directory that holds it with an `ignore` for the rest.",
    );
  }
}

/** Every entry under `dir/relative`, recursively, minus what `ignore` rejects. */
async function listEntries(
  root: string,
  relative: string,
  ignore: (relativePath: string) => boolean,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const name of await readdir(join(root, relative))) {
    const path = relative === "" ? name : posix.join(relative, name);
    if (ignore(path)) continue;
    // lstat, not stat: a symlink is hashed as a link, never followed, so a
    // link out of the tree cannot pull outside content (or a cycle) in.
    const stats = await lstat(join(root, path));
    entries.push({ path, sortKey: Buffer.from(path), stats });
    if (stats.isDirectory()) entries.push(...(await listEntries(root, path, ignore)));
  }
  return entries;
}

async function hashEntry(hash: Hash, absolute: string, entry: Entry): Promise<void> {
  const { path, stats } = entry;
  if (stats.isFile()) {
    field(hash, "file");
    field(hash, path);
    field(hash, (stats.mode & 0o111) === 0 ? "-" : "x");
    // The content's own digest is a fixed-length field, so the file can be
    // streamed without trusting a size taken before reading it.
    hash.update(await hashFile(absolute));
  } else if (stats.isDirectory()) {
    field(hash, "dir");
    field(hash, path);
  } else if (stats.isSymbolicLink()) {
    field(hash, "symlink");
    field(hash, path);
    field(hash, await readlink(absolute));
  } else {
    // A socket, FIFO or device: reading it could block or never end, and
    // its content is not part of the tree anyway, so only its name counts.
    field(hash, "special");
    field(hash, path);
  }
}

async function hashFile(path: string): Promise<Buffer> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}

/** Writes one length-prefixed field, so no two sequences of fields collide. */
function field(hash: Hash, value: string): void {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  hash.update(length).update(bytes);
}
