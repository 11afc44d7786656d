// The guest's own safety net, for hosts where QEMU cannot be tied to the test
// runner's life (no PR_SET_PDEATHSIG outside Linux): with no host connected
// to the agent for the grace period, the guest powers itself off.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "vitest";
import { AgentClient } from "../../src/agent/agent-client.js";
import { hostGuestArch } from "../../src/engine/guest-arch.js";
import { guestAssets } from "../../src/engine/guest-assets.js";
import { qemuArgs } from "../../src/engine/machine.js";
import { findQemu } from "../../src/engine/qemu-binary.js";
import { QemuProcess } from "../../src/engine/qemu-process.js";

async function startQemu(dir: string, graceSeconds: number): Promise<QemuProcess> {
  const arch = hostGuestArch();
  const [qemu, assets] = await Promise.all([findQemu(arch), guestAssets(arch)]);
  const args = qemuArgs({
    arch,
    accel: "tcg",
    memoryMib: 128,
    vcpus: 1,
    kernel: assets.kernel,
    initrd: assets.initrd,
    qmpSocket: join(dir, "qmp.sock"),
    agentSocket: join(dir, "agent.sock"),
    disks: [],
    kernelArgs: [],
    graceSeconds,
    hostname: "grace",
  });
  return QemuProcess.spawn(qemu.path, args, "grace");
}

test("a guest whose host never connects powers off after the grace period", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sm-"));
  const qemu = await startQemu(dir, 2);
  try {
    const exit = await Promise.race([qemu.exited, sleep(30_000).then(() => "still running")]);
    expect(exit).toMatchObject({ code: 0 });
  } finally {
    await qemu.kill();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a guest whose host goes away powers off after the grace period", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sm-"));
  const qemu = await startQemu(dir, 3);
  try {
    const socket = await qemu.connectSocket(join(dir, "agent.sock"), Date.now() + 30_000, "agent");
    const agent = new AgentClient(socket);
    await agent.handshake();
    // Connected well past the grace period: the guest stays up.
    await sleep(4_000);
    expect(qemu.hasExited).toBe(false);

    agent.close();
    const exit = await Promise.race([qemu.exited, sleep(30_000).then(() => "still running")]);
    expect(exit).toMatchObject({ code: 0 });
  } finally {
    await qemu.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
