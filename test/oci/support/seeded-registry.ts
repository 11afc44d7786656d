import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach } from "vitest";
import { buildImage, indexOf, type TestImage } from "./image-builder.js";
import { type FaultProxy, startProxy } from "./proxy.js";
import { Pusher } from "./push.js";
import { type RunningRegistry, startRegistry } from "./registry.js";

export interface SeededRegistry {
  registry: RunningRegistry;
  /** Pull through this, to count requests and inject faults. */
  proxy: FaultProxy;
  amd64: TestImage;
  arm64: TestImage;
  /** `app/multi:v1`: an index over amd64 and arm64/v8. */
  indexDigest: string;
  stop(): Promise<void>;
}

/**
 * A registry behind a fault proxy, holding: app/single:v1 (amd64),
 * app/multi:v1 (index), app/armonly:v1 (arm64 manifest), app/armindex:v1
 * (index with arm64 only) and app/zstd:v1 (a zstd layer).
 */
export async function seedRegistry(): Promise<SeededRegistry> {
  const registry = await startRegistry();
  const proxy = await startProxy(registry.url);
  const push = new Pusher(registry.url);
  const amd64 = buildImage({ architecture: "amd64", cmd: ["redis-server"] });
  const arm64 = buildImage({ architecture: "arm64" });
  await push.image("app/single", amd64, "v1");
  await push.image("app/multi", amd64);
  await push.image("app/multi", arm64);
  const index = indexOf([
    { image: amd64, architecture: "amd64" },
    { image: arm64, architecture: "arm64", variant: "v8" },
  ]);
  await push.manifest("app/multi", "v1", index);
  await push.image("app/armonly", arm64, "v1");
  await push.image("app/armindex", arm64);
  const armIndex = indexOf([{ image: arm64, architecture: "arm64", variant: "v8" }]);
  await push.manifest("app/armindex", "v1", armIndex);
  const zstd = buildImage({ layerMediaType: "application/vnd.oci.image.layer.v1.tar+zstd" });
  await push.image("app/zstd", zstd, "v1");
  const stop = async () => {
    await proxy.stop();
    await registry.stop();
  };
  return { registry, proxy, amd64, arm64, indexDigest: index.digest, stop };
}

/** Gives every test of the file an empty cache directory of its own. */
export function useTempCache(): void {
  beforeEach(async () => {
    const dir = await mkdtemp(join(tmpdir(), "sm-cache-"));
    process.env.SUPERMACHINE_CACHE_DIR = dir;
    return async () => {
      delete process.env.SUPERMACHINE_CACHE_DIR;
      await rm(dir, { recursive: true, force: true });
    };
  });
}
