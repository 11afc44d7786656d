import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { blob, buildImage, manifestOf } from "./support/image-builder.js";
import { Pusher } from "./support/push.js";
import { type RunningRegistry, startRegistry } from "./support/registry.js";

const run = promisify(execFile);
let registry: RunningRegistry;
let cache: string;

beforeAll(async () => {
  registry = await startRegistry();
  cache = await mkdtemp(join(tmpdir(), "sm-cache-"));
  // Several megabytes per layer, so both downloads are in flight together.
  const base = buildImage({});
  const layers = [1, 2, 3].map(() =>
    blob("application/vnd.oci.image.layer.v1.tar", randomBytes(4 * 1024 * 1024)),
  );
  const image = { ...base, layers, manifest: manifestOf(base.config, layers) };
  await new Pusher(registry.url).image("race/app", image, "v1");
});

afterAll(async () => {
  await registry?.stop();
  await rm(cache, { recursive: true, force: true });
});

it("lets two processes pull the same image into one store at once", async () => {
  const pullInChild = () =>
    run(
      process.execPath,
      ["--import", "tsx", "test/oci/fixtures/pull-once.ts", `${registry.host}/race/app:v1`],
      {
        env: { ...process.env, SUPERMACHINE_CACHE_DIR: cache },
      },
    );
  const [a, b] = await Promise.all([pullInChild(), pullInChild()]);
  const first = JSON.parse(a.stdout);
  const second = JSON.parse(b.stdout);
  expect(first.manifestDigest).toBe(second.manifestDigest);
  expect(first.layers).toEqual(second.layers);

  // Every blob is whole (hashes to its name) and no temp file is left behind.
  const dir = join(cache, "blobs", "sha256");
  const names = await readdir(dir);
  expect(names.filter((n) => n.startsWith("."))).toEqual([]);
  for (const name of names) {
    const hex = createHash("sha256")
      .update(await readFile(join(dir, name)))
      .digest("hex");
    expect(hex).toBe(name);
  }
  expect(names).toHaveLength(5); // manifest, config, three layers
  expect(await readdir(join(cache, "images"))).toHaveLength(1);
});
