import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { hostGuestArch } from "../../src/engine/guest-arch.js";
import { guestAssets } from "../../src/engine/guest-assets.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");

test("a guest build with nothing changed comes entirely from the cache", async () => {
  // Progress goes to stderr; stdout is only the resulting guest directory.
  const { stdout, stderr } = await run("bash", [join(root, "scripts", "build-guest.sh")], {
    cwd: root,
  });
  process.stdout.write(stderr);
  for (const part of ["kernel", "agent", "initramfs"]) {
    expect(stderr).toMatch(new RegExp(`^${part} \\S+: cached `, "m"));
  }
  expect(stderr).not.toMatch(/\bbuilding\b/);
  expect(stdout.trim()).toBe(join(root, "guest", hostGuestArch()));
});

test("the guest manifest's digests match the files", async () => {
  const { createHash } = await import("node:crypto");
  const assets = await guestAssets(hostGuestArch());
  const sha = async (file: string) =>
    createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  expect(await sha(assets.kernel)).toBe(assets.kernelSha256);
  expect(await sha(assets.initrd)).toBe(assets.initrdSha256);
});
