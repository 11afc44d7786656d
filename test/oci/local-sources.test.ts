import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pullImage } from "../../src/oci/index.js";
import { type Blob, blob, buildImage, indexOf, tarOf } from "./support/image-builder.js";
import { Pusher } from "./support/push.js";
import { type RunningRegistry, startRegistry } from "./support/registry.js";

let work: string;
const amd64 = buildImage({ architecture: "amd64", cmd: ["nginx"] });
const arm64 = buildImage({ architecture: "arm64" });
const multi = indexOf([
  { image: amd64, architecture: "amd64" },
  { image: arm64, architecture: "arm64" },
]);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sm-local-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));
beforeEach(async () => {
  process.env.SUPERMACHINE_CACHE_DIR = await mkdtemp(join(work, "cache-"));
  return () => {
    delete process.env.SUPERMACHINE_CACHE_DIR;
  };
});

async function writeLayout(dir: string, blobs: Blob[], refs: [Blob, string][]) {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  for (const b of blobs) await writeFile(join(dir, "blobs/sha256", b.digest.slice(7)), b.bytes);
  const manifests = refs.map(([b, tag]) => ({
    mediaType: b.mediaType,
    digest: b.digest,
    size: b.size,
    annotations: { "org.opencontainers.image.ref.name": tag },
  }));
  await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
}

describe("OCI image layout", () => {
  let layout: string;
  const all = [amd64, arm64].flatMap((i) => [i.config, ...i.layers, i.manifest]);

  beforeAll(async () => {
    layout = join(work, "layout");
    await writeLayout(
      layout,
      [...all, multi],
      [
        [amd64.manifest, "v1"],
        [multi, "multi"],
      ],
    );
  });

  it("loads a tagged image into the store", async () => {
    const image = await pullImage(`oci:${layout}:v1`, { arch: "x86_64" });
    expect(image).toMatchObject({
      reference: `oci:${layout}:v1`,
      manifestDigest: amd64.manifest.digest,
      configDigest: amd64.config.digest,
      config: { cmd: ["nginx"] },
    });
    expect(image.layers[0]?.path).toContain(process.env.SUPERMACHINE_CACHE_DIR);
  });

  it("selects the platform from a tagged index", async () => {
    const image = await pullImage(`oci:${layout}:multi`, { arch: "arm64" });
    expect(image).toMatchObject({
      indexDigest: multi.digest,
      manifestDigest: arm64.manifest.digest,
    });
  });

  it("explains a missing tag, an ambiguous layout and a non-layout", async () => {
    await expect(pullImage(`oci:${layout}:nope`, { arch: "x86_64" })).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
      message: expect.stringMatching(/tags present: v1, multi/),
    });
    await expect(pullImage(`oci:${layout}`, { arch: "x86_64" })).rejects.toMatchObject({
      code: "INVALID_REFERENCE",
    });
    await expect(pullImage(`oci:${work}`, { arch: "x86_64" })).rejects.toMatchObject({
      code: "INVALID_IMAGE",
      message: expect.stringMatching(/no oci-layout file/),
    });
  });

  it("rejects a blob whose content does not match its digest", async () => {
    const bad = join(work, "bad-layout");
    const layer = amd64.layers[0] as Blob;
    const corrupt = { ...layer, bytes: Buffer.from("not the layer") };
    await writeLayout(bad, [amd64.config, corrupt, amd64.manifest], [[amd64.manifest, "v1"]]);
    await expect(pullImage(`oci:${bad}:v1`, { arch: "x86_64" })).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
  });
});

describe("docker save archive", () => {
  it("loads manifest.json, the config and the layer tars, long names included", async () => {
    // The same tar the config's diff_ids name, stored uncompressed as docker save does.
    const layer = tarOf({ "hello.txt": "hello from amd64\n" });
    const layerPath = `${"d".repeat(64)}/${"nested-".repeat(8)}/layer.tar`;
    const configName = `${amd64.config.digest.slice(7)}.json`;
    const manifest = [{ Config: configName, RepoTags: ["app:v1"], Layers: [layerPath] }];
    const archive = join(work, "saved.tar");
    await writeFile(
      archive,
      tarOf({
        [configName]: amd64.config.bytes,
        [layerPath]: layer,
        "manifest.json": JSON.stringify(manifest),
      }),
    );
    const image = await pullImage(`docker-archive:${archive}`, { arch: "x86_64" });
    expect(image).toMatchObject({
      reference: `docker-archive:${archive}`,
      configDigest: amd64.config.digest,
      config: { cmd: ["nginx"] },
      layers: [
        { digest: blob("", layer).digest, mediaType: "application/vnd.oci.image.layer.v1.tar" },
      ],
    });
  });

  it("checks uncompressed layers against the config's diff_ids", async () => {
    const layer = tarOf({ "a.txt": "not what the config lists" });
    const configName = `${amd64.config.digest.slice(7)}.json`;
    const manifest = [{ Config: configName, Layers: ["l/layer.tar"] }];
    const archive = join(work, "corrupt.tar");
    const files = { [configName]: amd64.config.bytes, "l/layer.tar": layer };
    await writeFile(archive, tarOf({ ...files, "manifest.json": JSON.stringify(manifest) }));
    const loading = pullImage(`docker-archive:${archive}`, { arch: "x86_64" });
    await expect(loading).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
  });

  it("refuses a tar that is not a docker save archive", async () => {
    const archive = join(work, "plain.tar");
    await writeFile(archive, tarOf({ "hello.txt": "hi" }));
    const loading = pullImage(`docker-archive:${archive}`, { arch: "x86_64" });
    await expect(loading).rejects.toMatchObject({
      code: "INVALID_IMAGE",
      message: expect.stringMatching(/no manifest\.json/),
    });
  });
});

describe.skipIf(!existsSync("/usr/bin/skopeo"))("archives written by skopeo", () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
    await new Pusher(registry.url).image("app/one", amd64, "v1");
  });
  afterAll(() => registry?.stop());

  it.each([
    ["oci", "oci:%s:v1"],
    ["docker-archive", "docker-archive:%s.tar:app/one:v1"],
  ])("reads %s output", async (_kind, target) => {
    const path = join(work, `skopeo-${_kind}`);
    const destination = target.replace("%s", path);
    execFileSync(
      "skopeo",
      [
        "--insecure-policy",
        "copy",
        "--src-tls-verify=false",
        `docker://${registry.host}/app/one:v1`,
        destination,
      ],
      { stdio: "ignore" },
    );
    const source = _kind === "oci" ? `oci:${path}:v1` : `docker-archive:${path}.tar`;
    const image = await pullImage(source, { arch: "x86_64" });
    expect(image.configDigest).toBe(amd64.config.digest);
    expect(image.config.cmd).toEqual(["nginx"]);
  });
});
