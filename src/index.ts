export type { HelloAck } from "./agent/agent-client.js";
export type { BootOptions } from "./boot-options.js";
export type { AcceleratorVerdict } from "./engine/accelerator.js";
export type { Accelerator, DiskSpec } from "./engine/machine.js";
export type { ErrorCode } from "./errors.js";
export { SupermachineError } from "./errors.js";
export type { ExecOptions, ExecResult, SpawnOptions } from "./exec-options.js";
export type { ExposedPort } from "./exposed-port.js";
export type { MicroVmDeclaration } from "./fixtures/declaration.js";
export type { MicroVm, MicroVmHandle } from "./fixtures/micro-vm.js";
export { nginx, postgres, redis } from "./fixtures/presets.js";
export type { GuestSocket } from "./guest-socket.js";
export { Image, type ImagePullOptions, type StartOptions } from "./image/image.js";
export type { WorkloadOverrides } from "./image/workload.js";
export type { LogOptions, WorkloadExit, WorkloadHandle } from "./image/workload-handle.js";
export type { OciImageConfig } from "./oci/index.js";
export type { BakeOptions, BakeProgress } from "./snapshot/bake.js";
export { type HashDirectoryOptions, hashDirectory } from "./snapshot/hash-directory.js";
export type { SnapshotManifest } from "./snapshot/manifest.js";
export type { AcquireOptions, Pool, PoolOptions, PoolStats } from "./snapshot/pool.js";
export { type CloneOptions, Snapshot } from "./snapshot/snapshot.js";
export type { WriteFileOptions } from "./vm.js";
export { Vm } from "./vm.js";
export type { ExitStatus, VmProcess } from "./vm-process.js";
export {
  type HttpWaitOptions,
  type WaitDescription,
  type WaitStrategy,
  wait,
} from "./wait/index.js";
