import { Vm } from "../../src/index.js";

/**
 * Settles the accelerator verdict once, before the test files start, so that
 * parallel workers find it cached instead of each running the probe boot.
 */
export default async function setup(): Promise<void> {
  await Vm.accelerator();
}
