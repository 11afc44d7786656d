import { join } from "node:path";
import type { BootOptions } from "../boot-options.js";
import { hostGuestArch } from "../engine/guest-arch.js";
import type { MemoryFile } from "../engine/machine.js";
import { createOverlay } from "../engine/qemu-img.js";
import { SupermachineError } from "../errors.js";
import { type OciImageConfig, type PullOptions, pullImage } from "../oci/index.js";
import { type BakeOptions, bakeImage } from "../snapshot/bake.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { Vm } from "../vm.js";
import { type LayerBlob, rootfsFor } from "./rootfs.js";
import { resolveWorkload, type WorkloadOverrides } from "./workload.js";
import { WorkloadHandle } from "./workload-handle.js";

export type ImagePullOptions = Omit<PullOptions, "arch" | "store" | "retry">;

/** What the image layer needs from a pulled image. */
export interface ImageContent {
  reference: string;
  manifestDigest: string;
  config: OciImageConfig;
  layers: LayerBlob[];
}

export interface StartOptions
  extends WorkloadOverrides,
    Pick<BootOptions, "memoryMib" | "vcpus" | "bootTimeoutMs" | "graceSeconds" | "hostname"> {
  /**
   * Guest TCP ports to expose on 127.0.0.1; read the host side with
   * `vm.port()`. Default: the image's ExposedPorts.
   */
  ports?: number[];
  /** Size of the root filesystem disk; see `rootfsFor`. */
  diskSizeMib?: number;
}

/**
 * An OCI image whose layers are in the local store. `start()` boots a VM whose
 * root is the image's filesystem and runs its Entrypoint + Cmd as `docker run`
 * would.
 */
export class Image {
  readonly reference: string;
  readonly digest: string;
  readonly config: ImageContent["config"];
  readonly #content: ImageContent;

  constructor(content: ImageContent) {
    this.#content = content;
    this.reference = content.reference;
    this.digest = content.manifestDigest;
    this.config = content.config;
  }

  /**
   * Pulls `reference` (a registry reference such as `redis:7` or
   * `127.0.0.1:5000/x@sha256:…`, `oci:<dir>[:tag]`, or
   * `docker-archive:<file.tar>`) into the local store for the host's guest
   * architecture.
   */
  static async pull(reference: string, options: ImagePullOptions = {}): Promise<Image> {
    const pulled = await pullImage(reference, { arch: hostGuestArch(), ...options });
    return new Image(pulled);
  }

  /** The image's ExposedPorts that are TCP, as numbers. */
  get exposedPorts(): number[] {
    return exposedTcpPorts(this.config);
  }

  /**
   * Builds the image's root filesystem now (once per manifest digest; later
   * calls and starts reuse it) and returns its path. `start()` does this by
   * itself; call it ahead to keep the first start fast.
   */
  prepare(options: Pick<StartOptions, "diskSizeMib"> = {}): Promise<string> {
    const { manifestDigest, layers } = this.#content;
    return rootfsFor(manifestDigest, layers, { diskSizeMib: options.diskSizeMib });
  }

  async start(options: StartOptions = {}): Promise<Vm> {
    return this.launch(options, { base: await this.prepare(options) });
  }

  /**
   * Bakes a snapshot of this image with its service ready; see `bakeImage`.
   */
  bake(options: BakeOptions = {}): Promise<Snapshot> {
    return bakeImage(this, options);
  }

  /**
   * Pulls `reference` (unless given an `Image`) and bakes a snapshot of it:
   * boot, start the workload, wait until ready, run `setup`, freeze. The
   * snapshot is cached by everything that decides its content, so the next
   * call returns it at once.
   *
   * @example
   * const snap = await Image.bake("postgres:15", {
   *   env: { POSTGRES_PASSWORD: "pw" },
   *   ports: [5432],
   *   waitFor: wait.forLog(/ready to accept connections/, 2),
   * });
   */
  static async bake(
    reference: string | Image,
    options: BakeOptions & { pull?: ImagePullOptions } = {},
  ): Promise<Snapshot> {
    const image =
      typeof reference === "string" ? await Image.pull(reference, options.pull) : reference;
    return image.bake(options);
  }

  /**
   * Boots the image on `machine.disk` (a qcow2 whose chain ends in the
   * image's base) and starts its workload. `start` and bakes share it.
   * @internal
   */
  async launch(options: StartOptions, machine: LaunchMachine): Promise<Vm> {
    const vm = await Vm.boot(
      {
        memoryMib: options.memoryMib,
        vcpus: options.vcpus,
        bootTimeoutMs: options.bootTimeoutMs,
        graceSeconds: options.graceSeconds,
        hostname: options.hostname,
        kernelArgs: ["supermachine.root=/dev/vda"],
      },
      {
        memoryFile: machine.memoryFile,
        // By default a per-VM copy-on-write qcow2 over the read-only base, in
        // the VM's run directory, so it goes when the VM does.
        disksIn: async (runDir) => {
          const disk = machine.disk ?? join(runDir, "rootfs.qcow2");
          if (!machine.disk) await createOverlay(hostGuestArch(), disk, machine.base, "raw");
          return [{ path: disk, format: "qcow2" }];
        },
      },
    );
    try {
      checkRoot(vm);

      const workload = resolveWorkload(this.config, options, options.hostname ?? "supermachine");
      const started = vm.agentStream(
        { op: "startWorkload", ...workload },
        { inbound: [], outbound: [] },
      );
      const pid = Number((await started.result).pid);
      const stopSignal = this.config.stopSignal || "SIGTERM";
      vm.attachWorkload(new WorkloadHandle(vm, pid, stopSignal as NodeJS.Signals));
      vm.setExecDefaults({ user: workload.user, cwd: workload.cwd });

      const ports = options.ports ?? this.exposedPorts;
      vm.setOrigin({
        image: { reference: this.reference, manifestDigest: this.digest },
        base: machine.base,
        workload: { pid, argv: workload.argv, user: workload.user, cwd: workload.cwd, stopSignal },
        ports,
        wait: null,
        setupKey: null,
        key: null,
      });
      for (const port of ports) await vm.exposeTcp(port);
      return vm;
    } catch (error) {
      await vm.stop();
      throw error;
    }
  }
}

/** The disk and memory an image VM runs on. */
export interface LaunchMachine {
  /** The image's raw root filesystem. */
  base: string;
  /** A qcow2 over `base` for the VM to write; default a new one per VM. */
  disk?: string;
  memoryFile?: MemoryFile;
}

function exposedTcpPorts(config: OciImageConfig): number[] {
  return config.exposedPorts
    .filter((entry) => !entry.endsWith("/udp"))
    .map((entry) => Number.parseInt(entry, 10))
    .filter((port) => port > 0 && port < 65536);
}

function checkRoot(vm: Vm): void {
  const rootErr = vm.agentInfo.rootErr;
  if (rootErr) {
    throw new SupermachineError(
      "GUEST_ERROR",
      `The guest could not mount the image's root filesystem: ${rootErr}`,
    );
  }
}
