import { inject, type TestContext } from "vitest";
import type { MicroVmDeclaration } from "../fixtures/declaration.js";
import type { MicroVm, MicroVmHandle, PresetKey } from "../fixtures/micro-vm.js";
import { acquireMicroVm } from "../fixtures/micro-vm-source.js";
import { PROVIDED_KEY } from "./declarations.js";

export interface MicroVmFixtureOptions {
  /**
   * `test` (default): a fresh VM for every test. `file`: one VM shared by
   * the tests of a file. `worker`: one per worker process.
   */
  scope?: "test" | "file" | "worker";
}

type Use<T> = (value: T) => Promise<void>;

/** A Vitest fixture function that provides a `MicroVm`. */
export type MicroVmFixture<C extends string> = (
  context: TestContext,
  use: Use<MicroVm<C>>,
) => Promise<void>;

/**
 * A fixture for `test.extend`: each test (or file, or worker) gets a fresh VM
 * of the named image, restored from its snapshot, and destroyed afterwards
 * even if the test fails or times out. A failing test's error gets the last
 * lines of the VM's output.
 *
 * @example
 * const test = base.extend({ pg: microVm("pg") });
 * test("creates a user", async ({ pg }) => {
 *   const client = new Client(pg.connectionString);
 * });
 */
export function microVm<C extends string = PresetKey>(
  source: string | MicroVmDeclaration<C>,
): MicroVmFixture<C>;
export function microVm<C extends string = PresetKey>(
  source: string | MicroVmDeclaration<C>,
  options: MicroVmFixtureOptions,
): [MicroVmFixture<C>, { scope: "test" | "file" | "worker" }];
export function microVm<C extends string = PresetKey>(
  source: string | MicroVmDeclaration<C>,
  options?: MicroVmFixtureOptions,
) {
  const scope = options?.scope ?? "test";
  const acquire = () => acquireMicroVm<C>(source, inject(PROVIDED_KEY) ?? {});

  const perTest = async ({ task }: TestContext, use: Use<MicroVm<C>>) => {
    const handle = await acquire();
    try {
      await use(handle);
      // Vitest runs onTestFailed hooks after fixtures are torn down, when the
      // VM is gone; here the test's result is known and the VM still runs.
      if (task.result?.state === "fail") await noteOutput(task.result.errors ?? [], handle);
    } finally {
      await handle.stop();
    }
  };

  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads a fixture's dependencies from this pattern
  const shared = async ({}, use: Use<MicroVm<C>>) => {
    const handle = await acquire();
    try {
      await use(handle);
    } finally {
      await handle.stop();
    }
  };

  // A bare function lets Vitest infer the fixture's type; a tuple does not,
  // so only a non-default scope takes the tuple form.
  if (!options) return perTest;
  return [scope === "test" ? perTest : shared, { scope }];
}

/** Appends the VM's last output to the test's errors, where the reporter shows them. */
async function noteOutput(errors: { message: string }[], handle: MicroVmHandle): Promise<void> {
  const tail = await handle.logTail();
  if (!tail) return;
  const note = `\n\nLast output of microVM "${handle.name}":\n${tail}`;
  for (const error of errors) error.message += note;
}
