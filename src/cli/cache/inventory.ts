import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SupermachineError } from "../../errors.js";
import { ContentStore, type ImageRecord } from "../../oci/index.js";
import type { SnapshotManifest } from "../../snapshot/manifest.js";
import { Snapshot } from "../../snapshot/snapshot.js";
import { cacheDir } from "../../util/cache-dir.js";
import { listNames } from "../state/snapshot-names.js";
import { diskUsage } from "./disk-usage.js";

/** An image in the local store, as `images` lists it. */
export interface ImageEntry {
  reference: string;
  manifestDigest: string;
  platform: string;
  /** Manifest, config and layers in the store (shared with other images). */
  blobBytes: number;
  /** Its built root filesystems, which `run` and `bake` use. */
  rootfs: { path: string; bytes: number }[];
  record: ImageRecord;
}

/** A snapshot directory in the cache, as `snapshots` lists it. */
export interface SnapshotEntry {
  id: string;
  dir: string;
  names: string[];
  image: string | null;
  manifestDigest: string | null;
  createdAt: string | null;
  bytes: number;
  /** `ok`, or why it cannot be restored here. */
  status: string;
  restorable: boolean | null;
}

export function snapshotsDir(): string {
  return join(cacheDir(), "snapshots");
}

export function rootfsDir(): string {
  return join(cacheDir(), "rootfs");
}

export async function listImages(store = new ContentStore()): Promise<ImageEntry[]> {
  const records = await store.listImages();
  const disks = await readdir(rootfsDir()).catch(() => [] as string[]);
  const entries: ImageEntry[] = [];
  for (const record of records.sort((a, b) => a.reference.localeCompare(b.reference))) {
    const digests = [record.manifestDigest, record.configDigest, ...record.layers];
    let blobBytes = 0;
    for (const digest of digests) {
      blobBytes += await stat(store.blobPath(digest)).then(
        (info) => info.size,
        () => 0,
      );
    }
    const prefix = record.manifestDigest.replace(":", "-");
    const rootfs = [];
    for (const name of disks.filter((n) => n.startsWith(prefix) && n.endsWith(".ext4"))) {
      const path = join(rootfsDir(), name);
      rootfs.push({ path, bytes: await diskUsage(path) });
    }
    const { os, architecture, variant } = record.platform;
    const platform = [os, architecture, variant].filter(Boolean).join("/");
    entries.push({ ...pick(record), platform, blobBytes, rootfs, record });
  }
  return entries;
}

function pick(record: ImageRecord) {
  return { reference: record.reference, manifestDigest: record.manifestDigest };
}

/**
 * The snapshots in the cache with their names, size and whether this host
 * can restore them. Bakes in progress (`.tmp-` directories) and lock files
 * are not snapshots and are left out.
 */
export async function listSnapshots(options: { check?: boolean } = {}): Promise<SnapshotEntry[]> {
  const names = await listNames();
  const entries: SnapshotEntry[] = [];
  const ids = await readdir(snapshotsDir()).catch(() => [] as string[]);
  for (const id of ids.sort()) {
    if (id.includes(".tmp-") || id.endsWith(".lock")) continue;
    const dir = resolve(snapshotsDir(), id);
    if (!(await stat(dir)).isDirectory()) continue;
    const manifest = await readManifest(dir);
    const checked = options.check === false ? undefined : await restorable(dir);
    entries.push({
      id,
      dir,
      names: names.filter((entry) => resolve(entry.dir) === dir).map((entry) => entry.name),
      image: manifest?.image?.reference ?? null,
      manifestDigest: manifest?.image?.manifestDigest ?? null,
      createdAt: manifest?.createdAt ?? null,
      bytes: await diskUsage(dir),
      status: checked?.status ?? "unchecked",
      restorable: checked?.restorable ?? null,
    });
  }
  return entries;
}

async function readManifest(dir: string): Promise<SnapshotManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  } catch {
    // No manifest: an incomplete or damaged snapshot; `restorable` says which.
    return undefined;
  }
}

/**
 * Whether `Snapshot.open` accepts the snapshot. Only its verdicts on the
 * snapshot itself count: without QEMU or guest assets nothing can be said.
 */
async function restorable(dir: string): Promise<{ status: string; restorable: boolean | null }> {
  try {
    await Snapshot.open(dir);
    return { status: "ok", restorable: true };
  } catch (error) {
    if (!(error instanceof SupermachineError)) throw error;
    const reason = error.message.split("\n")[0] ?? error.code;
    const verdicts = ["SNAPSHOT_NOT_FOUND", "SNAPSHOT_CORRUPT", "SNAPSHOT_INCOMPATIBLE"];
    if (verdicts.includes(error.code)) return { status: statusOf(error.code), restorable: false };
    return { status: `unknown: ${reason}`, restorable: null };
  }
}

function statusOf(code: string): string {
  if (code === "SNAPSHOT_INCOMPATIBLE") return "incompatible (another QEMU, accelerator or guest)";
  return "damaged";
}
