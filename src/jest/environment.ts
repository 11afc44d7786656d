import type { EnvironmentContext, JestEnvironmentConfig } from "@jest/environment";
import type { Circus } from "@jest/types";
import { acquireMicroVm, closeMicroVmPools } from "../fixtures/micro-vm-source.js";
import { ACQUIRE_KEY, type AcquireMicroVm } from "./acquire-key.js";
import { bakedImagesOf } from "./images-module.js";
import { type NodeEnvironmentClass, nodeEnvironmentOf } from "./node-environment.js";
import { TestMicroVms } from "./test-micro-vms.js";

/**
 * The Jest test environment: Node's, plus `microVm()` for the tests. A VM
 * asked for in a test (or its `beforeEach`/`afterEach`) is stopped when the
 * test ends, one asked for in `beforeAll` when the file ends; a failing
 * test's error gets the last lines of its VMs' output. The VMs come from warm
 * pools of the snapshots the global setup baked, closed when the file ends.
 *
 * It extends the `jest-environment-node` of the Jest that runs it, known
 * only from the config this constructor gets; so the constructor returns an
 * instance of that subclass, and this class itself cannot be extended.
 */
export default class SupermachineEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    const Environment = environmentOn(nodeEnvironmentOf(config.projectConfig.testRunner));
    // biome-ignore lint/correctness/noConstructorReturn: the base class is chosen from the config
    return new Environment(config, context);
  }
}

const environments = new Map<NodeEnvironmentClass, NodeEnvironmentClass>();

function environmentOn(Base: NodeEnvironmentClass): NodeEnvironmentClass {
  let Environment = environments.get(Base);
  if (!Environment) {
    Environment = supermachineEnvironment(Base);
    environments.set(Base, Environment);
  }
  return Environment;
}

function supermachineEnvironment(Base: NodeEnvironmentClass) {
  return class SupermachineEnvironment extends Base {
    readonly #vms = new TestMicroVms();

    constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
      super(config, context);
      const baked = bakedImagesOf(config.projectConfig);
      const acquire: AcquireMicroVm = async (source) => {
        const owner = this.#vms.owner();
        const handle = await acquireMicroVm(source, baked);
        this.#vms.add(owner, handle);
        return handle;
      };
      this.global[ACQUIRE_KEY] = acquire;
      shareDisposeSymbols(this.global.Symbol);
    }

    async handleTestEvent(event: Circus.Event): Promise<void> {
      switch (event.name) {
        case "test_start":
          this.#vms.startTest();
          break;
        case "test_fn_failure":
        case "hook_failure":
          await this.#vms.describeFailure(event.error);
          break;
        case "test_done":
          await this.#vms.endTest();
          break;
      }
    }

    override async teardown(): Promise<void> {
      try {
        await this.#vms.endFile();
        await closeMicroVmPools();
      } finally {
        await super.teardown();
      }
    }
  };
}

// Handles are made outside the test's realm and disposed of with this
// realm's Symbol.asyncDispose; Jest 30 puts the symbols into the test's
// realm, Jest 29 does not, and `await using` there needs them.
function shareDisposeSymbols(sandbox: SymbolConstructor): void {
  const symbols = sandbox as { -readonly [K in "asyncDispose" | "dispose"]?: symbol };
  symbols.asyncDispose ??= Symbol.asyncDispose;
  symbols.dispose ??= Symbol.dispose;
}
