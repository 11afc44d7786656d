import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { BootOptions } from "../boot-options.js";
import { hostGuestArch } from "../engine/guest-arch.js";
import { findQemu } from "../engine/qemu-binary.js";
import { SupermachineError } from "../errors.js";
import { type OciImageConfig, type PullOptions, pullImage } from "../oci/index.js";
import { createRunDir } from "../util/run-dir.js";
import { Vm } from "../vm.js";
import { type LayerBlob, rootfsFor } from "./rootfs.js";
import { resolveWorkload, type WorkloadOverrides } from "./workload.js";
import { WorkloadHandle } from "./workload-handle.js";

const run = promisify(execFile);

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
    const base = await this.prepare(options);

    const dir = await createRunDir("sm-disk-");
    let vm: Vm | undefined;
    try {
      const overlay = await createOverlay(dir, base);
      vm = await Vm.boot({
        memoryMib: options.memoryMib,
        vcpus: options.vcpus,
        bootTimeoutMs: options.bootTimeoutMs,
        graceSeconds: options.graceSeconds,
        hostname: options.hostname,
        disks: [{ path: overlay, format: "qcow2" }],
        kernelArgs: ["supermachine.root=/dev/vda"],
      });
      vm.onStopped(() => rm(dir, { recursive: true, force: true }));
      checkRoot(vm);

      const workload = resolveWorkload(this.config, options, options.hostname ?? "supermachine");
      const started = vm.agentStream(
        { op: "startWorkload", ...workload },
        { inbound: [], outbound: [] },
      );
      const { pid } = await started.result;
      const stopSignal = (this.config.stopSignal || "SIGTERM") as NodeJS.Signals;
      vm.attachWorkload(new WorkloadHandle(vm, Number(pid), stopSignal));
      vm.setExecDefaults({ user: workload.user, cwd: workload.cwd });

      for (const port of options.ports ?? exposedTcpPorts(this.config)) await vm.exposeTcp(port);
      return vm;
    } catch (error) {
      if (vm) await vm.stop();
      else await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }
}

function exposedTcpPorts(config: OciImageConfig): number[] {
  return config.exposedPorts
    .filter((entry) => !entry.endsWith("/udp"))
    .map((entry) => Number.parseInt(entry, 10))
    .filter((port) => port > 0 && port < 65536);
}

/** A per-VM copy-on-write qcow2 over the read-only base, deleted on stop. */
async function createOverlay(dir: string, base: string): Promise<string> {
  const qemu = await findQemu(hostGuestArch());
  const qemuImg = join(dirname(qemu.path), "qemu-img");
  const overlay = join(dir, "rootfs.qcow2");
  await run(qemuImg, ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, overlay]);
  return overlay;
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
