import { describe, expect, it } from "vitest";
import type { Descriptor } from "../../src/oci/manifest.js";
import { parseManifest } from "../../src/oci/manifest.js";
import { checkLayerMediaType } from "../../src/oci/media-types.js";
import { selectPlatform } from "../../src/oci/platform.js";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const entry = (c: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: digest(c),
  size: 1,
  platform: { os: "linux", architecture, ...(variant ? { variant } : {}) },
});

describe("selectPlatform", () => {
  const index = [entry("a", "arm", "v7"), entry("b", "arm64", "v8"), entry("c", "amd64")];

  it("maps x86_64 to amd64 and arm64 to arm64/v8", () => {
    expect(selectPlatform(index, "x86_64", "img").digest).toBe(digest("c"));
    expect(selectPlatform(index, "arm64", "img").digest).toBe(digest("b"));
  });

  it("accepts arm64 without a variant", () => {
    expect(selectPlatform([entry("d", "arm64")], "arm64", "img").digest).toBe(digest("d"));
  });

  it("skips other operating systems and attestations, and lists what exists", () => {
    const windows = { ...entry("e", "amd64"), platform: { os: "windows", architecture: "amd64" } };
    const attestation = {
      ...entry("f", "unknown"),
      platform: { os: "unknown", architecture: "unknown" },
    };
    const offered = [windows, attestation, entry("a", "arm", "v7")];
    const listed = /linux\/amd64.*available: windows\/amd64, linux\/arm\/v7\./;
    expect(() => selectPlatform(offered, "x86_64", "img")).toThrow(
      expect.objectContaining({
        code: "NO_MATCHING_PLATFORM",
        message: expect.stringMatching(listed),
      }),
    );
  });
});

describe("parseManifest", () => {
  const json = (v: object) => Buffer.from(JSON.stringify(v));

  it("takes the media type from the body, else the header, else the shape", () => {
    const layers = [{ mediaType: "x", digest: digest("1"), size: 3 }];
    const config = { mediaType: "c", digest: digest("2"), size: 2 };
    expect(parseManifest(json({ schemaVersion: 2, config, layers }), undefined, "i").kind).toBe(
      "image",
    );
    const list = "application/vnd.docker.distribution.manifest.list.v2+json";
    expect(parseManifest(json({ manifests: [] }), `${list}; charset=utf-8`, "i").kind).toBe(
      "index",
    );
  });

  it("rejects schema 1 as an unsupported media type", () => {
    const body = json({ schemaVersion: 1, name: "x", fsLayers: [] });
    expect(() =>
      parseManifest(body, "application/vnd.docker.distribution.manifest.v1+prettyjws", "i"),
    ).toThrow(
      expect.objectContaining({
        code: "UNSUPPORTED_MEDIA_TYPE",
        message: expect.stringMatching(/schema 1/),
      }),
    );
  });

  it("rejects malformed descriptors", () => {
    const body = json({ manifests: [{ mediaType: "m", digest: "sha256:zz", size: 1 }] });
    expect(() => parseManifest(body, undefined, "i")).toThrow(
      expect.objectContaining({ code: "INVALID_IMAGE" }),
    );
  });
});

describe("checkLayerMediaType", () => {
  it.each([
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
  ])("accepts %s", (type) => {
    expect(() => checkLayerMediaType(type, "img")).not.toThrow();
  });

  it("names zstd explicitly", () => {
    const zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    expect(() => checkLayerMediaType(zstd, "img")).toThrow(
      expect.objectContaining({
        code: "UNSUPPORTED_MEDIA_TYPE",
        message: expect.stringMatching(/zstd-compressed layers are not supported/),
      }),
    );
  });
});
