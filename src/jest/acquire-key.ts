import type { MicroVmHandle } from "../fixtures/micro-vm.js";
import type { MicroVmSource } from "../fixtures/micro-vm-source.js";

/**
 * Where the test environment puts, on each test file's global object, the
 * function `microVm()` calls. The environment and the test file load separate
 * copies of this package (Jest gives every test file its own module registry),
 * so they meet on a `Symbol.for` key rather than on a shared module.
 */
export const ACQUIRE_KEY = Symbol.for("supermachine.jest.acquire");

/** A fresh VM for the test that is running, stopped when that test ends. */
export type AcquireMicroVm = (source: MicroVmSource) => Promise<MicroVmHandle>;
