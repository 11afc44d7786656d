import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { resolveBootOptions } from "../../src/boot-options.js";
import { hostGuestArch } from "../../src/engine/guest-arch.js";
import { guestAssets } from "../../src/engine/guest-assets.js";
import { startMachine, stopMachine } from "../../src/engine/machine-boot.js";
import { findQemu } from "../../src/engine/qemu-binary.js";
import type { QmpEvent } from "../../src/engine/qmp-client.js";
import { Vm } from "../../src/index.js";

const run = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), "sm-machine-test-"));
afterAll(() => rm(work, { recursive: true, force: true }));

test("QMP answers commands by id and reports events", async () => {
  const arch = hostGuestArch();
  const [qemu, assets] = await Promise.all([findQemu(arch), guestAssets(arch)]);
  const machine = await startMachine(resolveBootOptions({}), "tcg", qemu, assets);
  try {
    const events: string[] = [];
    machine.qmp.on("event", (event: QmpEvent) => events.push(event.event));
    // Two commands in flight at once still get their own replies.
    const [status, version] = await Promise.all([
      machine.qmp.execute("query-status"),
      machine.qmp.execute("query-version"),
    ]);
    expect(status).toMatchObject({ status: "running", running: true });
    expect(version).toMatchObject({ qemu: { major: expect.any(Number) } });

    await machine.qmp.execute("stop");
    expect(await machine.qmp.execute("query-status")).toMatchObject({ status: "paused" });
    await machine.qmp.execute("cont");
    await expect.poll(() => events).toEqual(expect.arrayContaining(["STOP", "RESUME"]));

    await expect(machine.qmp.execute("no-such-command")).rejects.toMatchObject({
      code: "QMP_ERROR",
      message: expect.stringContaining("no-such-command"),
    });
  } finally {
    await stopMachine(machine);
  }
});

test("extra disks appear as virtio block devices, read-only when asked", async () => {
  const content = join(work, "content");
  await mkdir(content);
  await writeFile(join(content, "hello.txt"), "from a disk image\n");
  const image = join(work, "data.ext4");
  await run("mkfs.ext4", ["-q", "-F", "-d", content, image, "8M"]);
  const scratch = join(work, "scratch.img");
  await run("truncate", ["-s", "4M", scratch]);

  await using vm = await Vm.boot({
    disks: [{ path: image, readOnly: true }, { path: scratch }],
  });
  const read = await vm.exec([
    "sh",
    "-c",
    "mkdir /mnt && mount -o ro /dev/vda /mnt && cat /mnt/hello.txt",
  ]);
  expect(read).toMatchObject({ exitCode: 0, stdout: "from a disk image\n" });
  const readOnly = await vm.exec(["cat", "/sys/block/vda/ro"]);
  expect(readOnly.stdout.trim()).toBe("1");
  const write = await vm.exec(["sh", "-c", "echo written > /dev/vdb && head -c 8 /dev/vdb"]);
  expect(write.stdout).toBe("written\n");
});
