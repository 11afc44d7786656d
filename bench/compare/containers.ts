// The testcontainers side: a fresh container per test from the real
// `testcontainers` package, on the benchmark's own Docker engine.
import { readFile } from "node:fs/promises";
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import { freePort } from "../../test/oci/support/free-port.js";
import { parentOf, processTree } from "../support/proc-memory.js";
import type { Service, ServiceName } from "./services.js";
import type { Instance, System } from "./system.js";

export class Containers {
  readonly #references: Map<ServiceName, string>;

  /** `references`: the image each service runs, in the loopback registry. */
  constructor(references: Map<ServiceName, string>) {
    this.#references = references;
  }

  /** Pulls the service's image into the engine; returns how long it took. */
  async pull(service: Service): Promise<number> {
    const client = await getContainerRuntimeClient();
    const started = performance.now();
    await client.image.pull(ImageName.fromString(this.#reference(service)));
    return performance.now() - started;
  }

  readonly docker: System = {
    name: "docker",
    start: (service) => this.#start(service),
    settle: async () => {},
  };

  async #start(service: Service): Promise<Instance> {
    const port = await freePort();
    const container = await service
      .container(this.#reference(service), port)
      .withNetworkMode("host")
      // No reaper: its image cannot be pulled here, and the benchmark
      // removes every container and the engine itself at the end.
      .withAutoCleanup(false)
      .start();
    return {
      address: { host: "127.0.0.1", port },
      processes: () => containerProcesses(container.getId()),
      // testcontainers' default teardown: stop (SIGKILL after 0 s), remove.
      stop: async () => {
        await container.stop();
      },
    };
  }

  #reference(service: Service): string {
    const reference = this.#references.get(service.name);
    if (!reference) throw new Error(`no image for ${service.name}`);
    return reference;
  }
}

/**
 * The processes of a container as the host sees them: its init and all
 * below it, and the containerd shim that supervises it, which each
 * container has to itself.
 */
async function containerProcesses(id: string): Promise<Record<string, number[]>> {
  const client = await getContainerRuntimeClient();
  const { State } = await client.container.inspect(client.container.getById(id));
  const container = await processTree(State.Pid);
  const shim = await parentOf(State.Pid);
  const shimName = await readFile(`/proc/${shim}/comm`, "utf8");
  if (!shimName.startsWith("containerd-shim")) {
    throw new Error(`container ${id}: the parent of pid ${State.Pid} is ${shimName.trim()}`);
  }
  return { container, shim: [shim] };
}
