import type { Server } from "node:net";
import { SupermachineError } from "../errors.js";
import type { WorkloadExit } from "../image/workload-handle.js";
import { debugFor } from "../util/debug.js";
import type { Vm } from "../vm.js";
import { serveControl } from "./control/control-server.js";
import { CliError } from "./exit-codes.js";
import {
  controlSocket,
  createVmDir,
  type PortMapping,
  removeVmDir,
  type VmRecord,
  writeVmRecord,
} from "./state/vm-records.js";
import type { LoadedSource } from "./vm-source.js";

const log = debugFor("cli:owner");
// As `docker stop`: the image's stop signal, then SIGKILL after this long.
const STOP_TIMEOUT_MS = 10_000;

/** How to start a VM for `run`, foreground or detached. */
export interface OwnerSpec {
  id: string;
  source: string;
  /** `host: null` picks a free port. */
  ports: { host: number | null; guest: number }[];
  env: Record<string, string>;
  command: string[] | null;
  memoryMib: number | undefined;
  vcpus: number | undefined;
  detached: boolean;
  removeOnExit: boolean;
}

/** Why an owned VM ended. */
export interface OwnerEnd {
  reason: "stopped" | "vm-ended";
  workload: WorkloadExit | null;
}

/**
 * The process that started a VM owns it (QEMU dies with it): this keeps the
 * VM's entry in the state directory, serves its control socket, and stops
 * the workload gracefully, then the VM, when asked.
 */
export class VmOwner {
  readonly vm: Vm;
  readonly record: VmRecord;
  /** The workload's exit, or null when the VM stopped first. */
  readonly workloadExit: Promise<WorkloadExit | null>;
  readonly ended: Promise<OwnerEnd>;
  #server: Server | undefined;
  #stopping: Promise<void> | undefined;
  #cleanup: Promise<void> | undefined;

  private constructor(spec: OwnerSpec, vm: Vm, record: VmRecord) {
    this.vm = vm;
    this.record = record;
    this.workloadExit = vm.workload.exited.catch(() => null);
    this.workloadExit.then((exit) => this.#onWorkloadExit(spec, exit));
    this.ended = vm.ended.then(async () => {
      await this.#removeState();
      return {
        reason: this.#stopping ? "stopped" : "vm-ended",
        workload: await Promise.race([this.workloadExit, Promise.resolve(null)]),
      };
    });
  }

  /**
   * Starts the VM, exposes its ports, writes its entry and opens its control
   * socket. On failure nothing is left: no VM, no entry.
   */
  static async start(spec: OwnerSpec, source: LoadedSource): Promise<VmOwner> {
    await createVmDir(spec.id);
    const record: VmRecord = {
      id: spec.id,
      pid: process.pid,
      qemuPid: null,
      source: spec.source,
      kind: source.kind,
      image: source.kind === "image" ? source.image.reference : source.entry.image,
      ports: [],
      command: spec.command,
      detached: spec.detached,
      removeOnExit: spec.removeOnExit,
      status: "starting",
      exit: null,
      createdAt: new Date().toISOString(),
    };
    await writeVmRecord(record);

    let vm: Vm | undefined;
    try {
      vm = await boot(spec, source);
      record.ports = await expose(vm, spec.ports);
      record.qemuPid = vm.pid;
      const owner = new VmOwner(spec, vm, record);
      owner.#server = await serveControl(controlSocket(spec.id), owner);
      record.status = "running";
      await writeVmRecord(record);
      return owner;
    } catch (error) {
      await vm?.stop();
      await removeVmDir(spec.id);
      throw error;
    }
  }

  /** Stops the workload (its stop signal, then SIGKILL), then the VM. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.record.status === "running") {
        await this.vm.workload.stop(undefined, STOP_TIMEOUT_MS).catch((error) => {
          log("workload stop failed: %s", (error as Error).message);
        });
      }
      await this.vm.stop();
      await this.ended;
    })();
    return this.#stopping;
  }

  /** Stops the VM at once, without waiting for the workload. */
  async kill(): Promise<void> {
    this.#stopping ??= Promise.resolve();
    await this.vm.stop();
    await this.ended;
  }

  async #onWorkloadExit(spec: OwnerSpec, exit: WorkloadExit | null): Promise<void> {
    if (!exit || this.#stopping) return;
    this.record.status = "exited";
    this.record.exit = exit;
    await writeVmRecord(this.record).catch((error) => log("record failed: %O", error));
    if (spec.removeOnExit) await this.stop();
  }

  #removeState(): Promise<void> {
    this.#cleanup ??= (async () => {
      this.#server?.close();
      await removeVmDir(this.record.id);
    })();
    return this.#cleanup;
  }
}

async function boot(spec: OwnerSpec, source: LoadedSource): Promise<Vm> {
  if (source.kind === "snapshot") return source.snapshot.start({ ports: [] });
  return source.image.start({
    ports: [],
    env: spec.env,
    ...(spec.command ? { command: spec.command } : {}),
    memoryMib: spec.memoryMib,
    vcpus: spec.vcpus,
  });
}

async function expose(vm: Vm, ports: OwnerSpec["ports"]): Promise<PortMapping[]> {
  const mappings: PortMapping[] = [];
  for (const { host, guest } of ports) {
    try {
      const exposed = await vm.exposeTcp(guest, host === null ? {} : { hostPort: host });
      mappings.push({ host: exposed.port, guest });
    } catch (error) {
      if (error instanceof SupermachineError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === "EADDRINUSE" ? "is already in use" : `cannot be opened (${code})`;
      throw new CliError(`Host port 127.0.0.1:${host} ${why}; pick another with -p.`);
    }
  }
  return mappings;
}
