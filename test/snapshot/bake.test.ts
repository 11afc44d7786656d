import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { Image, Snapshot, wait } from "../../src/index.js";
import { processesMentioning } from "../support/processes.js";
import { testImageLayout } from "../support/test-images.js";

const run = promisify(execFile);
const fixture = join(import.meta.dirname, "..", "fixtures", "bake-image.ts");
let work: string | undefined;

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test("two processes baking the same image at once produce one snapshot", async () => {
  const layout = await testImageLayout("busybox");
  work = await mkdtemp(join(tmpdir(), "concurrent-bake-"));
  const dir = join(work, "snap");
  const bake = () =>
    run(process.execPath, ["--import", "tsx", fixture, `oci:${layout}`, dir], {
      timeout: 240_000,
    }).then(({ stdout }) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}"));

  const [first, second] = await Promise.all([bake(), bake()]);

  expect(first.createdAt).toBeDefined();
  expect(second.createdAt).toBe(first.createdAt);
  // One snapshot directory, no temporary directory and no lock left behind.
  expect(await readdir(work)).toEqual(["snap"]);
  const snapshot = await Snapshot.open(dir);
  expect(snapshot.manifest.createdAt).toBe(first.createdAt);
});

test("a bake that fails (wait timeout, or setup throwing) leaves nothing usable behind", async () => {
  const image = await Image.pull(`oci:${await testImageLayout("busybox")}`);
  const base = await mkdtemp(join(tmpdir(), "failed-bake-"));
  try {
    const dir = join(base, "snap");
    const common = { command: ["sleep", "3600"], dir };
    await expect(
      image.bake({ ...common, waitFor: wait.forPort(1234, { timeoutMs: 500 }) }),
    ).rejects.toMatchObject({ code: "WAIT_TIMEOUT" });
    expect(await readdir(base)).toEqual([]);

    const failure = new Error("migration 0042 failed");
    const setup = async () => {
      throw failure;
    };
    await expect(image.bake({ ...common, setup, setupKey: "v1" })).rejects.toBe(failure);
    expect(await readdir(base)).toEqual([]);
    expect(processesMentioning(base)).toEqual([]);
    await expect(Snapshot.open(dir)).rejects.toMatchObject({ code: "SNAPSHOT_NOT_FOUND" });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
