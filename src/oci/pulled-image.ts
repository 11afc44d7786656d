import type { GuestArch } from "../engine/guest-arch.js";
import { SupermachineError } from "../errors.js";
import type { ContentStore } from "./content-store.js";
import { type OciImageConfig, parseImageConfig } from "./image-config.js";
import type { ImageRecord } from "./image-record.js";
import type { Descriptor } from "./manifest.js";
import { checkLayerMediaType } from "./media-types.js";
import { formatPlatform, type Platform, platformFor, platformMatches } from "./platform.js";

export interface PulledLayer {
  digest: string;
  mediaType: string;
  size: number;
  /** The blob in the content store; read-only, shared by every image. */
  path: string;
}

/** An image whose manifest, config and layers are all in the content store. */
export interface PulledImage {
  /** Normalised: `docker.io/library/redis:7`, `oci:/abs/dir:v1`. */
  reference: string;
  manifestDigest: string;
  /** Set when the manifest was chosen from a multi-platform index. */
  indexDigest?: string;
  configDigest: string;
  config: OciImageConfig;
  /** Bottom layer first. */
  layers: PulledLayer[];
  platform: Platform;
  /** True when everything came from the store and no layer was downloaded. */
  fromCache: boolean;
}

/**
 * Checks an image manifest's layers and the config's platform before any
 * layer is downloaded, so an unusable image fails fast.
 */
export function checkImage(
  layers: Descriptor[],
  config: OciImageConfig,
  arch: GuestArch,
  where: string,
) {
  for (const layer of layers) checkLayerMediaType(layer.mediaType, where);
  const declared: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) declared.variant = config.variant;
  // A config without os/architecture says nothing; trust the caller's choice.
  if (declared.architecture && !platformMatches(declared, arch)) {
    throw new SupermachineError(
      "NO_MATCHING_PLATFORM",
      `${where} is built for ${formatPlatform(declared)}, ` +
        `not ${formatPlatform(platformFor(arch))} ` +
        `(guest arch ${arch}). Use an image built for ${arch}, or a multi-platform one.`,
    );
  }
  return declared.architecture ? declared : platformFor(arch);
}

/** Builds the result from a record whose blobs are all in the store. */
export async function imageFromStore(
  store: ContentStore,
  record: ImageRecord,
  layers: Descriptor[],
  fromCache: boolean,
): Promise<PulledImage> {
  const config = parseImageConfig(await store.readBlob(record.configDigest), record.reference);
  return {
    reference: record.reference,
    manifestDigest: record.manifestDigest,
    ...(record.indexDigest ? { indexDigest: record.indexDigest } : {}),
    configDigest: record.configDigest,
    config,
    layers: layers.map((l) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      path: store.blobPath(l.digest),
    })),
    platform: record.platform,
    fromCache,
  };
}
