export type { BakedMicroVm, MicroVmDeclaration } from "../fixtures/declaration.js";
export type { MicroVm, MicroVmHandle } from "../fixtures/micro-vm.js";
export { nginx, postgres, redis } from "../fixtures/presets.js";
export { wait } from "../wait/index.js";
export { type MicroVmFixtureOptions, microVm } from "./micro-vm.js";
export { type SupermachinePluginOptions, supermachine } from "./plugin.js";
