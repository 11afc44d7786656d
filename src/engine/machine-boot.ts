import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { AgentClient, type HelloAck } from "../agent/agent-client.js";
import type { ResolvedBootOptions } from "../boot-options.js";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import { createRunDir } from "../util/run-dir.js";
import { type AcceleratorVerdict, chooseAccelerator } from "./accelerator.js";
import type { GuestAssets } from "./guest-assets.js";
import {
  type Accelerator,
  type DiskSpec,
  type MachineSpec,
  type MemoryFile,
  qemuArgs,
} from "./machine.js";
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
  /** What QEMU was started with, for snapshots of this machine. */
  spec: MachineSpec;
  binary: QemuBinary;
  assets: GuestAssets;
}

/** How a machine differs from a plain boot. */
export interface MachineExtras {
  memoryFile?: MemoryFile;
  commandLine?: string;
  /**
   * Restores a snapshot: QEMU starts paused with `-incoming defer`, and this
   * loads the device state and resumes the guest before the agent is reached.
   */
  restore?: (qmp: QmpClient) => Promise<void>;
  /** Creates the disks in the machine's run directory, removed with it. */
  disksIn?: (dir: string) => Promise<DiskSpec[]>;
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
  extras: MachineExtras = {},
): Promise<RunningMachine> {
  const id = randomBytes(3).toString("hex");
  const started = Date.now();
  const dir = await createRunDir("sm-");
  const parts: Partial<RunningMachine> = { id, dir, accel, binary, assets };
  try {
    const spec: MachineSpec = {
      ...options,
      accel,
      kernel: assets.kernel,
      initrd: assets.initrd,
      qmpSocket: join(dir, "qmp.sock"),
      agentSocket: join(dir, "agent.sock"),
      disks: extras.disksIn ? await extras.disksIn(dir) : options.disks,
      memoryFile: extras.memoryFile,
      commandLine: extras.commandLine,
      incoming: extras.restore !== undefined,
    };
    parts.spec = spec;
    const qemu = await QemuProcess.spawn(binary.path, qemuArgs(spec), id);
    parts.qemu = qemu;
    removeOnExit(qemu, dir);
    const steps = connectAll(parts, qemu, extras.restore);
    await withBootDeadline(qemu, options.bootTimeoutMs, accel, steps);
    const how = extras.restore ? "restored" : "booted";
    debugFor("vm", id)("%s with %s in %d ms", how, accel, Date.now() - started);
    return parts as RunningMachine;
  } catch (error) {
    throw await abandon(parts, error);
  }
}

/** Connect QMP, connect the agent port, handshake; fills in `parts`. */
async function connectAll(
  parts: Partial<RunningMachine>,
  qemu: QemuProcess,
  restore: MachineExtras["restore"],
): Promise<void> {
  const dir = parts.dir as string;
  const forever = Number.POSITIVE_INFINITY;

  const qmpSocket = await qemu.connectSocket(join(dir, "qmp.sock"), forever, "its QMP socket");
  parts.qmp = await QmpClient.over(qmpSocket, { timeoutMs: 60_000, scope: parts.id });
  if (restore) await restore(parts.qmp);

  const agentSocket = await qemu.connectSocket(join(dir, "agent.sock"), forever, "the agent port");
  parts.agent = new AgentClient(agentSocket, parts.id);
  parts.hello = await parts.agent.handshake();
}

/**
 * Races the boot steps against one deadline and against QEMU exiting, so the
 * error says what happened (BOOT_TIMEOUT with the console, or QEMU_EXITED
 * with QEMU's message) whichever step was under way.
 */
async function withBootDeadline(
  qemu: QemuProcess,
  timeoutMs: number,
  accel: Accelerator,
  steps: Promise<void>,
): Promise<void> {
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
    }, timeoutMs);
  });
  const exited = qemu.exited.then(() => {
    const console = qemu.consoleTail(20);
    throw qemu.exitError(`during boot${console ? ` (guest console:\n${console}\n)` : ""}`);
  });
  // The losers of the race reject later, when the machine is torn down.
  steps.catch(() => {});
  exited.catch(() => {});
  try {
    await Promise.race([steps, timedOut, exited]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tears down a half-started machine and returns the error to throw. */
async function abandon(parts: Partial<RunningMachine>, error: unknown): Promise<unknown> {
  const { qemu } = parts;
  // A closed socket is only the symptom when QEMU died; its exit status and
  // its own message are what the user needs.
  const died = qemu && (await Promise.race([qemu.exited.then(() => true), sleepMs(200)]));
  await qemu?.kill();
  parts.agent?.close();
  parts.qmp?.close();
  if (parts.dir) await rm(parts.dir, { recursive: true, force: true });
  const explained =
    error instanceof SupermachineError && ["BOOT_TIMEOUT", "QEMU_EXITED"].includes(error.code);
  if (died && qemu && !explained) return qemu.exitError("during boot");
  return error;
}

function sleepMs(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/** Quits QEMU (killing it if it does not go), then removes its sockets. */
export async function stopMachine(machine: RunningMachine): Promise<void> {
  const { qemu, qmp, agent, dir } = machine;
  agent.close();
  await quit(qemu, qmp);
  await rm(dir, { recursive: true, force: true });
}

/** A QEMU driven over QMP only, its guest never started. */
export interface PausedMonitor {
  dir: string;
  qemu: QemuProcess;
  qmp: QmpClient;
}

/**
 * Starts QEMU for `spec` with `-incoming defer` and connects only its QMP
 * socket: for moving state between files without running the guest.
 */
export async function startMonitor(
  spec: MachineSpec,
  binary: QemuBinary,
  scope: string,
): Promise<PausedMonitor> {
  const dir = await createRunDir("sm-");
  const qmpSocket = join(dir, "qmp.sock");
  const args = qemuArgs({
    ...spec,
    qmpSocket,
    agentSocket: join(dir, "agent.sock"),
    incoming: true,
  });
  let qemu: QemuProcess | undefined;
  try {
    qemu = await QemuProcess.spawn(binary.path, args, scope);
    removeOnExit(qemu, dir);
    const socket = await qemu.connectSocket(qmpSocket, Date.now() + 30_000, "its QMP socket");
    return { dir, qemu, qmp: await QmpClient.over(socket, { timeoutMs: 30_000, scope }) };
  } catch (error) {
    await qemu?.kill();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function stopMonitor(monitor: PausedMonitor): Promise<void> {
  await quit(monitor.qemu, monitor.qmp);
  await rm(monitor.dir, { recursive: true, force: true });
}

/** QMP `quit`, SIGKILL if QEMU is still there 3 s later, then close the monitor. */
async function quit(qemu: QemuProcess, qmp: QmpClient): Promise<void> {
  if (!qemu.hasExited) {
    // Disks are qcow2 overlays QEMU flushes on quit; nothing else needs care.
    await qmp.execute("quit", undefined, { timeoutMs: 2_000 }).catch(() => {});
    const gone = await Promise.race([qemu.exited, sleepMs(3_000)]);
    if (!gone) await qemu.kill();
  }
  qmp.close();
}

const running = new Map<QemuProcess, string>();

/**
 * When this process exits with machines still running (a test worker that
 * ends without stopping its VMs), kill them and remove their run directories
 * then and there: only synchronous work is possible in an `exit` handler.
 * A process killed outright has its QEMU killed by the kernel instead
 * (`--pdeathsig`) and its directories swept by the next process.
 */
function removeOnExit(qemu: QemuProcess, dir: string): void {
  if (running.size === 0) process.once("exit", removeRunning);
  running.set(qemu, dir);
  qemu.exited.then(() => {
    running.delete(qemu);
    if (running.size === 0) process.off("exit", removeRunning);
  });
}

/**
 * Kills every machine this process started and removes their run
 * directories, synchronously: for when this process must not keep VMs, e.g.
 * a test worker whose runner died.
 */
export function removeRunning(): void {
  for (const [qemu, dir] of running) {
    qemu.killNow();
    rmSync(dir, { recursive: true, force: true });
  }
}
