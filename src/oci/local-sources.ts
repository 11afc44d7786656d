import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GuestArch } from "../engine/guest-arch.js";
import { SupermachineError } from "../errors.js";
import { counted } from "./body.js";
import type { ContentStore } from "./content-store.js";
import { loadDockerArchive } from "./docker-archive.js";
import { parseImageConfig } from "./image-config.js";
import type { ImageRecord } from "./image-record.js";
import { type Descriptor, parseManifest } from "./manifest.js";
import { OCI_INDEX } from "./media-types.js";
import { selectPlatform } from "./platform.js";
import type { PullOptions } from "./pull.js";
import { checkImage, imageFromStore, type PulledImage } from "./pulled-image.js";
import type { ImageSource } from "./reference.js";

const REF_NAME = "org.opencontainers.image.ref.name";

/**
 * Copies an image from an OCI layout directory or `docker save` archive into
 * the store. `onProgress` hears of an OCI layout's layers only.
 */
export function loadLocalSource(
  source: Exclude<ImageSource, { kind: "registry" }>,
  store: ContentStore,
  arch: GuestArch,
  onProgress?: PullOptions["onProgress"],
): Promise<PulledImage> {
  return source.kind === "oci-layout"
    ? loadOciLayout(source.path, source.tag, store, arch, onProgress)
    : loadDockerArchive(source.path, store, arch);
}

async function loadOciLayout(
  dir: string,
  tag: string | undefined,
  store: ContentStore,
  arch: GuestArch,
  onProgress: PullOptions["onProgress"],
) {
  const name = `oci:${dir}${tag ? `:${tag}` : ""}`;
  const layout = await readFile(join(dir, "oci-layout"), "utf8").catch(() => undefined);
  if (!layout?.includes("imageLayoutVersion")) {
    throw new SupermachineError(
      "INVALID_IMAGE",
      `${dir} is not an OCI image layout: it has no oci-layout file. Point \`oci:\` at the ` +
        "directory made by `skopeo copy … oci:<dir>` or `docker buildx … --output type=oci`.",
    );
  }
  const index = parseManifest(await readFile(join(dir, "index.json")), OCI_INDEX, name);
  if (index.kind !== "index")
    throw new SupermachineError("INVALID_IMAGE", `${name}: bad index.json.`);

  let chosen = pickByTag(index.manifests, tag, name, arch);
  let indexDigest: string | undefined;
  let manifest = parseManifest(await copyBlob(store, dir, chosen, name), undefined, name);
  if (manifest.kind === "index") {
    indexDigest = chosen.digest;
    chosen = selectPlatform(manifest.manifests, arch, name);
    manifest = parseManifest(await copyBlob(store, dir, chosen, name), undefined, name);
  }
  if (manifest.kind !== "image")
    throw new SupermachineError("INVALID_IMAGE", `${name}: nested index.`);

  const config = parseImageConfig(await copyBlob(store, dir, manifest.config, name), name);
  const platform = checkImage(manifest.layers, config, arch, name);
  for (const layer of manifest.layers) await copyBlob(store, dir, layer, name, false, onProgress);
  const record: ImageRecord = {
    reference: name,
    ...(indexDigest ? { indexDigest } : {}),
    manifestDigest: chosen.digest,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((l) => l.digest),
    platform,
  };
  await store.recordImage(record);
  return imageFromStore(store, record, manifest.layers, false);
}

function pickByTag(
  manifests: Descriptor[],
  tag: string | undefined,
  name: string,
  arch: GuestArch,
) {
  const tags = manifests.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
  if (tag !== undefined) {
    const found = manifests.find((d) => {
      const ref = d.annotations?.[REF_NAME];
      return ref === tag || ref?.endsWith(`:${tag}`);
    });
    if (found) return found;
    throw new SupermachineError(
      "IMAGE_NOT_FOUND",
      `${name}: no manifest is tagged ${JSON.stringify(tag)}; ` +
        `tags present: ${tags.join(", ") || "none"}.`,
    );
  }
  if (manifests.length === 1 && manifests[0]) return manifests[0];
  if (manifests.some((d) => d.platform)) return selectPlatform(manifests, arch, name);
  throw new SupermachineError(
    "INVALID_REFERENCE",
    `${name} holds ${manifests.length} images; name one with \`oci:<dir>:<tag>\` ` +
      `(tags present: ${tags.join(", ") || "none"}).`,
  );
}

/** Copies one blob into the store, verifying it; returns its bytes if asked. */
async function copyBlob(
  store: ContentStore,
  dir: string,
  d: Descriptor,
  name: string,
  read = true,
  onProgress?: PullOptions["onProgress"],
) {
  const { digest, size } = d;
  if (await store.has(digest)) {
    onProgress?.({ digest, size, received: size, status: "cached" });
  } else {
    const path = join(dir, "blobs", "sha256", digest.replace(/^sha256:/, ""));
    try {
      const fix = "The layout is corrupt; copy the image into it again.";
      const what = `A blob of ${name}`;
      const source = counted(createReadStream(path), (received) =>
        onProgress?.({ digest, size, received, status: "downloading" }),
      );
      await store.ingest(source, { digest, what, fix });
      onProgress?.({ digest, size, received: size, status: "done" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      throw new SupermachineError("INVALID_IMAGE", `${name} lacks blob ${d.digest}.`, {
        cause: error,
      });
    }
  }
  return read ? store.readBlob(d.digest) : Buffer.alloc(0);
}
