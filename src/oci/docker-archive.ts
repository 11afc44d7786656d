import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { GuestArch } from "../engine/guest-arch.js";
import { SupermachineError } from "../errors.js";
import type { ContentStore } from "./content-store.js";
import { parseImageConfig } from "./image-config.js";
import type { ImageRecord } from "./image-record.js";
import type { Descriptor } from "./manifest.js";
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST } from "./media-types.js";
import { checkImage, imageFromStore, type PulledImage } from "./pulled-image.js";
import { indexTar, type TarEntry } from "./tar-index.js";

interface ArchiveManifest {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

/**
 * Copies the image in a `docker save` archive into the store. The archive has
 * no registry manifest, so one is written (OCI media types) to give the image
 * a manifest digest like any other.
 */
export async function loadDockerArchive(path: string, store: ContentStore, arch: GuestArch) {
  const name = `docker-archive:${path}`;
  const entries = await indexTar(path).catch((error) => {
    throw new SupermachineError("INVALID_IMAGE", `Cannot read ${path} as a tar archive.`, {
      cause: error,
    });
  });
  const listing = await entryBytes(path, entries, "manifest.json", name);
  const manifests = JSON.parse(listing.toString("utf8"));
  if (!Array.isArray(manifests) || manifests.length !== 1) {
    const count = Array.isArray(manifests) ? manifests.length : 0;
    throw new SupermachineError(
      "INVALID_IMAGE",
      `${name} holds ${count} images; only archives of exactly one image are supported. ` +
        "Save one image per file (`docker save -o x.tar image:tag`).",
    );
  }
  const entry = manifests[0] as ArchiveManifest;
  if (typeof entry.Config !== "string" || !Array.isArray(entry.Layers)) {
    throw new SupermachineError("INVALID_IMAGE", `${name}: manifest.json lacks Config or Layers.`);
  }

  const configBytes = await entryBytes(path, entries, entry.Config, name);
  const config = await store.ingest(configBytes);
  const parsed = parseImageConfig(configBytes, name);
  const layers: Descriptor[] = [];
  for (const layerPath of entry.Layers) {
    const at = entries.get(layerPath);
    if (!at) throw missing(name, layerPath);
    const stored = await store.ingest(stream(path, at));
    const gzip = await isGzip(path, at);
    layers.push({ mediaType: gzip ? OCI_LAYER_GZIP : OCI_LAYER_TAR, ...stored });
  }
  checkDiffIds(configBytes, layers, name);
  const platform = checkImage(layers, parsed, arch, name);

  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers,
    }),
  );
  const manifestDigest = (await store.ingest(manifest)).digest;
  const record: ImageRecord = {
    reference: name,
    manifestDigest,
    configDigest: config.digest,
    layers: layers.map((l) => l.digest),
    platform,
  };
  await store.recordImage(record);
  return imageFromStore(store, record, layers, false) satisfies Promise<PulledImage>;
}

/**
 * The archive's layer files carry no digest of their own; the config's
 * `rootfs.diff_ids` does, for the uncompressed tar. `docker save` writes
 * uncompressed layers, so for those the check is free.
 */
function checkDiffIds(configBytes: Buffer, layers: Descriptor[], name: string): void {
  const diffIds: unknown = JSON.parse(configBytes.toString("utf8"))?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds)) return;
  layers.forEach((layer, i) => {
    if (layer.mediaType !== OCI_LAYER_TAR || diffIds[i] === layer.digest) return;
    throw new SupermachineError(
      "DIGEST_MISMATCH",
      `Layer ${i + 1} of ${name} hashes to ${layer.digest} but the image config lists ` +
        `${String(diffIds[i])}; the archive is corrupt. Save the image again.`,
    );
  });
}

function stream(path: string, at: TarEntry) {
  // An empty entry still needs a stream; `end` is inclusive.
  if (at.size === 0) return new Uint8Array(0);
  return createReadStream(path, { start: at.offset, end: at.offset + at.size - 1 });
}

async function entryBytes(
  path: string,
  entries: Map<string, TarEntry>,
  file: string,
  name: string,
) {
  const at = entries.get(file);
  if (!at) throw missing(name, file);
  const handle = await open(path, "r");
  try {
    const bytes = Buffer.alloc(at.size);
    await handle.read(bytes, 0, at.size, at.offset);
    return bytes;
  } finally {
    await handle.close();
  }
}

async function isGzip(path: string, at: TarEntry): Promise<boolean> {
  if (at.size < 2) return false;
  const handle = await open(path, "r");
  try {
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, at.offset);
    return magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function missing(name: string, file: string): SupermachineError {
  return new SupermachineError(
    "INVALID_IMAGE",
    `${name} has no ${file}; it is not a \`docker save\` archive.`,
  );
}
