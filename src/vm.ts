import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { HelloAck } from "./agent/agent-client.js";
import type { AgentStream, StreamLayout } from "./agent/agent-stream.js";
import { type BootOptions, resolveBootOptions } from "./boot-options.js";
import type { AcceleratorVerdict } from "./engine/accelerator.js";
import { guestAssets } from "./engine/guest-assets.js";
import type { Accelerator } from "./engine/machine.js";
import {
  type MachineExtras,
  probeAccelerator,
  type RunningMachine,
  startMachine,
  stopMachine,
} from "./engine/machine-boot.js";
import { findQemu } from "./engine/qemu-binary.js";
import { invalidArgument, SupermachineError } from "./errors.js";
import {
  type ExecOptions,
  type ExecResult,
  execRequest,
  type SpawnOptions,
} from "./exec-options.js";
import { type ExposedPort, exposeTcp } from "./exposed-port.js";
import { GuestSocket } from "./guest-socket.js";
import type { LogOptions, WorkloadHandle } from "./image/workload-handle.js";
import type { Snapshot } from "./snapshot/snapshot.js";
import { scratchOrigin, snapshotVm, type VmOrigin } from "./snapshot/snapshot-vm.js";
import { debugFor } from "./util/debug.js";
import { VmProcess } from "./vm-process.js";

export type { BootOptions } from "./boot-options.js";

export interface WriteFileOptions {
  /** Permission bits. Default 0o644. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Create missing parent directories. Default false. */
  mkdirs?: boolean;
}

/**
 * A running microVM. `Vm.boot()` starts a scratch VM (the agent and busybox,
 * no image); everything else goes through the guest agent.
 *
 * @example
 * await using vm = await Vm.boot();
 * const { stdout } = await vm.exec(["uname", "-r"]);
 */
export class Vm {
  readonly id: string;
  readonly accel: Accelerator;
  /** What the agent reported in the handshake (versions, architecture). */
  readonly agentInfo: HelloAck;
  readonly #parts: RunningMachine;
  readonly #exposed = new Set<ExposedPort>();
  readonly #ports = new Map<number, ExposedPort>();
  #workload: WorkloadHandle | undefined;
  #execDefaults: { user: string; cwd: string } | undefined;
  readonly #log: ReturnType<typeof debugFor>;
  #stopping: Promise<void> | undefined;
  #origin: VmOrigin | undefined;

  private constructor(parts: RunningMachine) {
    this.id = parts.id;
    this.accel = parts.accel;
    this.agentInfo = parts.hello;
    this.#parts = parts;
    this.#log = debugFor("vm", parts.id);
    parts.qemu.exited.then(() => {
      if (this.#stopping) return;
      // The guest powered off or QEMU died: remove its sockets and overlay
      // now rather than when (or if) the owner calls stop().
      this.#log("QEMU exited on its own");
      this.stop().catch((error) => this.#log("cleanup failed: %O", error));
    });
  }

  /** @internal Wraps a machine started or restored elsewhere (snapshots). */
  static adopt(parts: RunningMachine): Vm {
    return new Vm(parts);
  }

  /** Boots a scratch VM and waits until its agent answers. */
  static async boot(options: BootOptions = {}, extras: MachineExtras = {}): Promise<Vm> {
    const resolved = resolveBootOptions(options);
    const qemu = await findQemu(resolved.arch);
    const assets = await guestAssets(resolved.arch);
    const accel = resolved.accel ?? (await probeAccelerator(resolved, qemu, assets)).accel;
    return new Vm(await startMachine(resolved, accel, qemu, assets, extras));
  }

  /**
   * The accelerator `boot()` would use here and why: forced, cached, or the
   * outcome of a probe boot (which this call runs if nothing is cached).
   */
  static async accelerator(options: Pick<BootOptions, "arch"> = {}): Promise<AcceleratorVerdict> {
    const resolved = resolveBootOptions(options);
    const qemu = await findQemu(resolved.arch);
    return probeAccelerator(resolved, qemu, await guestAssets(resolved.arch));
  }

  /** @internal Settles once the VM has stopped and its files are gone, however it ended. */
  get ended(): Promise<void> {
    // A failed cleanup was logged by stop(); the VM has ended all the same.
    return this.#parts.qemu.exited.then(() => this.stop()).catch(() => {});
  }

  /** The QEMU process id (for diagnostics; prefer `stop()` to signals). */
  get pid(): number {
    return this.#parts.qemu.pid;
  }

  get stopped(): boolean {
    return this.#stopping !== undefined || this.#parts.qemu.hasExited;
  }

  /** The last lines the guest printed on its console. */
  consoleTail(lines = 20): string {
    return this.#parts.qemu.consoleTail(lines);
  }

  /**
   * Runs a program and collects its output. A program that does not exist
   * exits with 127 (126 if not executable) and a message on stderr, as in a
   * shell. A timeout kills the whole process group and sets `timedOut`.
   */
  exec(argv: string[], options: ExecOptions & { encoding: "buffer" }): Promise<ExecResult<Buffer>>;
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult<string>>;
  async exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult<string | Buffer>> {
    const child = this.spawn(argv, { ...options, stdin: options.input !== undefined });
    const input = options.input;
    const feeding =
      input === undefined ? Promise.resolve() : pipeline(toReadable(input), child.stdin);
    const [stdout, stderr, status] = await Promise.all([
      collect(child.stdout),
      collect(child.stderr),
      child.wait(),
      feeding,
    ]);
    const decode = (data: Buffer) => (options.encoding === "buffer" ? data : data.toString("utf8"));
    return { ...status, stdout: decode(stdout), stderr: decode(stderr) };
  }

  /** Starts a program with streaming stdio; see `VmProcess`. */
  spawn(argv: string[], options: SpawnOptions = {}): VmProcess {
    const request = execRequest(argv, this.#withExecDefaults(options));
    const tty = request.tty !== null;
    const stdin = options.stdin ?? true;
    const stream = this.#open(
      { ...request, stdin },
      { inbound: tty ? [1] : [1, 2], outbound: stdin ? [0] : [] },
    );
    return new VmProcess(stream, { tty, stdin });
  }

  /** Writes a file in the guest atomically (temp file + rename). */
  async writeFile(
    path: string,
    data: string | Uint8Array | Readable,
    options: WriteFileOptions = {},
  ): Promise<void> {
    const request = {
      op: "writeFile",
      path: guestPath(path),
      mode: options.mode ?? 0o644,
      uid: options.uid ?? 0,
      gid: options.gid ?? 0,
      mkdirs: options.mkdirs ?? false,
    };
    const stream = this.#open(request, { inbound: [], outbound: [0] });
    await stream.opened;
    await pipeline(toReadable(data), stream.outbound(0));
    await stream.result;
  }

  /** Reads a whole file from the guest. */
  readFile(path: string): Promise<Buffer>;
  readFile(path: string, encoding: BufferEncoding): Promise<string>;
  async readFile(path: string, encoding?: BufferEncoding): Promise<Buffer | string> {
    const stream = this.#open(
      { op: "readFile", path: guestPath(path) },
      { inbound: [0], outbound: [] },
    );
    const [data] = await Promise.all([collect(stream.inbound(0)), stream.result]);
    return encoding ? data.toString(encoding) : data;
  }

  /** Opens a TCP connection to `port` inside the guest. */
  async connect(port: number, options: { host?: string } = {}): Promise<GuestSocket> {
    const request = {
      op: "connect",
      port: tcpPort(port, "port"),
      host: options.host ?? "127.0.0.1",
    };
    const stream = this.#open(request, { inbound: [0], outbound: [0] });
    await stream.opened;
    return new GuestSocket(stream, port);
  }

  /**
   * Makes a guest TCP port reachable on the host at 127.0.0.1, on `hostPort`
   * or a free port. Closed automatically when the VM stops.
   */
  async exposeTcp(guestPort: number, options: { hostPort?: number } = {}): Promise<ExposedPort> {
    tcpPort(guestPort, "guestPort");
    const hostPort = options.hostPort ?? 0;
    if (hostPort !== 0) tcpPort(hostPort, "hostPort");
    this.#ensureRunning();
    const exposed = await exposeTcp(() => this.connect(guestPort), hostPort);
    this.#exposed.add(exposed);
    if (!this.#ports.has(guestPort)) this.#ports.set(guestPort, exposed);
    return {
      ...exposed,
      close: async () => {
        this.#exposed.delete(exposed);
        if (this.#ports.get(guestPort) === exposed) this.#ports.delete(guestPort);
        await exposed.close();
      },
    };
  }

  /**
   * The host port (on 127.0.0.1) where `guestPort` is exposed, by `ports` at
   * start or by `exposeTcp()`.
   */
  port(guestPort: number): number {
    const exposed = this.#ports.get(guestPort);
    if (exposed) return exposed.port;
    const known = [...this.#ports.keys()].join(", ") || "none";
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      `Guest port ${guestPort} is not exposed (exposed: ${known}). List it in \`ports\` when ` +
        "starting the VM, or call `vm.exposeTcp()`.",
    );
  }

  /** The image's main process; only VMs started from an image have one. */
  get workload(): WorkloadHandle {
    if (this.#workload) return this.#workload;
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      `VM ${this.id} runs no workload: it was booted as a scratch VM. Start an image ` +
        "(`image.start()`) to get one.",
    );
  }

  /** The workload's output, stdout and stderr interleaved; see `LogOptions`. */
  logs(options: LogOptions = {}): Readable {
    return this.workload.logs(options);
  }

  /**
   * Writes a snapshot of this VM to `dir` (which must not exist) and lets
   * the VM go on. Clones of it start through the same fast path as a baked
   * snapshot: `Snapshot.open(dir)`, then `start()` or `pool()`. The guest is
   * paused while its memory is saved: about a second per GiB in use.
   */
  async snapshot(dir: string): Promise<Snapshot> {
    this.#ensureRunning();
    return snapshotVm(this, this.#parts, this.#origin ?? scratchOrigin, dir);
  }

  /** @internal What a snapshot of this VM records about where it came from. */
  setOrigin(origin: VmOrigin): void {
    this.#origin = origin;
  }

  /** @internal */
  get origin(): VmOrigin | undefined {
    return this.#origin;
  }

  /** @internal */
  get machine(): RunningMachine {
    return this.#parts;
  }

  /**
   * Closes the exposed ports, hands the machine to `save` (which pauses it
   * and writes its state), then stops it: the end of a baked VM.
   * @internal
   */
  freeze(save: (machine: RunningMachine) => Promise<void>): Promise<void> {
    this.#ensureRunning();
    this.#stopping = this.#shutdown(save);
    return this.#stopping;
  }

  /** @internal */
  attachWorkload(workload: WorkloadHandle): void {
    this.#workload = workload;
  }

  /**
   * What `exec` uses when the caller names no user or directory; an image VM
   * sets the image's User and WorkingDir, as `docker exec` uses them.
   * @internal
   */
  setExecDefaults(defaults: { user: string; cwd: string }): void {
    this.#execDefaults = defaults;
  }

  #withExecDefaults(options: SpawnOptions): SpawnOptions {
    const defaults = this.#execDefaults;
    if (!defaults) return options;
    const namesUser =
      options.user !== undefined || options.uid !== undefined || options.gid !== undefined;
    return {
      ...options,
      cwd: options.cwd ?? defaults.cwd,
      ...(namesUser || defaults.user === "" ? {} : { user: defaults.user }),
    };
  }

  /** Always 127.0.0.1: exposed ports listen on loopback only. */
  get host(): string {
    return "127.0.0.1";
  }

  /** Stops the VM and removes its sockets. Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Opens a raw agent stream (docs/protocol.md). Internal: for the image
   * layer (root filesystems, workloads) built on top of `Vm`.
   * @internal
   */
  agentStream(request: Record<string, unknown>, layout: StreamLayout): AgentStream {
    return this.#open(request, layout);
  }

  #open(request: Record<string, unknown>, layout: StreamLayout) {
    this.#ensureRunning();
    return this.#parts.agent.open(request, layout);
  }

  #ensureRunning(): void {
    if (this.stopped) {
      throw new SupermachineError("VM_STOPPED", `VM ${this.id} is stopped; boot a new one.`);
    }
  }

  async #shutdown(save?: (machine: RunningMachine) => Promise<void>): Promise<void> {
    await Promise.all([...this.#exposed].map((exposed) => exposed.close()));
    try {
      if (save) await save(this.#parts);
    } finally {
      await stopMachine(this.#parts);
      this.#log("stopped");
    }
  }
}

function guestPath(path: unknown): string {
  if (typeof path === "string" && path.startsWith("/")) return path;
  return invalidArgument("path", "an absolute guest path", path);
}

function tcpPort(port: unknown, option: string): number {
  if (typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536) return port;
  return invalidArgument(option, "a TCP port number (1-65535)", port);
}

function toReadable(data: string | Uint8Array | Readable): Readable {
  if (data instanceof Readable) return data;
  return Readable.from([typeof data === "string" ? Buffer.from(data) : Buffer.from(data)]);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
