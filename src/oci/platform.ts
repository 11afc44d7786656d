import type { GuestArch } from "../engine/guest-arch.js";
import { SupermachineError } from "../errors.js";
import type { Descriptor } from "./manifest.js";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The OCI platform that runs on a guest of the given architecture. */
export function platformFor(arch: GuestArch): Platform {
  return arch === "arm64"
    ? { os: "linux", architecture: "arm64", variant: "v8" }
    : { os: "linux", architecture: "amd64" };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** True when an image built for `candidate` runs on a guest of `arch`. */
export function platformMatches(candidate: Platform, arch: GuestArch): boolean {
  const want = platformFor(arch);
  if (candidate.os !== want.os || candidate.architecture !== want.architecture) return false;
  // arm64 images are tagged v8 or not at all; v9 and later need CPUs we don't emulate.
  if (want.variant !== undefined) return !candidate.variant || candidate.variant === want.variant;
  return true;
}

/**
 * Picks the manifest for `arch` from an index. Throws `NO_MATCHING_PLATFORM`
 * listing what the index offers.
 */
export function selectPlatform(manifests: Descriptor[], arch: GuestArch, where: string) {
  const match = manifests.find((d) => d.platform && platformMatches(d.platform, arch));
  if (match) return match;
  const available = manifests
    .map((d) => (d.platform ? formatPlatform(d.platform) : "(no platform)"))
    // Build attestations are listed as unknown/unknown; they are not images.
    .filter((p) => p !== "unknown/unknown");
  throw new SupermachineError(
    "NO_MATCHING_PLATFORM",
    `${where} has no image for ${formatPlatform(platformFor(arch))} (guest arch ${arch}); ` +
      `available: ${available.join(", ") || "none"}. Pick a guest arch the image supports, ` +
      "or use an image built for this one.",
  );
}
