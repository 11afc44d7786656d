import type { Platform } from "./platform.js";

/** What the store remembers about a pulled image (`images/<sha of ref>.json`). */
export interface ImageRecord {
  /** Normalised reference: `docker.io/library/redis:7`, `oci:/abs/dir:v1`. */
  reference: string;
  /** The index the manifest was chosen from, for multi-platform images. */
  indexDigest?: string;
  manifestDigest: string;
  configDigest: string;
  /** Layer digests, bottom layer first. */
  layers: string[];
  platform: Platform;
}
