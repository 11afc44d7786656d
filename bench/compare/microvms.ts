// The supermachine side: one snapshot per service, baked once, and two
// ways for a test to get a fresh VM from it: a clone started on demand
// (snap.start()) and a paused clone from a warm pool (pool.acquire()).
import { join } from "node:path";
import { Image, type Pool, type Snapshot, type Vm } from "../../src/index.js";
import { readyWithin } from "../support/pool-ready.js";
import type { Service, ServiceName } from "./services.js";
import type { Instance, System } from "./system.js";

export interface BakeCost {
  /** Image.pull() into an empty store. */
  pullMs: number;
  /** image.prepare(): the root filesystem, built in a VM. */
  rootfsMs: number;
  /** Image.bake(): boot, wait until ready, freeze. */
  bakeMs: number;
}

const POOL_READY_TIMEOUT_MS = 300_000;

export class MicroVms {
  readonly #snapshots = new Map<ServiceName, Snapshot>();
  readonly #pools = new Map<ServiceName, Pool<Vm>>();
  readonly #poolSize: number;

  /** `poolSize`: paused clones kept per service, enough for the parallel tests. */
  constructor(poolSize: number) {
    this.#poolSize = poolSize;
  }

  /** Pulls, prepares and bakes `service` into `dir`, timing each step; starts its pool. */
  async bake(service: Service, reference: string, dir: string): Promise<BakeCost> {
    let started = performance.now();
    const image = await Image.pull(reference);
    const pullMs = performance.now() - started;

    started = performance.now();
    await image.prepare();
    const rootfsMs = performance.now() - started;

    started = performance.now();
    const dirForService = join(dir, service.name);
    const snapshot = await Image.bake(image, { ...service.bake, dir: dirForService });
    const bakeMs = performance.now() - started;

    this.#snapshots.set(service.name, snapshot);
    const size = this.#poolSize;
    this.#pools.set(service.name, snapshot.pool({ min: size, max: size }));
    return { pullMs, rootfsMs, bakeMs };
  }

  readonly clone: System = {
    name: "clone",
    start: async (service) => vmInstance(await this.#snapshot(service).start(), service),
    settle: async () => {},
  };

  readonly pool: System = {
    name: "pool",
    start: async (service) => {
      const pool = this.#pool(service);
      const vm = await pool.acquire();
      return { ...vmInstance(vm, service), stop: () => pool.release(vm) };
    },
    settle: (service) => readyWithin(this.#pool(service), POOL_READY_TIMEOUT_MS),
  };

  /** Stops every pool and the clones in it. */
  async closePools(): Promise<void> {
    await Promise.allSettled([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }

  #snapshot(service: Service): Snapshot {
    const snapshot = this.#snapshots.get(service.name);
    if (!snapshot) throw new Error(`${service.name} was not baked`);
    return snapshot;
  }

  #pool(service: Service): Pool<Vm> {
    const pool = this.#pools.get(service.name);
    if (!pool) throw new Error(`${service.name} has no pool (not baked, or closed)`);
    return pool;
  }
}

function vmInstance(vm: Vm, service: Service): Instance {
  return {
    address: { host: vm.host, port: vm.port(service.guestPort) },
    // One QEMU process is the whole VM: guest RAM, devices, disk.
    processes: async () => ({ qemu: [vm.pid] }),
    stop: () => vm.stop(),
  };
}
