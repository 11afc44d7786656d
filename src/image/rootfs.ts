import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { invalidArgument } from "../errors.js";
import { isGzipLayer, OCI_LAYER_TAR } from "../oci/media-types.js";
import { cacheDir } from "../util/cache-dir.js";
import { debugFor } from "../util/debug.js";
import { Vm } from "../vm.js";

const log = debugFor("rootfs");

/**
 * Bump when the way layers become a filesystem changes (the agent's layer
 * applier, mkfs options), so cached root filesystems are rebuilt.
 */
const ROOTFS_FORMAT = 1;
const MiB = 1024 * 1024;

export interface LayerBlob {
  digest: string;
  mediaType: string;
  /** Compressed size in bytes, from the manifest. */
  size: number;
  /** The verified blob in the content store. */
  path: string;
}

export interface RootfsOptions {
  /** Disk size; default: 1.5 times the uncompressed layers plus 256 MiB. */
  diskSizeMib?: number;
}

/**
 * The ext4 root filesystem of an image, built once per manifest digest by a
 * scratch VM that formats a disk and applies the layers inside the guest (so
 * ownership, devices and whiteouts come out exactly right and a hostile tar
 * never touches the host). Returns the path of the read-only base image.
 */
export async function rootfsFor(
  manifestDigest: string,
  layers: LayerBlob[],
  options: RootfsOptions = {},
): Promise<string> {
  const dir = join(cacheDir(), "rootfs");
  const sizeTag = options.diskSizeMib === undefined ? "auto" : `${options.diskSizeMib}m`;
  const name = `${manifestDigest.replace(":", "-")}-v${ROOTFS_FORMAT}-${sizeTag}.ext4`;
  const path = join(dir, name);
  if (await exists(path)) return path;
  const sizeMib = await diskSize(layers, options.diskSizeMib);

  await mkdir(dir, { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await createSparse(temp, sizeMib * MiB);
    await applyLayers(temp, layers);
    // Two processes may build the same root at once; either result is
    // complete, and rename replaces atomically.
    await rename(temp, path);
    return path;
  } finally {
    await rm(temp, { force: true });
  }
}

async function applyLayers(disk: string, layers: LayerBlob[]): Promise<void> {
  const started = Date.now();
  await using vm = await Vm.boot({ disks: [{ path: disk, format: "raw" }], memoryMib: 256 });
  await request(vm, { op: "mkfs", device: "/dev/vda", fstype: "ext4", label: "rootfs" });
  await request(vm, { op: "mount", source: "/dev/vda", target: "/mnt/rootfs", fstype: "ext4" });
  for (const layer of layers) {
    // Decompress on the host: under emulation the guest inflates several
    // times slower than the port carries the larger, plain tar.
    const gzip = isGzipLayer(layer.mediaType);
    const mediaType = gzip ? OCI_LAYER_TAR : layer.mediaType;
    const stream = vm.agentStream(
      { op: "applyLayer", root: "/mnt/rootfs", mediaType },
      { inbound: [], outbound: [0] },
    );
    await stream.opened;
    const source = createReadStream(layer.path);
    if (gzip) await pipeline(source, createGunzip(), stream.outbound(0));
    else await pipeline(source, stream.outbound(0));
    const result = await stream.result;
    log("applied %s: %o", layer.digest, result);
  }
  await request(vm, { op: "unmount", target: "/mnt/rootfs" });
  log("built %s in %d ms", disk, Date.now() - started);
}

async function request(vm: Vm, body: Record<string, unknown>) {
  return vm.agentStream(body, { inbound: [], outbound: [] }).result;
}

async function diskSize(layers: LayerBlob[], override: number | undefined): Promise<number> {
  if (override !== undefined) {
    if (Number.isInteger(override) && override >= 64) return override;
    return invalidArgument("diskSizeMib", "an integer of at least 64", override);
  }
  // Manifests give only compressed sizes, so inflate once to count. Half as
  // much again covers ext4's per-file blocks and inodes, and 256 MiB is room
  // for the workload's own writes; the file is sparse, so unused room is free.
  let bytes = 0;
  for (const layer of layers) bytes += await uncompressedSize(layer);
  return Math.ceil((1.5 * bytes) / MiB) + 256;
}

async function uncompressedSize(layer: LayerBlob): Promise<number> {
  if (!isGzipLayer(layer.mediaType)) return (await stat(layer.path)).size;
  let bytes = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  await pipeline(createReadStream(layer.path), createGunzip(), counter);
  return bytes;
}

async function createSparse(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "w");
  try {
    await handle.truncate(bytes);
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
