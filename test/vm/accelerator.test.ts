import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { hardwareCandidate } from "../../src/engine/accelerator.js";

const run = promisify(execFile);
const fixture = join(import.meta.dirname, "..", "fixtures", "print-accelerator.ts");
const cache = await mkdtemp(join(tmpdir(), "sm-accel-test-"));
afterAll(() => rm(cache, { recursive: true, force: true }));

async function verdict(env: Record<string, string> = {}) {
  const { SUPERMACHINE_ACCEL: _, ...inherited } = process.env;
  const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", fixture], {
    env: { ...inherited, SUPERMACHINE_CACHE_DIR: cache, ...env },
  });
  return { ...JSON.parse(stdout), stderr };
}

test("the probe picks a working accelerator, says so once on fallback, and caches it", async () => {
  const first = await verdict();
  expect(["kvm", "hvf", "whpx", "tcg"]).toContain(first.accel);
  expect(first.cached).toBe(false);
  const hardware = hardwareCandidate().accel;
  if (hardware && first.accel === "tcg") {
    // The device exists but a guest could not boot with it (as on nested,
    // paravirtual-only hypervisors): one line on stderr says so.
    expect(first.stderr).toMatch(new RegExp(`^supermachine: ${hardware} could not boot a guest`));
    expect(first.stderr.trim().split("\n")).toHaveLength(1);
  }

  const second = await verdict();
  expect(second).toMatchObject({ accel: first.accel, reason: first.reason, cached: true });
  expect(second.stderr).toBe("");
});

test("SUPERMACHINE_ACCEL forces the accelerator without probing", async () => {
  expect(await verdict({ SUPERMACHINE_ACCEL: "tcg" })).toMatchObject({
    accel: "tcg",
    reason: "forced by SUPERMACHINE_ACCEL",
  });
  const error = await verdict({ SUPERMACHINE_ACCEL: "xen" }).catch((e: { stderr: string }) => e);
  expect(error.stderr).toMatch(/`SUPERMACHINE_ACCEL` must be one of kvm, hvf, whpx, tcg/);
});
