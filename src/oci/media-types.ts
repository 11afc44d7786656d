import { SupermachineError } from "../errors.js";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/**
 * Sent on every manifest request. A registry picks from this list, and some
 * answer 404 or downgrade to schema1 when a type is missing.
 */
export const MANIFEST_ACCEPT = [
  OCI_INDEX,
  DOCKER_MANIFEST_LIST,
  OCI_MANIFEST,
  DOCKER_MANIFEST,
].join(", ");

const LAYER_TYPES = new Set([OCI_LAYER_TAR, OCI_LAYER_GZIP, DOCKER_LAYER_TAR, DOCKER_LAYER_GZIP]);

/** Throws `UNSUPPORTED_MEDIA_TYPE` for layers the guest cannot unpack. */
/** Whether a layer blob is gzip-compressed tar (OCI or Docker media type). */
export function isGzipLayer(mediaType: string): boolean {
  return mediaType === OCI_LAYER_GZIP || mediaType === DOCKER_LAYER_GZIP;
}

export function checkLayerMediaType(mediaType: string, where: string): void {
  if (LAYER_TYPES.has(mediaType)) return;
  const why = mediaType.includes("zstd")
    ? "zstd-compressed layers are not supported yet; push the image with gzip layers " +
      "(for example `docker buildx build --output type=image,compression=gzip`)"
    : "only tar and tar+gzip layers (OCI or Docker media types) are supported";
  throw new SupermachineError(
    "UNSUPPORTED_MEDIA_TYPE",
    `${where} has a layer of media type ${JSON.stringify(mediaType)}: ${why}.`,
  );
}
