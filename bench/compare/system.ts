// What the measurements need from either system: start a fresh instance of
// a service, and know its address, its host processes and how to end it.
import type { Address } from "../support/service-clients.js";
import type { Service } from "./services.js";

export type SystemName = "pool" | "clone" | "docker";

export interface Instance {
  address: Address;
  /**
   * The host processes that make up this instance, for its memory, by
   * part: `{ qemu: [pid] }`, `{ container: [...], shim: [pid] }`.
   */
  processes(): Promise<Record<string, number[]>>;
  /** Ends the instance as a test's teardown would. */
  stop(): Promise<void>;
}

export interface System {
  name: SystemName;
  start(service: Service): Promise<Instance>;
  /**
   * Untimed, after a sample: waits for work the sample left running in the
   * background (a pool restoring clones), so that it does not slow down the
   * next sample of another system.
   */
  settle(service: Service): Promise<void>;
}
