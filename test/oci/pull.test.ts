import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pullImage } from "../../src/oci/index.js";
import type { TestImage } from "./support/image-builder.js";
import type { FaultProxy } from "./support/proxy.js";
import { type SeededRegistry, seedRegistry, useTempCache } from "./support/seeded-registry.js";

let seeded: SeededRegistry;
let proxy: FaultProxy;
let amd64: TestImage;
let arm64: TestImage;
let indexDigest: string;

beforeAll(async () => {
  seeded = await seedRegistry();
  ({ proxy, amd64, arm64, indexDigest } = seeded);
});
afterAll(() => seeded?.stop());
useTempCache();
beforeEach(() => {
  proxy.requests.length = 0;
});

const pull = (ref: string, options: { arch?: "x86_64" | "arm64"; offline?: boolean } = {}) =>
  pullImage(`${proxy.host}/${ref}`, { arch: "x86_64", ...options });

describe("pull from a registry", () => {
  it("pulls by tag into the store, with the config parsed", async () => {
    const image = await pull("app/single:v1");
    expect(image).toMatchObject({
      reference: `${proxy.host}/app/single:v1`,
      manifestDigest: amd64.manifest.digest,
      configDigest: amd64.config.digest,
      platform: { os: "linux", architecture: "amd64" },
      fromCache: false,
    });
    expect(image.config).toMatchObject({
      cmd: ["redis-server"],
      env: ["PATH=/usr/bin:/bin"],
      workingDir: "/srv",
      exposedPorts: ["6379/tcp"],
      stopSignal: "SIGTERM",
      labels: { arch: "amd64" },
    });
    const [layer] = image.layers;
    expect(layer?.path).toBe(
      join(process.env.SUPERMACHINE_CACHE_DIR ?? "", "blobs/sha256", layer?.digest.slice(7) ?? ""),
    );
    const tar = gunzipSync(await readFile(layer?.path ?? ""));
    expect(tar.toString("latin1")).toContain("hello from amd64");
  });

  it("pulls by digest", async () => {
    const image = await pull(`app/single@${amd64.manifest.digest}`);
    expect(image.manifestDigest).toBe(amd64.manifest.digest);
  });

  it("picks amd64 from a multi-arch index on x86_64, and arm64 on arm64", async () => {
    const x86 = await pull("app/multi:v1");
    expect(x86).toMatchObject({ indexDigest, manifestDigest: amd64.manifest.digest });
    const arm = await pull("app/multi:v1", { arch: "arm64" });
    expect(arm).toMatchObject({
      manifestDigest: arm64.manifest.digest,
      platform: { architecture: "arm64" },
    });
  });

  it("serves a second pull from the store: by tag after one HEAD, by digest offline", async () => {
    await pull("app/multi:v1");
    proxy.requests.length = 0;
    const again = await pull("app/multi:v1");
    expect(again.fromCache).toBe(true);
    expect(proxy.requests).toEqual(["HEAD /v2/app/multi/manifests/v1"]);

    proxy.requests.length = 0;
    const pinned = await pull(`app/multi@${indexDigest}`);
    expect(pinned).toMatchObject({ fromCache: true, manifestDigest: amd64.manifest.digest });
    const offline = await pull("app/multi:v1", { offline: true });
    expect(offline.fromCache).toBe(true);
    expect(proxy.requests).toEqual([]);
  });

  it("fails offline when the image was never pulled", async () => {
    await expect(pull("app/single:v1", { offline: true })).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
    });
    expect(proxy.requests).toEqual([]);
  });

  it("names the reference when the image does not exist", async () => {
    await expect(pull("app/absent:v1")).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
      message: expect.stringContaining(`${proxy.host}/app/absent:v1 was not found`),
    });
  });

  it("lists the platforms on offer when none matches", async () => {
    await expect(pull("app/armonly:v1")).rejects.toMatchObject({
      code: "NO_MATCHING_PLATFORM",
      message: expect.stringMatching(/built for linux\/arm64, not linux\/amd64/),
    });
    await expect(pull("app/armindex:v1")).rejects.toMatchObject({
      code: "NO_MATCHING_PLATFORM",
      message: expect.stringMatching(/no image for linux\/amd64 .*available: linux\/arm64\/v8\./),
    });
    const multi = pullImage(`${proxy.host}/app/multi:v1`, { arch: "riscv" as "arm64" });
    await expect(multi).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("refuses zstd layers before downloading them", async () => {
    await expect(pull("app/zstd:v1")).rejects.toMatchObject({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: expect.stringMatching(/zstd/),
    });
    expect(proxy.requests.filter((r) => r.includes("/blobs/")).length).toBe(1);
  });
});
