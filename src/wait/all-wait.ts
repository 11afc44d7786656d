import type { Vm } from "../vm.js";
import type { WaitStrategy } from "./wait-strategy.js";

/** Ready when every one of `strategies` is, checked in order. */
export function forAll(strategies: WaitStrategy[]): WaitStrategy {
  return {
    description: { kind: "all", strategies: strategies.map((strategy) => strategy.description) },
    waitUntilReady: async (vm: Vm) => {
      for (const strategy of strategies) await strategy.waitUntilReady(vm);
    },
  };
}
