import { SupermachineError } from "../errors.js";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import type { Platform } from "./platform.js";

/** A pointer to content by digest, as in the OCI image spec. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export type Manifest =
  | { kind: "index"; mediaType: string; manifests: Descriptor[] }
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function bad(where: string, problem: string): never {
  throw new SupermachineError(
    "INVALID_IMAGE",
    `The manifest of ${where} is malformed: ${problem}.`,
  );
}

/**
 * Parses an index or image manifest. The media type comes from the document
 * itself when present, else from the HTTP Content-Type, because older Docker
 * manifests omit it from the body.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, where: string) {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new SupermachineError("INVALID_IMAGE", `The manifest of ${where} is not JSON.`, {
      cause: error,
    });
  }
  if (typeof doc !== "object" || doc === null) bad(where, "it is not a JSON object");
  const header = contentType?.split(";")[0]?.trim();
  const mediaType =
    typeof doc.mediaType === "string" ? doc.mediaType : header || guessMediaType(doc);

  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST) {
    if (!Array.isArray(doc.manifests)) bad(where, "`manifests` is not a list");
    const manifests = doc.manifests.map((d: unknown) => descriptor(d, where));
    return { kind: "index", mediaType, manifests } satisfies Manifest as Manifest;
  }
  if (mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST) {
    if (!Array.isArray(doc.layers)) bad(where, "`layers` is not a list");
    const config = descriptor(doc.config, where);
    const layers = doc.layers.map((d: unknown) => descriptor(d, where));
    return { kind: "image", mediaType, config, layers } satisfies Manifest as Manifest;
  }
  const hint = String(mediaType).includes("v1")
    ? " Docker schema 1 manifests are deprecated; re-push the image with a current Docker."
    : "";
  throw new SupermachineError(
    "UNSUPPORTED_MEDIA_TYPE",
    `The manifest of ${where} has media type ${JSON.stringify(mediaType)}, which is not an ` +
      `OCI or Docker v2 manifest or index.${hint}`,
  );
}

// An OCI manifest may omit mediaType entirely; its shape tells what it is.
function guessMediaType(doc: Record<string, unknown>): string {
  if (doc.schemaVersion === 1) return "application/vnd.docker.distribution.manifest.v1+json";
  if (Array.isArray(doc.manifests)) return OCI_INDEX;
  if (Array.isArray(doc.layers)) return OCI_MANIFEST;
  return "(none)";
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== "object" || value === null) bad(where, "a descriptor is not an object");
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== "string") bad(where, "a descriptor has no `mediaType`");
  if (typeof d.digest !== "string" || !DIGEST.test(d.digest)) {
    bad(where, `digest ${JSON.stringify(d.digest)} is not sha256:<64 hex>`);
  }
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    bad(where, `size of ${d.digest} is not a non-negative integer`);
  }
  const result: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (typeof d.platform === "object" && d.platform !== null) {
    const p = d.platform as Record<string, unknown>;
    result.platform = {
      os: String(p.os ?? ""),
      architecture: String(p.architecture ?? ""),
      ...(typeof p.variant === "string" ? { variant: p.variant } : {}),
    };
  }
  if (typeof d.annotations === "object" && d.annotations !== null) {
    result.annotations = d.annotations as Record<string, string>;
  }
  return result;
}
