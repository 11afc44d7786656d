import { invalidArgument, SupermachineError } from "../errors.js";
import type { MicroVmDeclaration } from "../fixtures/declaration.js";
import type { MicroVm, PresetKey } from "../fixtures/micro-vm.js";
import { ACQUIRE_KEY, type AcquireMicroVm } from "./acquire-key.js";

export type { BakedMicroVm, MicroVmDeclaration } from "../fixtures/declaration.js";
export type { MicroVm, MicroVmHandle } from "../fixtures/micro-vm.js";
export { nginx, postgres, redis } from "../fixtures/presets.js";
export { wait } from "../wait/index.js";
export type { DeclaredImages } from "./images-module.js";

/**
 * A fresh VM of a declared image (by its name in the images module), of an
 * image reference, or of a declaration made here, restored from its snapshot
 * (baked on first use if the global setup did not). The VM is stopped when
 * the test that asked for it ends, even if the test fails or times out; asked
 * for in `beforeAll`, when the file ends. A failing test's error gets the last
 * lines of the VM's output.
 *
 * @example
 * test("creates a user", async () => {
 *   await using pg = await microVm("pg");
 *   const client = new Client(pg.connectionString);
 * });
 */
export async function microVm<C extends string = PresetKey>(
  source: string | MicroVmDeclaration<C>,
): Promise<MicroVm<C>> {
  const acquire = (globalThis as Record<symbol, unknown>)[ACQUIRE_KEY] as AcquireMicroVm;
  if (typeof acquire !== "function") {
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      "microVm() needs supermachine's Jest environment. Set `testEnvironment: " +
        '"supermachine/jest/environment"` in the Jest config, or put a ' +
        "`@jest-environment supermachine/jest/environment` docblock at the top of this file.",
    );
  }
  if (typeof source !== "string" && typeof source?.image !== "string") {
    invalidArgument("source", "a declared name, an image reference or a declaration", source);
  }
  return (await acquire(source)) as MicroVm<C>;
}
