import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentClient, type HelloAck } from "../agent/agent-client.js";
import type { ResolvedBootOptions } from "../boot-options.js";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import { type AcceleratorVerdict, chooseAccelerator } from "./accelerator.js";
import type { GuestAssets } from "./guest-assets.js";
import { type Accelerator, qemuArgs } from "./machine.js";
import type { QemuBinary } from "./qemu-binary.js";
import { QemuProcess } from "./qemu-process.js";
import { QmpClient } from "./qmp-client.js";

/** A booted machine: QEMU, its monitor and the agent connection. */
export interface RunningMachine {
  id: string;
  /** Holds the QMP and agent sockets; removed when the machine stops. */
  dir: string;
  accel: Accelerator;
  qemu: QemuProcess;
  qmp: QmpClient;
  agent: AgentClient;
  hello: HelloAck;
}

export function probeAccelerator(
  options: ResolvedBootOptions,
  qemu: QemuBinary,
  assets: GuestAssets,
): Promise<AcceleratorVerdict> {
  return chooseAccelerator({
    cacheKey: [qemu.path, qemu.version, assets.kernelSha256, assets.agentSha256, options.arch].join(
      "|",
    ),
    tryBoot: async (accel, timeoutMs) => {
      const probe = { ...options, bootTimeoutMs: timeoutMs, memoryMib: 128, disks: [] };
      await stopMachine(await startMachine(probe, accel, qemu, assets));
    },
  });
}

/**
 * Spawn QEMU, connect QMP, connect the agent port and handshake. On any
 * failure the half-started machine is torn down before the error is thrown.
 */
export async function startMachine(
  options: ResolvedBootOptions,
  accel: Accelerator,
  binary: QemuBinary,
  assets: GuestAssets,
): Promise<RunningMachine> {
  const id = randomBytes(3).toString("hex");
  const log = debugFor("vm", id);
  const started = Date.now();
  const deadline = started + options.bootTimeoutMs;
  // Unix socket paths are limited to ~100 bytes, so keep the directory short.
  const dir = await mkdtemp(join(tmpdir(), "sm-"));
  let qemu: QemuProcess | undefined;
  let qmp: QmpClient | undefined;
  let agent: AgentClient | undefined;
  try {
    const args = qemuArgs({
      ...options,
      accel,
      kernel: assets.kernel,
      initrd: assets.initrd,
      qmpSocket: join(dir, "qmp.sock"),
      agentSocket: join(dir, "agent.sock"),
    });
    qemu = await QemuProcess.spawn(binary.path, args, id);

    const qmpSocket = await qemu.connectSocket(join(dir, "qmp.sock"), deadline, "its QMP socket");
    qmp = await QmpClient.over(qmpSocket, { timeoutMs: remaining(deadline), scope: id });

    const agentSocket = await qemu.connectSocket(
      join(dir, "agent.sock"),
      deadline,
      "the agent port",
    );
    agent = new AgentClient(agentSocket, id);
    const hello = await handshakeBefore(agent, qemu, deadline, options.bootTimeoutMs, accel);
    log("booted with %s in %d ms", accel, Date.now() - started);

    return { id, dir, accel, qemu, qmp, agent, hello };
  } catch (error) {
    // A closed socket is only the symptom when QEMU died; its exit status and
    // its own message are what the user needs.
    const died = qemu && (await Promise.race([qemu.exited.then(() => true), sleepMs(200)]));
    agent?.close();
    qmp?.close();
    await qemu?.kill();
    await rm(dir, { recursive: true, force: true });
    if (died && qemu && !(error instanceof SupermachineError && error.code === "QEMU_EXITED")) {
      throw qemu.exitError("during boot");
    }
    throw error;
  }
}

async function handshakeBefore(
  agent: AgentClient,
  qemu: QemuProcess,
  deadline: number,
  timeoutMs: number,
  accel: Accelerator,
): Promise<HelloAck> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const console = qemu.consoleTail(20) || "(nothing)";
      reject(
        new SupermachineError(
          "BOOT_TIMEOUT",
          `The VM did not answer within ${timeoutMs} ms (accelerator ${accel}). Raise ` +
            `\`bootTimeoutMs\` on a slow machine. Last lines of the guest console:\n${console}`,
        ),
      );
    }, remaining(deadline));
  });
  const exited = qemu.exited.then(() => {
    const console = qemu.consoleTail(20);
    throw qemu.exitError(`during boot${console ? ` (guest console:\n${console}\n)` : ""}`);
  });
  try {
    return await Promise.race([agent.handshake(), timedOut, exited]);
  } finally {
    clearTimeout(timer);
  }
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

function sleepMs(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/** Quits QEMU (killing it if it does not go), then removes its sockets. */
export async function stopMachine(machine: RunningMachine): Promise<void> {
  const { qemu, qmp, agent, dir } = machine;
  agent.close();
  if (!qemu.hasExited) {
    // A scratch VM has nothing to flush, so quitting is immediate and safe.
    await qmp.execute("quit", undefined, { timeoutMs: 2_000 }).catch(() => {});
    const quit = await Promise.race([qemu.exited, sleepMs(3_000)]);
    if (!quit) await qemu.kill();
  }
  qmp.close();
  await rm(dir, { recursive: true, force: true });
}
